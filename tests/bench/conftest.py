"""Fixtures for the benchmark tests: the embedded benchmark data and an evaluation helper."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def embedded_data_dir() -> Path:
    from spin_bench.bench.embedded_data import embedded_bench_dir

    return embedded_bench_dir(0)


def evaluate(models, suites, store, tmp_path, data="embedded", **settings):
    """spin-bench's own evaluation path, as the CLI runs it."""
    from spin_bench.bench.cli import run_evaluation
    from spin_bench.bench.runner import EvalSettings
    from spin_bench.bench.suites import resolve_suites, select_tasks

    chosen = select_tasks(resolve_suites(suites[0]), suites[1]) if isinstance(suites, tuple) else resolve_suites(suites)
    return run_evaluation([str(m) for m in models], chosen, data, EvalSettings(**settings), str(store),
                          tmp_path / "results")
