"""The ``bench`` section of a recipe, which is also what `spin-bench eval`'s flags override.

One dataclass per stage, so each default lives once: `spin-bench run` reads it from the recipe, and
`spin-bench eval` builds it from its flags through the same typed loader (spin_bench.cli.eval).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spin_bench.core.enums import Backend, Precision
from spin_bench.core.paths import DEFAULT_RESULTS_DIR, default_store
from spin_bench.mtbench.config import MTBenchConfig


@dataclass(frozen=True, kw_only=True)
class BenchConfig:
    """Which suites to score every checkpoint on, with what data, and where the scores go."""

    enabled: bool = True  # `spin-bench run` scores the run after training
    suites: str = "leaderboard,bbh,openbookqa"  # comma-separated, or "all"; "" scores no lm-eval suite
    tasks: str | None = None  # only these tasks of the suites, e.g. "arc_challenge,mmlu"
    data: str | None = None  # None: the Hub (as lm-eval); "embedded"; or a `spin-bench data pull` directory
    limit: float | None = None  # lm-eval --limit: the first N items of each task (a deviation)
    batch_size: int = 8
    max_gen_toks: int | None = None  # None keeps each task's own limit (the paper's setting)
    backend: Backend = Backend.HF
    precision: Precision = Precision.AUTO
    tensor_parallel_size: int = 1  # vllm only
    store: str | None = None  # SQLite path or SQLAlchemy URL; None: $SPIN_BENCH_STORE or results/spin-bench.db
    results_dir: str = DEFAULT_RESULTS_DIR  # lm-eval's results JSON and per-sample logs
    mt_bench: MTBenchConfig = field(default_factory=MTBenchConfig)  # judged after the lm-eval suites

    def __post_init__(self) -> None:
        from spin_bench.bench.suites import resolve_suites, select_tasks

        for name in ("limit", "batch_size", "max_gen_toks", "tensor_parallel_size"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if self.suites.strip():
            select_tasks(resolve_suites(self.suites), self.tasks)  # unknown suite or task names fail on load

    @property
    def store_url(self) -> str:
        return self.store or default_store()
