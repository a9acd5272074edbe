"""What every benchmark script here shares: the embedded default model, timing a command, and the load
average that says how noisy a figure is. Imported by the scripts of this folder (run as scripts)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))  # the repository, when run as a script


def spin_bench_command(*args: str) -> list[str]:
    """`spin-bench ARGS` with this interpreter, as a user runs it."""
    return [sys.executable, "-m", "spin_bench", *args]


def embedded_model() -> str:
    """The embedded SFT model's directory (`spin-bench build-embedded`: built in $SPIN_BENCH_CACHE on first use)."""
    done = subprocess.run(spin_bench_command("build-embedded"), check=False, capture_output=True, text=True,
                          cwd=REPOSITORY)
    if done.returncode != 0:
        raise SystemExit(f"spin-bench build-embedded failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of a command, its output kept quiet unless it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True, text=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def load_note() -> str:
    """The 1-minute load average against the cores: a figure taken beside other work is noisy."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
