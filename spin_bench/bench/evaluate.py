"""`spin-bench eval`: models x suites -> lm-eval -> results store, never redoing finished work.

An evaluation is keyed by the model's content hash, the exact task configs, the data's content and the
run settings. A key already in the store returns the stored scores without loading the model; a changed
checkpoint, config or data gets a new key and is evaluated again.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from spin_bench.bench.runner import (
    SEEDS,
    EvalSettings,
    LoadedTasks,
    build_lm,
    load_tasks,
    run_tasks,
    save_results,
)
from spin_bench.bench.scores import score_records
from spin_bench.bench.suites import TaskSpec
from spin_bench.bench.taskdir import (
    BenchData,
    lm_eval_name,
    location_free,
    task_configs,
    write_task_dir,
)
from spin_bench.core.hashing import stable_hash
from spin_bench.core.paths import safe_name
from spin_bench.inference.models import ModelRef
from spin_bench.store import EvaluationRecord, ResultsStore
from spin_bench.store.cache import SuiteOutcome, lookup_outcome, store_key_for


def lm_eval_version() -> str:
    from importlib.metadata import version

    return version("lm-eval")


def eval_key(model: ModelRef, suite: str, specs: tuple[TaskSpec, ...], data: BenchData, settings: EvalSettings) -> str:
    return stable_hash({
        "model": model.model_hash, "suite": suite, "configs": location_free(task_configs(specs, data), data), "data": data.content_hash(),
        "settings": asdict(settings), "dtype": settings.resolved_dtype(), "lm_eval": lm_eval_version(), "seeds": SEEDS,
    })


def evaluate(models: list[ModelRef], suites: dict[str, tuple[TaskSpec, ...]], data: BenchData,
             settings: EvalSettings, store: ResultsStore, out_root: Path, work_root: Path,
             force: bool = False) -> list[SuiteOutcome]:
    """Evaluate every model on every suite, one lm-eval run per model for all suites it still lacks."""
    outcomes = []
    with _task_cache(work_root, settings) as tasks:
        for model in models:
            keys = {suite: eval_key(model, suite, specs, data, settings) for suite, specs in suites.items()}
            missing = {}
            for suite, key in keys.items():
                if (hit := lookup_outcome(store, key, model, suite, force)) is not None:
                    outcomes.append(hit)
                else:
                    missing[suite] = suites[suite]
            if missing:
                outcomes.extend(_run_model(model, missing, keys, data, settings, store, out_root, tasks, force))
    return outcomes


class _TaskCache:
    """lm-eval's task objects, loaded once per call for each set of tasks, and (without a limit) one request
    cache for the call, so the second and later models neither reload the tasks nor rebuild their few-shot
    contexts. Each model's run still reseeds and re-reads them as lm-eval does (runner.LoadedTasks)."""

    def __init__(self, work_root: Path, requests_root: Path | None) -> None:
        self.work_root = work_root
        self.requests_root = requests_root
        self._loaded: dict[tuple[Path, tuple[str, ...]], LoadedTasks] = {}

    def get(self, specs: tuple[TaskSpec, ...], data: BenchData) -> tuple[Path, LoadedTasks, Path | None]:
        """The task directory, its loaded tasks, and the request cache directory (None: off)."""
        task_dir = write_task_dir(specs, data, self.work_root / "lm-eval-tasks")
        names = tuple(lm_eval_name(s) for s in specs)
        if (task_dir, names) not in self._loaded:
            self._loaded[(task_dir, names)] = load_tasks(list(names), task_dir)
        # One request cache per task directory: lm-eval names its files by task name and shots only.
        requests = self.requests_root / task_dir.name if self.requests_root is not None else None
        return task_dir, self._loaded[(task_dir, names)], requests


@contextlib.contextmanager
def _task_cache(work_root: Path, settings: EvalSettings) -> Iterator[_TaskCache]:
    """A task cache for one call, its request cache deleted with it. With a limit there is none: lm-eval's
    request cache builds every document's requests to keep them all, more work than it saves on a few items."""
    if settings.limit is not None:
        yield _TaskCache(work_root, None)
        return
    with tempfile.TemporaryDirectory(prefix="spin-bench-requests-") as scratch:
        yield _TaskCache(work_root, Path(scratch))


def _run_model(model, suites, keys, data, settings, store, out_root, tasks, force) -> list[SuiteOutcome]:
    specs = tuple(spec for specs in suites.values() for spec in specs)
    started = time.perf_counter()  # the first model's seconds include loading the tasks, as they always did
    task_dir, loaded, requests = tasks.get(specs, data)
    lm = build_lm(model.path, settings, revision=model.revision)
    results = run_tasks(lm, loaded, settings, requests)
    seconds = time.perf_counter() - started
    directory = out_root / safe_name(model.label) / stable_hash(sorted(keys[s] for s in suites), length=12)
    results_file, samples_dir = save_results(results, directory.absolute())
    outcomes = []
    for suite, suite_specs in suites.items():
        scores = [r for spec in suite_specs for r in score_records(results, spec, data, settings.deviations())]
        key = store_key_for(store, keys[suite], model.label, force)
        record = _record(model, suite, key, settings, results, results_file, samples_dir,
                         {"task_dir": str(task_dir), "seconds": seconds, "tasks": [s.name for s in suite_specs]})
        store.add(record, scores)
        outcomes.append(SuiteOutcome(model, suite, key, False, scores, seconds))
    return outcomes


def _record(model: ModelRef, suite: str, key: str, settings: EvalSettings, results: dict[str, Any],
            results_file: Path, samples_dir: Path, extra: dict[str, Any]) -> EvaluationRecord:
    return EvaluationRecord(
        eval_key=key, model_path=model.path, model_hash=model.model_hash, label=model.label,
        iteration=model.iteration, suite=suite, backend=settings.backend.value, dtype=settings.resolved_dtype(),
        batch_size=settings.batch_size, limit=settings.limit, add_bos=settings.add_bos,
        chat_template_hash=results.get("chat_template_sha"), lm_eval_version=lm_eval_version(),
        results_path=str(results_file), samples_path=str(samples_dir),
        extra={**model.extra, **extra, "max_gen_toks": settings.max_gen_toks,
               "transformers_version": results.get("transformers_version")},
    )
