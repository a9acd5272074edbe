"""Running the real `spin-bench` CLI in a subprocess, as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import TINY_OVERRIDES

REPO = Path(__file__).resolve().parents[2]


def train_command(out: Path, *overrides: str, launcher: tuple[str, ...] = ()) -> list[str]:
    """`spin-bench train` on the tiny recipe, run by ``launcher`` (e.g. torchrun) or by this interpreter."""
    return [*(launcher or (sys.executable,)), "-m", "spin_bench", "train", "--recipe", "embedded",
            "--out", str(out), *TINY_OVERRIDES, *overrides]


def run_train(out: Path, *overrides: str, timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(train_command(out, *overrides), cwd=REPO, env=dict(os.environ), capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def safetensors_state(directory: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(directory / "model.safetensors"))


def kill_group_after(command: list[str], delay: float) -> bool:
    """Start ``command`` in its own process group and SIGKILL the group after ``delay`` s; True if it was killed."""
    process = subprocess.Popen(command, cwd=REPO, env=dict(os.environ), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True
