"""Data parallel on CPU: `torchrun --nproc_per_node 2` (DDP over gloo) follows the single-process loss curve
at the same global batch. This is the multi-process path that ZeRO-3 runs use on GPUs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from tests.conftest import TINY_OVERRIDES
from tests.training.cli_runs import REPO, run_train, safetensors_state

pytestmark = pytest.mark.slow

COMMON = ("baselines.sft_epoch.enabled=false", "baselines.dpo.enabled=false", "training.epochs=2")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _losses(run_dir, name):
    return [step["loss"] for step in json.loads((run_dir / name / "metrics.json").read_text())["steps"]]


def test_two_processes_match_one_process_at_the_same_global_batch(tmp_path, tiny_sft_model):
    run_train(tmp_path / "single", *COMMON, "training.per_device_batch_size=4")
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(_free_port()), "-m", "spin_bench", "train", "--recipe", "embedded",
               "--out", str(tmp_path / "ddp"), *TINY_OVERRIDES, *COMMON, "training.per_device_batch_size=2"]
    result = subprocess.run(command, cwd=REPO, env={**os.environ, "ACCELERATE_USE_CPU": "true"},
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]

    for name in ("iter0", "iter1"):
        single, ddp = _losses(tmp_path / "single", name), _losses(tmp_path / "ddp", name)
        assert len(single) == len(ddp) == {"iter0": 8, "iter1": 16}[name]  # pairs x 2 epochs / global batch 4
        assert ddp == pytest.approx(single, rel=1e-4, abs=1e-5), name
        expected, actual = safetensors_state(tmp_path / "single" / name), safetensors_state(tmp_path / "ddp" / name)
        for key in expected:
            assert torch.allclose(expected[key], actual[key], rtol=1e-4, atol=1e-5), f"{name}:{key}"
    config = json.loads((tmp_path / "ddp" / "iter0" / "spin_config.json").read_text())
    assert config["recipe"]["training"]["per_device_batch_size"] == 2
