"""`spin-bench recipe`: list the built-in recipes, or validate one and print it resolved."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("recipe", help="list the built-in recipes, or validate and print one resolved")
    parser.add_argument("name", nargs="?", help="recipe name or YAML path to validate and print")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    parser.set_defaults(handler=handle_recipe)


def handle_recipe(args: argparse.Namespace) -> int:
    from spin_bench.core.typed_config import dump_yaml
    from spin_bench.recipe import builtin_recipes, load_recipe

    if args.name is None:
        for name, path in sorted(builtin_recipes().items()):
            print(f"{name:<20} {path}")
        return 0
    print(dump_yaml(load_recipe(args.name, args.overrides)), end="")
    return 0
