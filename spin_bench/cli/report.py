"""`spin-bench report` (one self-contained HTML report of a run) and `spin-bench history`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from spin_bench.cli.common import add_store_argument, existing_store
from spin_bench.core.errors import UserError
from spin_bench.core.run_layout import RUN_JSON


def register(subparsers: Any) -> None:
    report = subparsers.add_parser(
        "report", help="write one self-contained HTML report of a run (tables, figures, provenance)",
        description="Tables 3-6 with stderr and paired-test marks, the paper's figures, the convergence monitor, "
        "cost, history, generation examples and provenance, in one HTML file that works offline.")
    report.add_argument("target", metavar="RUN_DIR_OR_LABEL_PREFIX",
                        help="a run directory (with run.json) or the label prefix of a run, e.g. embedded")
    add_store_argument(report)
    report.add_argument("--out", type=Path, default=None,
                        help="output file (default: <run_dir>/report.html, or report.html for a label prefix)")
    report.add_argument("--static", action="store_true",
                        help="also write PNG/PDF figures beside the report (needs kaleido and a Chromium)")
    report.set_defaults(handler=handle_report)
    history = subparsers.add_parser("history", help="scores of a sequence of checkpoints as a table",
                                    description="Each paper task's score (newest evaluation) for every label that "
                                    "matches the pattern, in training order (sft, iter0, iter1, …, then the rest).")
    history.add_argument("--label", default="*", help="fnmatch pattern on labels, e.g. 'embedded/*' (default: all)")
    add_store_argument(history)
    history.add_argument("--format", choices=("text", "markdown"), default="text")
    history.set_defaults(handler=handle_history)


def handle_report(args: argparse.Namespace) -> int:
    from reports.report import build_report

    target = Path(args.target)
    run_dir = target if target.is_dir() else None
    if run_dir is not None and not (run_dir / RUN_JSON).is_file():
        raise UserError(f"{run_dir} is a directory without {RUN_JSON}: not a finished run directory")
    out = args.out or (run_dir / "report.html" if run_dir is not None else Path("report.html"))
    if out.is_dir():
        raise UserError(f"{out}: is a directory; --out names the report file")
    with existing_store(args.store) as store:
        path = build_report(store, run_dir, args.target if run_dir is None else run_dir.name, out,
                            static=args.static)
    print(path)
    return 0


def handle_history(args: argparse.Namespace) -> int:
    from reports.history import format_history, history_frame, history_labels

    with existing_store(args.store) as store:
        labels = history_labels(store, args.label)
        if not labels:
            raise UserError(f"no label matches {args.label!r} in results store {store.url}")
        frame = history_frame(store.scores(labels=labels), labels)
    print(format_history(frame, args.format))
    return 0
