"""`spin-bench compare A B`: per task, B minus A with its CI and a paired p-value; exit 1 on a regression."""

from __future__ import annotations

import argparse
from typing import Any

from spin_bench.cli.common import add_store_argument, existing_store
from spin_bench.core.errors import UserError

FORMAT_NAMES = ("text", "json", "markdown")  # reports.compare.FORMATS, named without importing numpy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="paired per-task comparison of two labels; exit 1 on a significant regression",
        description="Per task: B minus A with its confidence interval and a paired p-value (McNemar or paired "
        "bootstrap on the per-sample logs), Holm-adjusted across tasks. Exit status 1 when any task regresses "
        "significantly (a CI gate), 0 otherwise, 2 on bad input.")
    parser.add_argument("a", metavar="A", help="baseline label in the results store")
    parser.add_argument("b", metavar="B", help="candidate label in the results store")
    add_store_argument(parser)
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm (default 0.05)")
    parser.add_argument("--format", choices=FORMAT_NAMES, default="text")
    parser.add_argument("--n-boot", type=int, default=10_000, help="bootstrap resamples (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.set_defaults(handler=handle_compare)


def handle_compare(args: argparse.Namespace) -> int:
    from reports.compare import FORMATS, compare

    if not 0 < args.alpha < 1:
        raise UserError(f"--alpha must be between 0 and 1, got {args.alpha}")
    if args.n_boot < 1:
        raise UserError(f"--n-boot must be at least 1, got {args.n_boot}")
    with existing_store(args.store) as store:
        comparisons = compare(store, args.a, args.b, args.alpha, n_boot=args.n_boot, seed=args.seed)
    print(FORMATS[args.format](comparisons, args.a, args.b, args.alpha, args.n_boot))
    return 1 if any(c.regressed for c in comparisons) else 0
