"""The GPU check stops at once, with one line and exit 2, on a machine without a CUDA GPU (like CI's)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [["bash", "benchmarks/gpu_check.sh"], [sys.executable, "benchmarks/gpu_check.py"]])
def test_gpu_check_fails_early_and_cleanly_without_a_gpu(tmp_path, command):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: run benchmarks/gpu_check.sh itself")
    started = time.perf_counter()
    result = subprocess.run([*command, "--out", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True,
                            timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable})
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("gpu_check: error: no CUDA GPU visible")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()  # nothing built, nothing written
    assert time.perf_counter() - started < 60
