"""One lm-eval run: a model, a set of spin-bench task configs, the paper's harness settings.

lm-eval does the work (prompts, few-shot sampling, filters, metrics); this module only builds its model
object with the v0.4.0 settings (no BOS token), runs it, and saves lm-eval's own results JSON and per-sample
logs the way its CLI does.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.core.atomic import publish_directory
from spin_bench.core.enums import Backend, Precision
from spin_bench.core.errors import UserError
from spin_bench.inference.checkpoints import cuda_available, resolve_precision

# lm-eval's CLI defaults (--seed 0,1234,1234,1234); parity with the CLI depends on them.
SEEDS = {"random_seed": 0, "numpy_random_seed": 1234, "torch_random_seed": 1234, "fewshot_random_seed": 1234}


@dataclass(frozen=True)
class EvalSettings:
    """How lm-eval runs the model; made from the bench section (BenchConfig.eval_settings)."""

    backend: Backend = Backend.HF
    batch_size: int = 8
    precision: Precision = Precision.AUTO  # auto: bfloat16 on a GPU, float32 on CPU
    limit: float | None = None  # lm-eval --limit: an item count, or a fraction below 1
    max_gen_toks: int | None = None  # cap generation length (a deviation from the tasks' settings)
    tensor_parallel_size: int = 1  # vllm
    data_parallel_size: int = 1  # vllm

    # The paper's harness (v0.4.0) never added a BOS token; lm-eval >= 0.4.9.2 does by default for Llama.
    add_bos: bool = False

    def resolved_dtype(self) -> str:
        """The dtype lm-eval loads the model in, as the store records it ("float32", "bfloat16")."""
        return resolve_precision(self.precision).torch_name

    def deviations(self) -> list[str]:
        notes = []
        if self.limit is not None:
            notes.append(f"--limit {self.limit:g}: only the first items of each task were scored")
        if self.max_gen_toks is not None:
            notes.append(f"generation capped at {self.max_gen_toks} new tokens (the tasks' own limits are higher)")
        return notes


def build_lm(model_path: str, settings: EvalSettings, revision: str | None = None):
    """lm-eval's own model class for the backend, with add_bos_token as the paper's harness had it."""
    if settings.backend is Backend.VLLM:
        try:
            from lm_eval.models.vllm_causallms import VLLM
        except ImportError:
            raise UserError("--backend vllm needs vLLM (a GPU and pip install 'spin-bench[vllm]')") from None
        return VLLM(pretrained=model_path, revision=revision, dtype=settings.resolved_dtype(),
                    batch_size="auto", add_bos_token=settings.add_bos,
                    tensor_parallel_size=settings.tensor_parallel_size,
                    data_parallel_size=settings.data_parallel_size)
    from lm_eval.models.huggingface import HFLM

    device = "cuda" if cuda_available() else "cpu"
    try:
        return HFLM(pretrained=model_path, revision=revision, dtype=settings.resolved_dtype(),
                    batch_size=settings.batch_size, add_bos_token=settings.add_bos, device=device)
    except OSError as err:
        raise UserError(f"{model_path}: cannot load a model ({str(err).splitlines()[0]})") from None


@dataclass(frozen=True)
class LoadedTasks:
    """lm-eval's task (and group) objects for some task names of one task directory, and the manager that
    loaded them. Loaded once per `spin-bench eval` call and run against every model: each run starts by
    reseeding every task's few-shot sampler and rebuilding its requests (simple_evaluate and evaluate do),
    so nothing of one model's run reaches the next."""

    manager: Any
    objects: tuple[Any, ...]  # in the order of the names, as lm-eval would have loaded them


def load_tasks(task_names: list[str], task_dir: Path) -> LoadedTasks:
    """The objects lm-eval builds from ``task_names`` (YAML, datasets, samplers), built once."""
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(task_dir), include_defaults=False)
    objects = []
    for name in task_names:
        loaded = manager.load([name])
        # A group (MMLU) comes back with its subtasks; a name that is neither (a tag) stays a name,
        # which lm-eval loads again on each run.
        objects.append(loaded["groups"].get(name) or loaded["tasks"].get(name) or name)
    return LoadedTasks(manager, tuple(objects))


def run_tasks(lm, tasks: LoadedTasks, settings: EvalSettings, requests_cache: Path | None = None) -> dict[str, Any]:
    """simple_evaluate over spin-bench's task configs; the returned dict includes per-sample logs.

    ``requests_cache``: a directory private to this `spin-bench eval` call where lm-eval's own request
    cache (``cache_requests``) keeps every task's requests, few-shot contexts included, as the first model
    built them; later models load them instead of building them again. lm-eval keys those files by task
    name and shots only, so the directory must not outlive the call's task configs, data and lm-eval.
    """
    import lm_eval

    gen_kwargs = f"max_gen_toks={settings.max_gen_toks}" if settings.max_gen_toks else None
    with _requests_cache_at(requests_cache):
        return lm_eval.simple_evaluate(
            model=lm,
            tasks=list(tasks.objects),
            task_manager=tasks.manager,
            limit=settings.limit,
            log_samples=True,
            gen_kwargs=gen_kwargs,
            cache_requests=requests_cache is not None,
            **SEEDS,
        )


@contextlib.contextmanager
def _requests_cache_at(directory: Path | None) -> Iterator[None]:
    """Point lm-eval's request cache at ``directory`` for the block. Its one setting is a module global
    read from $LM_HARNESS_CACHE_PATH when lm_eval is first imported, which is too early to name a
    per-call directory."""
    if directory is None:
        yield
        return
    from lm_eval.caching import cache

    directory.mkdir(parents=True, exist_ok=True)
    saved, cache.PATH = cache.PATH, str(directory)
    try:
        yield
    finally:
        cache.PATH = saved


def save_results(results: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """lm-eval's results JSON and samples_<task>.jsonl files, written by lm-eval's own EvaluationTracker
    into a scratch directory that replaces ``directory`` only when complete. Returns (results file, dir)."""
    from lm_eval.loggers import EvaluationTracker

    scratch = directory.with_name(f".{directory.name}.partial")
    shutil.rmtree(scratch, ignore_errors=True)
    tracker = EvaluationTracker(output_path=str(scratch))
    tracker.general_config_tracker.model_name_sanitized = ""  # files go straight into ``directory``
    samples = results.get("samples", {})
    aggregated = {k: v for k, v in results.items() if k != "samples"}
    tracker.save_results_aggregated(results=aggregated, samples=samples)
    for task in results.get("configs", {}):
        if task in samples:
            tracker.save_results_samples(task_name=task, samples=samples[task])
    publish_directory(scratch, directory)
    found = sorted(directory.glob("results_*.json"))
    return found[-1], directory
