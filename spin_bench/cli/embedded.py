"""`spin-bench build-embedded`: build (or find cached) the embedded SFT model, before a multi-process launch."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("build-embedded", help="build (or find cached) the embedded SFT model")
    parser.add_argument("--recipe", default="embedded")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    parser.set_defaults(handler=handle_build_embedded)


def handle_build_embedded(args: argparse.Namespace) -> int:
    from spin_bench.recipe import load_recipe
    from training.data import load_sft
    from training.embedded.model import build_embedded_model

    recipe = load_recipe(args.recipe, args.overrides).train
    rows = load_sft(recipe.sft_data, recipe.seed, recipe.embedded.world_seed).rows
    print(build_embedded_model(recipe.embedded, rows, recipe.seed))
    return 0
