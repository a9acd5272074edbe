"""`spin-bench report` and `spin-bench history`: argument parsing, and the history table."""

from __future__ import annotations

import argparse
import fnmatch
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports.report import _isna, build_report
from spin_bench.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from spin_bench.store import ResultsStore


# ------------------------------------------------------------------ history


def history_labels(store: ResultsStore, pattern: str) -> list[str]:
    from reports.figures import stage_key

    known = store.evaluations()["label"].drop_duplicates().astype(str).tolist()
    return sorted((label for label in known if fnmatch.fnmatchcase(label, pattern)), key=stage_key)


def format_history(frame: pd.DataFrame, fmt: str) -> str:
    from reports.tables import MISSING

    cells = frame.map(lambda v: MISSING if _isna(v) else f"{v:.2f}")
    header = ["label", *map(str, frame.columns)]
    rows = [[str(label), *row] for label, row in zip(frame.index, cells.itertuples(index=False))]
    if fmt == "markdown":
        from reports.tables import _md

        lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|:---|" + "---:|" * len(frame.columns)]
        lines += ["| " + " | ".join([_md(row[0]), *row[1:]]) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     .rstrip() for r in [header, *rows])


# ------------------------------------------------------------------ command line


def add_report_subcommands(subparsers: Any) -> None:
    """Register `report` and `history` on the spin-bench CLI."""
    from spin_bench.bench.cli import DEFAULT_STORE

    store_default = os.environ.get("SPIN_BENCH_STORE", DEFAULT_STORE)
    report = subparsers.add_parser(
        "report", help="write one self-contained HTML report of a run (tables, figures, provenance)",
        description="Tables 3-6 with stderr and paired-test marks, the paper's figures, the convergence monitor, "
        "cost, history, generation examples and provenance, in one HTML file that works offline.")
    report.add_argument("target", metavar="RUN_DIR_OR_LABEL_PREFIX",
                        help="a run directory (with run.json) or the label prefix of a run, e.g. embedded")
    report.add_argument("--store", default=store_default, help=f"results store (default: {DEFAULT_STORE})")
    report.add_argument("--out", type=Path, default=None,
                        help="output file (default: <run_dir>/report.html, or report.html for a label prefix)")
    report.add_argument("--static", action="store_true",
                        help="also write PNG/PDF figures beside the report (needs kaleido and a Chromium)")
    report.set_defaults(handler=handle_report)
    hist = subparsers.add_parser("history", help="scores of a sequence of checkpoints as a table",
                                 description="Each paper task's score (newest evaluation) for every label that "
                                 "matches the pattern, in training order (sft, iter0, iter1, …, then the rest).")
    hist.add_argument("--label", default="*", help="fnmatch pattern on labels, e.g. 'embedded/*' (default: all)")
    hist.add_argument("--store", default=store_default, help=f"results store (default: {DEFAULT_STORE})")
    hist.add_argument("--format", choices=("text", "markdown"), default="text")
    hist.set_defaults(handler=handle_history)


def _open_store(url: str) -> ResultsStore:
    if "://" not in url and not Path(url).expanduser().exists():
        raise UserError(f"results store {url} does not exist")
    from spin_bench.store import ResultsStore

    return ResultsStore(url)


def handle_report(args: argparse.Namespace) -> int:
    target = Path(args.target)
    run_dir = target if target.is_dir() else None
    if run_dir is not None and not (run_dir / "run.json").is_file():
        raise UserError(f"{run_dir} is a directory without run.json: not a finished run directory")
    out = args.out or (run_dir / "report.html" if run_dir is not None else Path("report.html"))
    with _open_store(args.store) as store:
        path = build_report(store, run_dir, args.target if run_dir is None else run_dir.name, out,
                            static=args.static)
    print(path)
    return 0


def handle_history(args: argparse.Namespace) -> int:
    from reports.figures import history_frame

    with _open_store(args.store) as store:
        labels = history_labels(store, args.label)
        if not labels:
            raise UserError(f"no label matches {args.label!r} in results store {store.url}")
        frame = history_frame(store.scores(labels=labels), labels)
    print(format_history(frame, args.format))
    return 0
