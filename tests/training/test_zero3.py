"""DeepSpeed ZeRO-3 for real, on CPU: DeepSpeed's CPU accelerator partitions the parameters across 2 processes
over gloo. The run is launched with the shipped accelerate config, exactly as the paper recipe is on GPUs.

It must train every SPIN iteration and baseline, match one process at the same global batch, publish whole
weights that load and evaluate in one process, and resume after a kill.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import torch

from tests.conftest import TINY_OVERRIDES
from tests.training.cli_runs import REPO, run_train, safetensors_state

pytest.importorskip("deepspeed")
pytestmark = pytest.mark.slow

ZERO3 = Path(str(resources.files("training") / "launch" / "zero3.yaml"))
OUTPUTS = ("iter0", "iter1", "baselines/sft_epoch", "baselines/dpo")
# Uniform shuffling in both runs: the length-grouped sampler orders the second epoch differently under 2
# processes than under 1 (seen: DPO losses 5e-3 apart at its steps 3-4), so it is compared off.
BASELINES = ("baselines.sft_epoch.enabled=true", "baselines.dpo.enabled=true", "training.group_by_length=false")
# fp32 on CPU: partitioned and whole parameters sum gradients in a different order. 1e-7 to 6e-7 was seen.
TOLERANCE = {"rtol": 1e-5, "atol": 2e-6}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _zero3_command(out: Path) -> list[str]:
    """Global batch 4 = 2 processes x 2 per device (the single-process reference uses 1 x 4)."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ZERO3), "--num_processes", "2",
            "--main_process_port", str(_free_port()), "-m", "spin_bench", "train", "--recipe", "embedded",
            "--out", str(out), *TINY_OVERRIDES, *BASELINES, "training.per_device_batch_size=2"]


def _run_zero3(out: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(_zero3_command(out), cwd=REPO, env=dict(os.environ), capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def _kill_when(command: list[str], done: Path, timeout: float = 600) -> bool:
    """Start ``command`` in its own process group; SIGKILL the whole group once ``done`` exists."""
    process = subprocess.Popen(command, cwd=REPO, env=dict(os.environ), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    while process.poll() is None and not done.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    killed = process.poll() is None
    if killed:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return killed


def _losses(run_dir: Path, name: str) -> list[float]:
    return [step["loss"] for step in json.loads((run_dir / name / "metrics.json").read_text())["steps"]]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_sft_model):
    root = tmp_path_factory.mktemp("zero3")
    run_train(root / "single", *BASELINES, "training.per_device_batch_size=4")
    _run_zero3(root / "zero3")
    return root


def test_every_stage_trains_partitioned_across_two_processes(runs):
    for name in OUTPUTS:
        parallelism = json.loads((runs / "zero3" / name / "metrics.json").read_text())["parallelism"]
        assert parallelism["distributed_type"] == "DEEPSPEED" and parallelism["zero_stage"] == 3, name
        assert parallelism["num_processes"] == 2, name
        # Rank 0 held about half of the parameters between steps (partitions are padded to the rank count).
        share = parallelism["parameters_held_by_rank0"] / parallelism["parameters"]
        assert 0.45 < share < 0.55, (name, parallelism)


def test_zero3_matches_one_process_at_the_same_global_batch(runs):
    for name in OUTPUTS:
        single, zero3 = _losses(runs / "single", name), _losses(runs / "zero3", name)
        assert len(single) == len(zero3) > 0, name
        assert zero3 == pytest.approx(single, rel=TOLERANCE["rtol"], abs=TOLERANCE["atol"]), name
        expected, actual = safetensors_state(runs / "single" / name), safetensors_state(runs / "zero3" / name)
        assert expected.keys() == actual.keys(), name
        for key in expected:
            assert actual[key].dtype == torch.float32, f"{name}:{key} was not published whole in fp32"
            assert torch.allclose(expected[key], actual[key], **TOLERANCE), f"{name}:{key}"
    # The opponent of iteration 1 is iteration 0 trained under ZeRO-3, loaded whole for generation.
    for t in (0, 1):
        relative = f"pairs/iter{t}/pairs.parquet"
        pd.testing.assert_frame_equal(pd.read_parquet(runs / "single" / relative), pd.read_parquet(runs / "zero3" / relative))


def test_published_zero3_weights_load_and_evaluate_in_one_process(runs, tmp_path):
    store = tmp_path / "scores.db"
    result = subprocess.run(
        [sys.executable, "-m", "spin_bench", "eval", "--model", str(runs / "zero3" / "iter1"), "--suite", "openbookqa",
         "--data", "embedded", "--limit", "8", "--store", str(store), "--recipe", "embedded"],
        cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    from spin_bench.store.results_store import ResultsStore

    evaluations = ResultsStore(store).evaluations()
    assert len(evaluations) == 1 and evaluations["label"].iloc[0].endswith("iter1")


def test_zero3_resumes_after_a_kill(runs, tmp_path):
    out = tmp_path / "killed"
    # Killed once iteration 0 is published: iteration 1's answers or training are under way.
    killed = _kill_when(_zero3_command(out), out / "iter0" / "stage.json")
    assert killed, "the run finished before it could be killed"
    assert not (out / "iter1" / "stage.json").exists()
    _run_zero3(out)
    for name in OUTPUTS:
        expected, actual = safetensors_state(runs / "zero3" / name), safetensors_state(out / name)
        for key in expected:
            assert torch.allclose(expected[key], actual[key], **TOLERANCE), f"{name}:{key}"
    assert not list(out.rglob("*.partial"))
