"""`spin-bench ablate` end to end on the tiny model: all three studies scored into a store and drawn in the
report, a rerun that redoes nothing, and kill -9 during the epochs study giving an uninterrupted run's weights."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time

import pytest
import torch

from spin_bench.store import ResultsStore
from tests.conftest import TINY_OVERRIDES
from tests.training.cli_runs import REPO, kill_group_after, safetensors_state

pytestmark = pytest.mark.slow

STUDY_OVERRIDES = ("ablations.epochs.max_epochs=3", "ablations.size.sizes=[8,16]", "ablations.size.sft_epochs=2",
                   "ablations.loss.losses=[logistic,hinge]", "ablations.loss.betas=[0.1,2.0]")


def _command(out, study: str, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "spin_bench", "ablate", "--recipe", "embedded", "--study", study, "--out", str(out),
            *TINY_OVERRIDES, *STUDY_OVERRIDES, *overrides]


def _ablate(out, study: str, *overrides: str) -> subprocess.CompletedProcess:
    result = subprocess.run(_command(out, study, *overrides), cwd=REPO, env=dict(os.environ), capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def test_three_studies_are_scored_and_drawn_and_a_rerun_redoes_nothing(tmp_path, tiny_sft_model):
    out = tmp_path / "run"
    bench = (f"bench.store={tmp_path / 'store.db'}", f"bench.results_dir={tmp_path / 'results'}", "bench.limit=8",
             "ablations.suites=openbookqa")
    for study in ("epochs", "size", "loss"):
        _ablate(out, study, *bench)
    labels = set(ResultsStore(tmp_path / "store.db").evaluations()["label"])
    expected = {"sft", "iter0-epoch1", "iter0-epoch2", "iter0-epoch3", "size8", "size16", "sft-epoch1",
                "sft-epoch2", "loss-logistic-beta0.1", "loss-hinge-beta0.1", "loss-logistic-beta2",
                "loss-hinge-beta2"}
    assert labels == {f"embedded/{name}" for name in expected}
    page = (out / "report.html").read_text(encoding="utf-8")
    for key in ("figure4", "figure5", "figure_loss"):
        assert f'data-left-out="{key}"' in page or f'id="plot-{key}"' in page, key
    # The tiny run scores OpenBookQA only: no leaderboard task to draw, and the report says so.
    assert "left out: no per-epoch checkpoint has a leaderboard score" in page
    assert (out / "ablations" / "pairs" / "iter0" / "pairs.parquet").is_file()  # shared by the studies

    evaluations = len(ResultsStore(tmp_path / "store.db").evaluations())
    rerun = _ablate(out, "loss", *bench)
    assert rerun.stderr.count("finished earlier, skipped") == 5  # the pairs and the four trainings
    assert len(ResultsStore(tmp_path / "store.db").evaluations()) == evaluations


def _kill_after(out, delay: float) -> bool:
    return kill_group_after(_command(out, "epochs", "bench.enabled=false", "training.save_steps=1"), delay)


def test_epochs_study_resumes_after_kills_with_the_same_weights(tmp_path, tiny_sft_model):
    started = time.perf_counter()
    _ablate(tmp_path / "uninterrupted", "epochs", "bench.enabled=false", "training.save_steps=1")
    duration = time.perf_counter() - started
    seed = int(os.environ.get("SPIN_BENCH_KILL_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    # Each relaunch resumes with less left to do, so the delays stay well inside one uninterrupted run.
    kills = [round(rng.uniform(0.15, 0.6) * duration, 2) for _ in range(3)]
    killed = [_kill_after(tmp_path / "killed", delay) for delay in kills]
    _ablate(tmp_path / "killed", "epochs", "bench.enabled=false", "training.save_steps=1")
    context = f"kill seed {seed}, delays {kills} s of a {duration:.1f} s study, killed {killed}"
    assert any(killed), context
    for name in ("iter0-epoch1", "iter0-epoch2", "iter0"):
        expected = safetensors_state(tmp_path / "uninterrupted" / "ablations" / "epochs" / name)
        actual = safetensors_state(tmp_path / "killed" / "ablations" / "epochs" / name)
        for key in expected:
            assert torch.allclose(expected[key], actual[key], rtol=0, atol=1e-6), f"{name}:{key}; {context}"
    epoch1 = safetensors_state(tmp_path / "killed" / "ablations" / "epochs" / "iter0-epoch1")
    final = safetensors_state(tmp_path / "killed" / "ablations" / "epochs" / "iter0")
    assert any(not torch.equal(epoch1[key], final[key]) for key in final)  # epochs differ: training went on
    assert not list((tmp_path / "killed").rglob("*.partial")), context
