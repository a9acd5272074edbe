"""`spin-bench eval`: models x suites -> lm-eval -> results store, never redoing finished work.

An evaluation is keyed by the model's content hash, the exact task configs, the data's content and the
run settings. A key already in the store returns the stored scores without loading the model; a changed
checkpoint, config or data gets a new key and is evaluated again.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from spin_bench.bench.runner import (
    SEEDS,
    EvalSettings,
    build_lm,
    run_tasks,
    save_results,
)
from spin_bench.bench.scores import score_records
from spin_bench.bench.suites import TaskSpec
from spin_bench.bench.taskdir import (
    BenchData,
    lm_eval_name,
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
        "model": model.model_hash, "suite": suite, "configs": task_configs(specs, data), "data": data.content_hash(),
        "settings": asdict(settings), "dtype": settings.resolved_dtype(), "lm_eval": lm_eval_version(), "seeds": SEEDS,
    })


def evaluate(models: list[ModelRef], suites: dict[str, tuple[TaskSpec, ...]], data: BenchData,
             settings: EvalSettings, store: ResultsStore, out_root: Path, work_root: Path,
             force: bool = False) -> list[SuiteOutcome]:
    """Evaluate every model on every suite, one lm-eval run per model for all suites it still lacks."""
    outcomes = []
    for model in models:
        keys = {suite: eval_key(model, suite, specs, data, settings) for suite, specs in suites.items()}
        missing = {}
        for suite, key in keys.items():
            if (hit := lookup_outcome(store, key, model, suite, force)) is not None:
                outcomes.append(hit)
            else:
                missing[suite] = suites[suite]
        if missing:
            outcomes.extend(_run_model(model, missing, keys, data, settings, store, out_root, work_root, force))
    return outcomes


def _run_model(model, suites, keys, data, settings, store, out_root, work_root, force) -> list[SuiteOutcome]:
    specs = tuple(spec for specs in suites.values() for spec in specs)
    task_dir = write_task_dir(specs, data, work_root / "lm-eval-tasks")
    started = time.perf_counter()
    lm = build_lm(model.path, settings, revision=model.revision)
    results = run_tasks(lm, [lm_eval_name(s) for s in specs], task_dir, settings)
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
