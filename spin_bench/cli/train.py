"""`spin-bench train` (the training stages of a recipe) and `spin-bench run` (the whole pipeline)."""

from __future__ import annotations

import argparse
from typing import Any

from spin_bench.cli.common import add_recipe_arguments, quiet_library_bars


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train", help="run SPIN iterations and the baselines of a recipe (resumable: rerun to continue)",
        description="Run a recipe: opponent answers -> pairs -> training for every SPIN iteration, then the "
        "baselines and the held-out monitor. Finished stages are skipped when the command is rerun.")
    add_recipe_arguments(parser)
    parser.set_defaults(handler=handle_train)
    pipeline = subparsers.add_parser(
        "run", help="the main job: train a recipe, score every checkpoint, write the HTML report (resumable)",
        description="The whole pipeline for a recipe: data -> training -> checkpoints -> benchmarks -> results "
        "store -> report. Training is `train`; the recipe's `bench` section says what to score; the report is "
        "`report`. Rerun to resume: finished stages and evaluations are not redone.")
    add_recipe_arguments(pipeline)
    pipeline.set_defaults(handler=handle_run)


def handle_train(args: argparse.Namespace) -> int:
    from spin_bench.pipeline import run_directory, train
    from spin_bench.recipe import load_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    run_directory(recipe, args.out)  # a bad --out fails before the libraries load
    quiet_library_bars()
    train(recipe, args.out)
    return 0


def handle_run(args: argparse.Namespace) -> int:
    from spin_bench.pipeline import run_directory, run_pipeline
    from spin_bench.recipe import load_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    run_directory(recipe, args.out)
    quiet_library_bars()
    run_pipeline(recipe, args.out)
    return 0
