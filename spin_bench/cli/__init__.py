"""The `spin-bench` command line: one module per command, each parsing its arguments and calling the
library (spin_bench.pipeline for the pipeline commands, the stages' own entries for the rest).

argparse lives only in this package; every heavy import happens inside a command's handler, so
`spin-bench --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from spin_bench.cli import (
    ablate,
    compare,
    data,
    embedded,
    evaluate,
    model,
    recipe,
    report,
    track,
    train,
)
from spin_bench.core.errors import UserError

COMMANDS = (train, recipe, embedded, model, evaluate, data, compare, report, track, ablate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spin-bench", description="Train language models with SPIN (Self-Play Fine-Tuning) and the paper's "
        "baselines, score every iteration at the paper's benchmark settings, and report whether it worked.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    # TRL 1.16 still calls transformers' renamed is_gradient_checkpointing on every train(); not ours to fix.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UserError as err:
        print(f"spin-bench: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("spin-bench: interrupted; rerun the same command to continue", file=sys.stderr)
        return 130
