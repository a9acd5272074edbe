"""Fixtures for the benchmark tests: the embedded benchmark data and an evaluation helper."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def embedded_data_dir() -> Path:
    from spin_bench.bench.embedded_data import embedded_bench_dir

    return embedded_bench_dir(0)


def evaluate(models, suites, store, tmp_path, data="embedded", label=None, force=False, **settings):
    """spin-bench's own evaluation path, as `spin-bench eval` runs it: a bench section, then the stage entry.

    ``suites`` is a suite string or (suites, tasks); ``settings`` are further bench keys (limit, batch_size, ...).
    """
    from spin_bench.bench.config import BenchConfig
    from spin_bench.bench.stage import evaluate_models

    names, tasks = suites if isinstance(suites, tuple) else (suites, None)
    config = BenchConfig(suites=names, tasks=tasks, data=data, store=str(store), results_dir=str(tmp_path / "results"),
                         **settings)
    return evaluate_models([str(m) for m in models], config, label=label, force=force).lm_eval
