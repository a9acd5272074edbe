"""The bench stage's one entry: score models as a bench section says, into the results store.

`spin-bench eval` (its flags become a BenchConfig) and `spin-bench run` (the recipe's ``bench`` section)
both call :func:`evaluate_models`. Every input is checked before any model work: the models, the suites
and tasks, the benchmark data, and MT-Bench's data and judge.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spin_bench.bench.config import BenchConfig
from spin_bench.bench.data_source import open_bench_data
from spin_bench.bench.evaluate import evaluate
from spin_bench.bench.runner import EvalSettings
from spin_bench.bench.suites import (
    SUITES,
    TaskSpec,
    paper_average,
    resolve_suites,
    select_tasks,
)
from spin_bench.core.paths import cache_root
from spin_bench.inference.models import expand_models
from spin_bench.mtbench.stage import prepare_mt_bench, run_mt_bench
from spin_bench.store import ResultsStore
from spin_bench.store.cache import SuiteOutcome


@dataclass(frozen=True)
class BenchOutcome:
    lm_eval: list[SuiteOutcome]
    mt_bench: list[SuiteOutcome]
    lm_eval_seconds: float
    mt_bench_seconds: float


def eval_settings(config: BenchConfig) -> EvalSettings:
    return EvalSettings(backend=config.backend, batch_size=config.batch_size, precision=config.precision,
                        limit=config.limit, max_gen_toks=config.max_gen_toks,
                        tensor_parallel_size=config.tensor_parallel_size)


def chosen_suites(config: BenchConfig) -> dict[str, tuple[TaskSpec, ...]]:
    """The lm-eval suites (and tasks) the config names; none when ``suites`` is empty (MT-Bench only)."""
    if not config.suites.strip():
        return {}
    return select_tasks(resolve_suites(config.suites), config.tasks)


def evaluate_models(models: Sequence[str], config: BenchConfig, *, world_seed: int = 0, label: str | None = None,
                    force: bool = False) -> BenchOutcome:
    """Score every model the arguments name (run directories expand to their checkpoints)."""
    refs = expand_models(list(models), label)
    suites = chosen_suites(config)
    specs = tuple(spec for specs in suites.values() for spec in specs)
    bench_data = open_bench_data(config.data, specs, world_seed) if suites else None
    mt_plan = (prepare_mt_bench(refs, config.mt_bench, backend=config.backend, precision=config.precision,
                                tensor_parallel_size=config.tensor_parallel_size, world_seed=world_seed)
               if config.mt_bench.enabled else None)
    store = ResultsStore(config.store_url)
    started = time.perf_counter()
    lm_eval = (evaluate(refs, suites, bench_data, eval_settings(config), store, Path(config.results_dir),
                        cache_root(), force) if suites else [])
    lm_eval_seconds = time.perf_counter() - started
    mt_bench = run_mt_bench(mt_plan, store, Path(config.results_dir), force) if mt_plan is not None else []
    return BenchOutcome(lm_eval=lm_eval, mt_bench=mt_bench, lm_eval_seconds=lm_eval_seconds,
                        mt_bench_seconds=time.perf_counter() - started - lm_eval_seconds)


def summary_table(outcomes: Sequence[SuiteOutcome]) -> str:
    """Model x task table of the paper's metric for each task (x100), cached evaluations marked."""
    paper = {spec.name: (spec.metric, spec.filter) for specs in SUITES.values() for spec in specs}
    rows: dict[str, dict[str, float]] = {}
    cached: dict[str, bool] = {}
    for outcome in outcomes:
        row = rows.setdefault(outcome.model.label, {})
        cached[outcome.model.label] = cached.get(outcome.model.label, True) and outcome.cached
        for score in outcome.scores:
            if paper.get(score.task) == (score.metric, score.filter):
                row[score.task] = 100 * score.value
    for row in rows.values():
        if (average := paper_average(row)) is not None:  # the report's Average, so the two never disagree
            row["average"] = float(average)
    paper["average"] = ("", "")
    tasks = [t for t in paper if any(t in r for r in rows.values())]
    width = max([len(label) for label in rows] + [5])
    header = f"{'model':<{width}} " + " ".join(f"{t[:13]:>13}" for t in tasks)
    lines = [header]
    for label, row in rows.items():
        cells = " ".join(f"{row[t]:>13.2f}" if t in row else f"{'-':>13}" for t in tasks)
        lines.append(f"{label:<{width}} {cells}" + ("  (cached)" if cached[label] else ""))
    deviations = sorted({d for outcome in outcomes for score in outcome.scores for d in score.deviations})
    if deviations:  # every deviation travels with its scores; say them wherever the scores are shown
        lines.append("Deviations from the paper's settings (stored with each score they affect):")
        lines.extend(f"  - {text}" for text in deviations)
    return "\n".join(lines)
