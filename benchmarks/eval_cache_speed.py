"""How long a repeated `spin-bench eval` takes against the first one (the results store is the cache).

    python benchmarks/eval_cache_speed.py [--model DIR] [--suite leaderboard,bbh,openbookqa]

Baseline: the first call, which scores the model with lm-eval. Runs the real CLI twice, in one fresh store
and output folder, on the embedded data; the second call finds every evaluation in the store and loads no
model. Default model: the embedded SFT model (built on first use in $SPIN_BENCH_CACHE); about a minute on
2 cores. Prints both wall times and, last, their ratio (cached/first). Noisy on a shared machine: the load
average is printed with it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench_common import embedded_model, load_note, spin_bench_command, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory (default: the embedded SFT model)")
    parser.add_argument("--suite", default="leaderboard,bbh,openbookqa")
    args = parser.parse_args()
    model = args.model or embedded_model()
    with tempfile.TemporaryDirectory() as scratch:
        command = spin_bench_command("eval", "--model", model, "--suite", args.suite, "--data", "embedded",
                                     "--max-gen-toks", "64", "--batch-size", "16",
                                     "--store", str(Path(scratch) / "store.db"), "--out", str(Path(scratch) / "out"))
        first, second = timed(command), timed(command)
    print(f"{model}: suites {args.suite}, {load_note()}")
    print(f"  first call   {first:7.1f} s")
    print(f"  cached call  {second:7.2f} s")
    print(f"cached/first spin-bench eval wall time ratio {second / first:.3f} ({100 * second / first:.1f}%)")


if __name__ == "__main__":
    main()
