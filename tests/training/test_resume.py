"""kill -9 at random points, rerun the same command: the final weights equal an uninterrupted run's."""

from __future__ import annotations

import os
import random
import time

import pandas as pd
import pytest
import torch

from tests.training.cli_runs import (
    kill_group_after,
    run_train,
    safetensors_state,
    train_command,
)

pytestmark = pytest.mark.slow

# A checkpoint after every optimizer step, so kills land between, during and after checkpoint writes.
OVERRIDES = ("training.save_steps=1", "baselines.dpo.enabled=true", "baselines.sft_epoch.enabled=true")
OUTPUTS = ("iter0", "iter1", "baselines/sft_epoch", "baselines/dpo")


def _kill_after(out, delay: float) -> bool:
    return kill_group_after(train_command(out, *OVERRIDES), delay)


def test_resume_after_random_kills_gives_the_same_weights(tmp_path, tiny_sft_model):
    started = time.perf_counter()
    run_train(tmp_path / "uninterrupted", *OVERRIDES)
    duration = time.perf_counter() - started

    seed = int(os.environ.get("SPIN_BENCH_KILL_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    killed_dir = tmp_path / "killed"
    kills = [round(rng.uniform(0.2, 0.9) * duration, 2) for _ in range(3)]
    killed = [_kill_after(killed_dir, delay) for delay in kills]
    run_train(killed_dir, *OVERRIDES)
    context = f"kill seed {seed}, kill delays {kills} s of a {duration:.1f} s run, killed {killed}"

    assert any(killed), context
    for name in OUTPUTS:
        expected = safetensors_state(tmp_path / "uninterrupted" / name)
        actual = safetensors_state(killed_dir / name)
        assert expected.keys() == actual.keys(), context
        for key in expected:
            assert torch.allclose(expected[key], actual[key], rtol=0, atol=1e-6), f"{name}:{key}; {context}"
    for t in (0, 1):
        relative = f"pairs/iter{t}/pairs.parquet"
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "uninterrupted" / relative),
                                      pd.read_parquet(killed_dir / relative))
    assert not list(killed_dir.rglob("*.partial")), context
