"""Shared fixtures: a private model cache per test session and a tiny variant of the embedded recipe."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Small enough that building the embedded model takes seconds; same code path as the real default.
TINY_OVERRIDES = (
    "embedded.hidden_size=64",
    "embedded.num_layers=2",
    "embedded.num_heads=2",
    "embedded.intermediate_size=128",
    "embedded.pretrain_steps=12",
    "embedded.pretrain_batch_size=8",
    "embedded.sft_batch_size=8",
    "sft_data.num_samples=32",
    "spin_data.num_samples=16",
    "heldout_data.num_samples=8",
    "generation.max_new_tokens=12",
    "generation.batch_size=4",
    "generation.shard_size=4",
    "training.per_device_batch_size=4",
    "training.epochs=1",
    "training.logging_steps=1",
    "baselines.dpo.data.num_samples=8",
    "spin.iterations=[{learning_rate: 1.0e-4, beta: 0.1}, {learning_rate: 1.0e-4, beta: 0.1}]",
)

_SESSION_CACHE: Path | None = None


def pytest_sessionstart(session) -> None:
    global _SESSION_CACHE
    _SESSION_CACHE = Path(tempfile.mkdtemp(prefix="spin-bench-test-cache-"))
    os.environ["SPIN_BENCH_CACHE"] = str(_SESSION_CACHE)
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def pytest_sessionfinish(session, exitstatus) -> None:
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_recipe():
    """The training half of the tiny embedded recipe (what training's functions take)."""
    from spin_bench.recipe import load_recipe

    return load_recipe("embedded", TINY_OVERRIDES).train


@pytest.fixture(scope="session")
def tiny_sft_model(tiny_recipe) -> Path:
    """Directory of the tiny embedded SFT model, built once per session."""
    from training.data import load_sft
    from training.embedded.model import build_embedded_model

    rows = load_sft(tiny_recipe.sft_data, tiny_recipe.seed, tiny_recipe.embedded.world_seed).rows
    return build_embedded_model(tiny_recipe.embedded, rows, tiny_recipe.seed)
