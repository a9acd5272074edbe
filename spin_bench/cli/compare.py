"""`spin-bench compare A B` and `spin-bench compare --baseline LABEL OTHER...`: per task, the paired difference
with its CI and p (Holm-adjusted), the settings that differ, optionally the per-item flips; exit 1 on a
significant regression."""

from __future__ import annotations

import argparse
import json
from typing import Any

from spin_bench.cli.common import add_store_argument, existing_store
from spin_bench.core.errors import UserError

FORMAT_NAMES = ("text", "json", "markdown")  # reports.compare_format.FORMATS, named without importing numpy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="paired per-task comparison of two labels, or of many against a baseline; exit 1 on a "
        "significant regression",
        description="Per task: B minus A with its confidence interval and a paired p-value (McNemar or paired "
        "bootstrap on the per-sample logs) and the smallest difference the test could detect (MDE); the Open LLM "
        "Leaderboard Average by a bootstrap stratified by task; Holm-adjusted across tasks and the Average; with "
        "--baseline, every OTHER against LABEL in one table, Holm-adjusted across the whole table. The settings "
        "in which the compared evaluations differ are listed, and pairs that cannot be compared are named. Exit "
        "status 1 when any task (or the Average) regresses significantly (a CI gate), 0 otherwise, 2 on bad input.")
    parser.add_argument("labels", nargs="*", metavar="LABEL",
                        help="A B (baseline, candidate); with --baseline, the checkpoints compared with it")
    parser.add_argument("--baseline", metavar="LABEL", default=None,
                        help="compare every LABEL given with this one, in one table")
    add_store_argument(parser)
    parser.add_argument("--flips", action="store_true",
                        help="also list, per task, the items that went right->wrong and wrong->right (with the "
                        "prompt, gold answer and both answers), and MT-Bench's most-moved questions")
    parser.add_argument("--max-flips", type=int, default=10,
                        help="flipped items shown per task and direction (default 10; 0: all); counts cover all")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm (default 0.05)")
    parser.add_argument("--format", choices=FORMAT_NAMES, default="text")
    parser.add_argument("--n-boot", type=int, default=10_000, help="bootstrap resamples (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.set_defaults(handler=handle_compare)


def _check(args: argparse.Namespace) -> None:
    if not 0 < args.alpha < 1:
        raise UserError(f"--alpha must be between 0 and 1, got {args.alpha}")
    if args.n_boot < 1:
        raise UserError(f"--n-boot must be at least 1, got {args.n_boot}")
    if args.max_flips < 0:
        raise UserError(f"--max-flips must be 0 (all) or more, got {args.max_flips}")
    if args.baseline is None and len(args.labels) != 2:
        raise UserError(f"compare takes two labels A B, or --baseline LABEL OTHER...; got {len(args.labels)} label(s)")
    if args.baseline is not None and not args.labels:
        raise UserError("--baseline LABEL needs at least one other label to compare with it")


def handle_compare(args: argparse.Namespace) -> int:
    _check(args)
    shown = args.max_flips or None
    with existing_store(args.store) as store:
        if args.baseline is not None:
            return _baseline(store, args, shown)
        return _two_labels(store, args, shown)


def _two_labels(store: Any, args: argparse.Namespace, shown: int | None) -> int:
    from reports.compare import compare_pairs, newest_pairs
    from reports.compare_format import FORMATS, json_document
    from reports.flips import label_flips

    a, b = args.labels
    rows = newest_pairs(store, a, b)
    comparison = compare_pairs(rows, a, b, args.alpha, n_boot=args.n_boot, seed=args.seed)
    flips = label_flips(store, a, b, comparison.tasks, rows, shown) if args.flips else None
    if args.format == "json":
        document = json_document(comparison, a, b, args.alpha, args.n_boot, rows)
        print(json.dumps(document | _flips_json([flips] if flips else None), indent=2))
    else:
        print(FORMATS[args.format](comparison, a, b, args.alpha, args.n_boot, rows))
        _print_flips(args.format, [flips] if flips else [])
    return 1 if comparison.regressed else 0  # a task's or the Average's significant drop


def _baseline(store: Any, args: argparse.Namespace, shown: int | None) -> int:
    from reports.baseline import FORMATS, compare_to_baseline, table_document
    from reports.flips import label_flips

    table = compare_to_baseline(store, args.baseline, args.labels, args.alpha, n_boot=args.n_boot, seed=args.seed)
    flips = [label_flips(store, args.baseline, label, table.tested(label), _tested_rows(table, label), shown)
             for label in table.labels] if args.flips else []
    if args.format == "json":
        print(json.dumps(table_document(table) | _flips_json(flips or None), indent=2))
    else:
        print(FORMATS[args.format](table))
        _print_flips(args.format, flips)
    return 1 if table.regressed else 0


def _tested_rows(table: Any, label: str) -> Any:
    """The row pairs of the label's tested cells, in the order of ``table.tested(label)``."""
    from reports.compare import RowPairs

    by_task = {a_row["task"]: (a_row, b_row) for a_row, b_row in table.rows[label].pairs}
    return RowPairs(tuple(by_task[c.task] for c in table.tested(label)))


def _flips_json(flips: list | None) -> dict:
    from reports.flips_format import flips_document

    return {} if flips is None else {"flips": [flips_document(f) for f in flips]}


def _print_flips(output: str, flips: list) -> None:
    from reports.flips_format import flips_markdown, flips_text

    for label_flips in flips:
        print()
        print(flips_markdown(label_flips) if output == "markdown" else flips_text(label_flips))
