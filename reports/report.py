"""`spin-bench report`: one self-contained HTML report of a run.

:func:`build_report` gathers the paper's Tables 3-6 (with ± stderr and paired-test significance marks,
Holm-corrected across each table), every figure of :mod:`reports.figures` (the ablation figures with their
own paired tests), generation examples like the paper's Tables 7 and 8, MT-Bench answers and a provenance
section as typed sections (reports.sections), and writes one HTML file atomically. The page works offline:
plotly.js is inlined once and nothing refers to a network address.

A run directory is read through :class:`~spin_bench.core.run_artifacts.RunArtifacts` only. Paths in the
store are absolute for new evaluations; a relative one (a legacy row) is read from the working directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reports.sections import ReportPage, TableSection
from reports.tables import (
    TABLE4,
    TABLES,
    TableGrid,
    build_grid,
    render,
    side_by_side,
    table4,
    to_html,
)
from spin_bench.core.errors import UserError
from spin_bench.core.run_artifacts import RunArtifacts

if TYPE_CHECKING:
    import pandas as pd

    from reports.plots import Plot
    from spin_bench.store import ResultsStore

PAPER_NOTE = ("The paper's rows are zephyr-7b on the real benchmarks with lm-eval v0.4.0; a difference means "
              "something only for a run at the paper's settings (see this run's deviations above).")


def resolve_run(store: ResultsStore, run: RunArtifacts | None, labels_or_run: str) -> str:
    """The label prefix of the run: ``labels_or_run`` itself, or for a run directory the name its labels use
    (run.json's recipe, then the directory's name)."""
    known = sorted({str(label).split("/", 1)[0] for label in store.evaluations()["label"].unique()})
    candidates = [labels_or_run.rstrip("/")]
    if run is not None:
        summary = run.summary()
        candidates = [summary.recipe] if summary is not None else []
        candidates += [run.layout.root.name, labels_or_run.rstrip("/")]
    for candidate in candidates:
        if candidate in known:
            return candidate
    raise UserError(f"no evaluations for run {candidates[0]!r} in results store {store.url} "
                    f"(runs with evaluations: {', '.join(known) or 'none'})")


# ------------------------------------------------------------------ tables


def build_tables(scores: pd.DataFrame, run: str, *, n_boot: int = 10_000) -> list[TableSection]:
    """Tables 4, 3, 5 and 6 (and Table 4 beside the paper's), each built once and marked from its grid."""
    from reports.table_tests import table_marks

    out = []
    for spec in TABLES:
        try:
            grid = build_grid(spec, scores, run)
        except UserError as err:
            out.append(TableSection(spec.id, spec.heading, None, f"left out: {err}"))
            continue
        if reason := _left_out(grid):
            out.append(TableSection(spec.id, spec.heading, None, reason))
            continue
        marks = table_marks(scores, grid, n_boot=n_boot)
        result = render(grid, stderr=True, marks=marks.marks or None, marks_note=marks.note)
        out.append(TableSection(spec.id, spec.heading, to_html(result), notes=marks.notes))
        if spec is TABLE4:
            out.append(_paper_side_by_side(grid))
    return out


def _left_out(grid: TableGrid) -> str | None:
    if grid.empty:
        return "left out: none of its rows has a score in the store for this run"
    if missing := grid.missing_required():
        row = missing[0]
        return f"left out: no {grid.run}/{row.checkpoint} scores ({row.required_as})"
    return None


def _paper_side_by_side(grid: TableGrid) -> TableSection:
    """Table 4 of this run beside the paper's (reports/reference), with the difference per cell."""
    from reports.paper import paper_as_scores

    both = side_by_side(render(grid), table4(paper_as_scores(), "paper"))
    return TableSection("table4_paper", "Table 4: this run beside the paper", to_html(both), notes=(PAPER_NOTE,))


# ------------------------------------------------------------------ static figures


def find_browser() -> str | None:
    """The Chrome/Chromium kaleido would use: BROWSER_PATH, then the usual names on PATH."""
    if (path := os.environ.get("BROWSER_PATH")) and Path(path).exists():
        return path
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def export_static(plots: Sequence[Plot], directory: Path, formats: Sequence[str] = ("png", "pdf")) -> str:
    """Write each figure as PNG/PDF with kaleido; a one-line message says what happened (never raises)."""
    figures = [p for p in plots if p.figure is not None]
    if not figures:
        return "Static figures: none to export."
    try:
        import kaleido  # noqa: F401
        import plotly.io as pio
    except ImportError:
        return "Static figures skipped: kaleido is not installed (pip install 'spin-bench[static]')."
    if find_browser() is None:
        return ("Static figures skipped: no Chrome or Chromium found (apt-get install -y chromium, or set "
                "BROWSER_PATH); the HTML figures are complete without them.")
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{p.key}.{fmt}" for fmt in formats for p in figures]
    try:
        pio.write_images([p.figure for fmt in formats for p in figures], paths)
    except Exception as err:  # kaleido's errors are plain RuntimeErrors and friends; a report must not die on them
        return f"Static figures skipped: kaleido failed ({type(err).__name__}: {str(err).splitlines()[0][:200]})."
    return f"Static figures ({', '.join(formats)}) written to {directory}."


# ------------------------------------------------------------------ the report


def build_report(store: ResultsStore, run_dir: Path | None, labels_or_run: str, out: Path, *,
                 static: bool = False, n_boot: int = 10_000) -> Path:
    """Write the run's report to ``out`` (one self-contained HTML file, atomically) and return ``out``.

    ``labels_or_run`` is the label prefix (``embedded`` for labels ``embedded/sft`` …); with ``run_dir``
    the prefix may also be found from run.json. ``static=True`` also writes PNG/PDF figures beside ``out``
    when kaleido and a Chromium are available (otherwise the page says why not).
    """
    import plotly.offline

    from reports.ablation_tests import with_tests
    from reports.convergence import with_monitor
    from reports.examples import generation_examples
    from reports.figures import all_figures
    from reports.flips_section import flips_section
    from reports.html import render_page
    from reports.mt_bench_examples import mt_bench_examples
    from reports.provenance import provenance
    from reports.win_rates import win_rate_section
    from spin_bench.core.atomic import write_text_atomic
    from spin_bench.core.names import label_sort_key

    artifacts = RunArtifacts.at(run_dir) if run_dir is not None else None
    run = resolve_run(store, artifacts, labels_or_run)
    scores, evaluations = store.scores(), store.evaluations()
    labels = tuple(sorted((label for label in evaluations["label"].unique() if str(label).startswith(f"{run}/")),
                          key=label_sort_key))
    plots = all_figures(scores, run, artifacts)
    page = ReportPage(
        title=f"spin-bench report: {run}", plotly_js=plotly.offline.get_plotlyjs(), store_url=store.url,
        run_dir=str(run_dir) if run_dir is not None else None,
        built_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), labels=labels,
        tables=(*build_tables(scores, run, n_boot=n_boot), win_rate_section(scores, run)),
        figures=tuple(with_monitor(with_tests(plots, scores, run, n_boot), artifacts)),
        examples=generation_examples(artifacts), mt_bench=mt_bench_examples(evaluations, labels),
        provenance=provenance(store, scores, labels),
        static_message=export_static(plots, out.parent / f"{out.stem}_figures") if static else None,
        flips=flips_section(scores, evaluations, run, n_boot=n_boot))
    write_text_atomic(out, render_page(page))
    return out
