"""`spin-bench ablate`: one ablation study of a recipe, trained, scored into the results store, and reported."""

from __future__ import annotations

import argparse
import time
from typing import Any

from spin_bench.cli.common import add_recipe_arguments, quiet_library_bars

STUDIES = ("epochs", "size", "loss")  # training.config.Study, spelled out so `--help` imports nothing heavy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ablate", help="run one of the paper's ablations on iteration 0, score it and update the report (resumable)",
        description="epochs: iteration 0 for ablations.epochs.max_epochs epochs, scored after each (Figure 4). "
        "size: iteration 0 on nested subsets of the SPIN prompts, beside SFT trained longer (Figure 5). "
        "loss: iteration 0 with every loss and beta of ablations.loss. Outputs go to <out>/ablations/<study>; "
        "scores to the recipe's results store; the report to <out>/report.html. Rerun to resume.")
    parser.add_argument("--study", required=True, choices=STUDIES)
    add_recipe_arguments(parser, out_help="the run directory (default: runs/<recipe name>); its pairs are reused, "
                         "never changed")
    parser.set_defaults(handler=handle_ablate)


def handle_ablate(args: argparse.Namespace) -> int:
    from spin_bench.pipeline import run_ablation, run_directory
    from spin_bench.recipe import load_recipe

    started = time.perf_counter()
    recipe = load_recipe(args.recipe, args.overrides)
    run_directory(recipe, args.out)
    quiet_library_bars()
    run_ablation(recipe, args.study, args.out)
    print(f"Study {args.study} done in {time.perf_counter() - started:.0f} s")
    return 0
