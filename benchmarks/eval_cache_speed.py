"""How long a repeated `spin-bench eval` takes against the first one (the store is the cache).

    python benchmarks/eval_cache_speed.py [--model DIR] [--suite leaderboard,bbh,openbookqa]

Runs the real CLI twice in a fresh store on the embedded data and prints both wall times and their ratio.
Without --model it uses the embedded SFT model (built on first use).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--suite", default="leaderboard,bbh,openbookqa")
    args = parser.parse_args()
    model = args.model or subprocess.run([sys.executable, "-m", "spin_bench", "build-embedded"], check=True,
                                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "spin_bench", "eval", "--model", model, "--suite", args.suite,
                   "--data", "embedded", "--max-gen-toks", "64", "--batch-size", "16",
                   "--store", str(Path(scratch) / "store.db"), "--out", str(Path(scratch) / "out")]
        first, second = _timed(command), _timed(command)
    print(f"first call {first:.1f} s, cached call {second:.2f} s, ratio {100 * second / first:.1f}%")


if __name__ == "__main__":
    main()
