"""The paper's Tables 3-6 rebuilt from a results-store frame, described as data and built once.

A :class:`TableSpec` says what a table is (its rows, columns, Average and gain column). :func:`build_grid`
computes its numbers once from ``ResultsStore.scores()`` (or ``paper_as_scores()``) and a run prefix;
:func:`render` prints them the way the paper does: percentages with two decimals, the paper's Average of
the six leaderboard columns (:func:`spin_bench.bench.suites.paper_average`) and that Average's gain over
the previous SPIN stage, as in "60.80 (+2.66)". Significance marks are derived from the same grid
(reports.table_tests) and passed to :func:`render`. A missing score is shown as "–" and a row or column
with no score at all is left out; no number is ever filled in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# The exports are part of this module's interface (reports.tables.to_html …); they live in table_export.
from reports.table_export import markdown_escape, to_csv, to_html, to_latex, to_markdown
from reports.table_model import (
    AVERAGE,
    MISSING,
    Cell,
    Column,
    Row,
    TableResult,
    as_float,
    as_text,
    to_printed,
)
from spin_bench.bench.suites import (
    BBH,
    LEADERBOARD,
    LEADERBOARD_AVERAGE,
    OPENBOOKQA,
    paper_average,
)
from spin_bench.core.errors import UserError
from spin_bench.core.names import Baseline, CheckpointName, iterations_of, run_label

__all__ = ["AVERAGE", "LEADERBOARD_COLUMNS", "MISSING", "MT_BENCH", "TABLE6_COLUMNS", "TABLES", "Cell", "Column",
           "TableGrid", "TableResult", "TableSpec", "build_grid", "markdown_escape", "render", "side_by_side",
           "table3", "table4", "table5", "table6", "to_csv", "to_html", "to_latex", "to_markdown"]

_SPECS = {spec.name: spec for spec in (*LEADERBOARD, *BBH, *OPENBOOKQA)}
LEADERBOARD_COLUMNS = tuple(Column(_SPECS[t].column, t, _SPECS[t].metric, _SPECS[t].filter, 100.0)
                            for t in LEADERBOARD_AVERAGE)
# MT-Bench is judged outside lm-eval; its mean 1-10 score is stored as task "mt_bench", metric "score".
MT_BENCH = Column("MT-Bench", "mt_bench", "score", "none", 1.0)
TABLE6_COLUMNS = (MT_BENCH, *(Column(s.column, s.name, s.metric, s.filter, 100.0) for s in (*BBH, *OPENBOOKQA)))

SFT = CheckpointName.sft()
SPIN_DPO = CheckpointName.of_baseline(Baseline.SPIN_DPO)


# ------------------------------------------------------------------ the tables as data


def _iterations(iterations: Sequence[int]) -> list[Row]:
    """SPIN iterations in numeric order; iteration k's gain is over the stage it started from."""
    names = [CheckpointName.of_iteration(k) for k in iterations]
    return [Row(f"SPIN iteration {name.iteration}", name, name.previous_stage()) for name in names]


def _trajectory(iterations: Sequence[int]) -> list[Row]:
    return [Row("SFT", SFT), *_iterations(iterations)]


def _with_baselines(iterations: Sequence[int]) -> list[Row]:
    """The DPO baseline first, then the trajectory, then SPIN + DPO (its gain over the last iteration)."""
    rows = _iterations(iterations)
    last = rows[-1].checkpoint if rows else SFT
    return [Row("DPO", CheckpointName.of_baseline(Baseline.DPO)), Row("SFT", SFT), *rows,
            Row("SPIN + DPO", SPIN_DPO, last)]


def _one_more_epoch(iterations: Sequence[int]) -> list[Row]:
    return [Row("SFT", SFT, required_as="the SFT model"),
            Row("SFT + 1 epoch", CheckpointName.of_baseline(Baseline.SFT_EPOCH),
                required_as="the one-more-epoch SFT baseline")]


@dataclass(frozen=True)
class TableSpec:
    """One paper table: what the report calls it, its rows (from the run's iterations) and its columns."""

    id: str  # the report section's id
    heading: str  # the report section's title
    title: str  # the table's caption; "{run}" stands for the run prefix
    rows: Callable[[Sequence[int]], list[Row]]
    columns: tuple[Column, ...]
    average: bool  # adds the paper's Average (only when every column has a score)
    gain: str | None  # the column whose change over the row's previous stage is printed

    def build(self, scores: pd.DataFrame, run: str, *, stderr: bool = False,
              marks: Mapping[Cell, str] | None = None, marks_note: str | None = None) -> TableResult:
        """The table for ``run``, built (:func:`build_grid`) and rendered (:func:`render`) in one call."""
        return render(build_grid(self, scores, run), stderr=stderr, marks=marks, marks_note=marks_note)


TABLE4 = TableSpec("table4", "Table 4: SPIN iterations", "Table 4 ({run}): SPIN iterations on the Open LLM "
                   "Leaderboard tasks", _trajectory, LEADERBOARD_COLUMNS, True, AVERAGE)
TABLE3 = TableSpec("table3", "Table 3: SPIN + DPO and the baselines", "Table 3 ({run}): SPIN + DPO and the "
                   "baselines on the Open LLM Leaderboard tasks", _with_baselines, LEADERBOARD_COLUMNS, True, AVERAGE)
TABLE5 = TableSpec("table5", "Table 5: SFT for one more epoch", "Table 5 ({run}): SFT for one more epoch",
                   _one_more_epoch, LEADERBOARD_COLUMNS, True, None)
TABLE6 = TableSpec("table6", "Table 6: MT-Bench, Big-Bench-Hard and OpenBookQA", "Table 6 ({run}): MT-Bench, "
                   "Big-Bench-Hard and OpenBookQA", _trajectory, TABLE6_COLUMNS, False, MT_BENCH.heading)
TABLES = (TABLE4, TABLE3, TABLE5, TABLE6)  # in report order


# ------------------------------------------------------------------ the numbers, once


@dataclass(frozen=True)
class TableGrid:
    """A table's numbers: computed once, then rendered (with or without ± and marks) as often as needed."""

    spec: TableSpec
    run: str
    requested: tuple[Row, ...]  # the rows the spec asks for, for this run's iterations
    rows: tuple[Row, ...]  # those with at least one score, in order
    values: pd.DataFrame  # rows x shown headings (+ Average), printed units, unrounded; NaN where missing
    errors: pd.DataFrame  # standard errors in the same units (no Average)
    printed: pd.DataFrame  # the values as printed (Decimal), None where missing; the Average as printed
    notes: tuple[str, ...]  # what the data says: left-out columns, deviations, re-evaluations

    @property
    def title(self) -> str:
        return self.spec.title.format(run=self.run)

    @property
    def labels(self) -> dict[str, str]:
        return {row.name: run_label(self.run, row.checkpoint) for row in self.rows}

    @property
    def empty(self) -> bool:
        return self.values.empty

    def missing_required(self) -> list[Row]:
        """Rows the table means nothing without that have no score."""
        return [row for row in self.requested if row.required_as and row not in self.rows]


def build_grid(spec: TableSpec, scores: pd.DataFrame, run: str) -> TableGrid:
    """The table's numbers for ``run``; UserError when the frame has no score for the run at all."""
    picked, notes = _pick(scores, run, spec.columns)
    requested = spec.rows(iterations_of(_checkpoint_texts(scores, run)))
    values, errors = _values(picked, run, requested, spec.columns)
    rows = [row for row in requested if values.loc[row.name].notna().any()]  # a row with no score is left out
    kept = [c.heading for c in spec.columns if values[c.heading].notna().any()]
    names = [row.name for row in rows]
    values, errors = values.loc[names, kept], errors.loc[names, kept]
    if dropped := [c.heading for c in spec.columns if c.heading not in kept]:
        also = f" and so {AVERAGE}" if spec.average else ""
        notes.insert(0, f"Not in the store for this run, so left out: {', '.join(dropped)}{also}.")
    printed = values.map(to_printed)
    if spec.average and len(kept) == len(spec.columns):  # a mean over fewer tasks would not be the paper's Average
        by_task = values.rename(columns={c.heading: c.task for c in spec.columns})
        printed[AVERAGE] = pd.Series([paper_average(row) for row in by_task.to_dict("records")],
                                     index=values.index, dtype=object)
        values[AVERAGE] = printed[AVERAGE].map(as_float)
    return TableGrid(spec, run, tuple(requested), tuple(rows), values, errors, printed, tuple(notes))


def _checkpoint_texts(scores: pd.DataFrame, run: str) -> set[str]:
    prefix = f"{run}/"
    return {label[len(prefix):] for label in scores["label"].unique() if str(label).startswith(prefix)}


def _pick(scores: pd.DataFrame, run: str, columns: tuple[Column, ...]) -> tuple[pd.DataFrame, list[str]]:
    """The run's scores for these columns, newest evaluation per (label, task); notes on what was skipped."""
    if missing := {"label", "task", "metric", "filter", "value"} - set(scores.columns):
        raise UserError(f"scores frame lacks column(s) {', '.join(sorted(missing))}: pass ResultsStore.scores()")
    if scores.empty or not _checkpoint_texts(scores, run):
        runs = sorted({str(label).split("/", 1)[0] for label in scores["label"].unique()})
        raise UserError(f"no scores for run {run!r} (runs with scores: {', '.join(runs) or 'none'})")
    wanted = pd.DataFrame([(c.task, c.metric, c.filter, c.heading) for c in columns],
                          columns=["task", "metric", "filter", "heading"])
    mine = scores[scores["label"].astype(str).str.startswith(f"{run}/")].merge(wanted, on=["task", "metric", "filter"])
    order = [c for c in ("created_at", "evaluation_id") if c in mine.columns]
    mine = mine.sort_values(order, kind="stable", na_position="first") if order else mine
    repeated = mine[mine.duplicated(["label", "heading"], keep="last")]
    notes = _deviation_notes(mine.drop_duplicates(["label", "heading"], keep="last"))
    if not repeated.empty:
        where = sorted({f"{label} {heading}" for label, heading in zip(repeated["label"], repeated["heading"])})
        notes.append(f"Evaluated more than once; the newest score is shown: {', '.join(where)}.")
    return mine.drop_duplicates(["label", "heading"], keep="last"), notes


def _deviation_notes(picked: pd.DataFrame) -> list[str]:
    """One note per distinct deviation text, naming the columns it touches, in order of first appearance."""
    if "deviations" not in picked.columns:
        return []
    affected: dict[str, list[str]] = {}
    for heading, deviations in zip(picked["heading"], picked["deviations"]):
        for text in deviations if isinstance(deviations, (list, tuple)) else []:
            columns = affected.setdefault(text, [])
            if heading not in columns:
                columns.append(heading)
    return [f"Deviation from the paper's setting ({', '.join(columns)}): {text}" for text, columns in affected.items()]


def _values(picked: pd.DataFrame, run: str, rows: list[Row],
            columns: tuple[Column, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows x columns of printed-unit values and standard errors; NaN where the store has nothing."""
    scale = {c.heading: c.scale for c in columns}
    index = pd.Index([r.name for r in rows], name="Model")
    by_label = {run_label(run, r.checkpoint): r.name for r in rows}
    values = pd.DataFrame(np.nan, index=index, columns=list(scale))
    errors = values.copy()
    has_stderr = "stderr" in picked.columns
    for row in picked.itertuples(index=False):
        if (name := by_label.get(row.label)) is not None:
            values.loc[name, row.heading] = row.value * scale[row.heading]
            if has_stderr and pd.notna(row.stderr):
                errors.loc[name, row.heading] = row.stderr * scale[row.heading]
    return values, errors


# ------------------------------------------------------------------ printing


def render(grid: TableGrid, *, stderr: bool = False, marks: Mapping[Cell, str] | None = None,
           marks_note: str | None = None) -> TableResult:
    """The grid as printed text: gains, optional "± stderr", the marks given and the notes that explain them."""
    kept = [c.heading for c in grid.spec.columns if c.heading in grid.values.columns]
    text = grid.printed.map(as_text)
    head = []
    if AVERAGE in grid.printed.columns:
        head.append(f"{AVERAGE}: the plain mean of the {len(kept)} printed values, rounded to 2 decimals.")
    if (gain := grid.spec.gain) in text.columns:
        text[gain] = _with_gains(list(grid.rows), grid.printed[gain], text[gain])
        after_dpo = ", SPIN + DPO over the last iteration" if any(r.checkpoint == SPIN_DPO for r in grid.rows) else ""
        head.append(f"(+x.xx): change in {gain} over the stage before (iteration 0 over SFT, iteration k over "
                    f"k−1{after_dpo}).")
    if stderr:
        shown = grid.errors.notna()
        text[kept] = text[kept].where(~shown, text[kept] + " ± " + grid.errors.map(as_text))
        mt = " (MT-Bench: the standard error of the mean over judged turns)" if MT_BENCH.heading in kept else ""
        head.append(f"±: the standard error lm-eval reports for the score{mt}.")
    if (text == MISSING).any().any():
        needs = f" ({AVERAGE} needs all {len(grid.spec.columns)} scores)" if AVERAGE in text else ""
        head.append(f"{MISSING}: no score in the store{needs}.")
    marks = {cell: mark for cell, mark in (marks or {}).items() if cell[0] in text.index and cell[1] in text}
    if marks and not marks_note:
        raise ValueError("marks need marks_note, the footnote that names the test behind them")
    display = text.copy()
    for row, column in marks:
        display.loc[row, column] += "*"
    best = grid.printed.map(as_float).pipe(lambda f: f.eq(f.max()) & f.notna())
    return TableResult(grid.title, grid.values, display, head + list(grid.notes), text, grid.labels, marks,
                       marks_note if marks else None, best)


def _with_gains(rows: list[Row], printed: pd.Series, text: pd.Series) -> pd.Series:
    """Append "(+x.xx)", the difference of the two printed values, where both stages have one."""
    out = text.copy()
    present = {row.checkpoint: printed[row.name] for row in rows}
    for row in rows:
        before, now = present.get(row.follows), printed[row.name]
        if before is not None and now is not None:
            out[row.name] = f"{text[row.name]} ({now - before:+.2f})"
    return out


# The paper's tables by name, each built and rendered in one call: table4(scores, run, stderr=True, …).
table4 = TABLE4.build  # SFT and SPIN iterations 0..T on the six leaderboard tasks, Average with its gain
table3 = TABLE3.build  # the DPO baseline, Table 4's rows, then SPIN + DPO (gain over the last iteration)
table5 = TABLE5.build  # SFT against SFT trained one more epoch on the SFT data (no gains, as in the paper)
table6 = TABLE6.build  # MT-Bench (with its gain), BB-causal, BB-formal, BB-sports, OpenBookQA per iteration


# ------------------------------------------------------------------ comparison


def side_by_side(ours: TableResult, paper: TableResult) -> TableResult:
    """Each row three times: "paper", "this run" and Δ (this run − paper, from the printed values)."""
    rows = list(dict.fromkeys([*paper.numeric.index, *ours.numeric.index]))
    columns = list(dict.fromkeys([*paper.numeric.columns, *ours.numeric.columns]))
    theirs = paper.numeric.reindex(index=rows, columns=columns).map(to_printed)
    mine = ours.numeric.reindex(index=rows, columns=columns).map(to_printed)
    diff = pd.DataFrame([[None if a is None or b is None else b - a for a, b in zip(p, o)]
                         for p, o in zip(theirs.itertuples(index=False), mine.itertuples(index=False))],
                        index=rows, columns=columns)
    parts = {"paper": theirs, "this run": mine, "Δ": diff}
    printed = pd.concat(parts, names=["Source", "Model"]).swaplevel().reindex(
        pd.MultiIndex.from_product([rows, list(parts)], names=["Model", "Source"]))
    text = printed.map(as_text)
    is_diff = printed.index.get_level_values("Source") == "Δ"
    text.loc[is_diff] = printed.loc[is_diff].map(lambda v: MISSING if v is None else format(v, "+.2f"))
    numeric = printed.map(as_float)
    # Notes both tables share (what Average means) are said once; the rest is about this run's data.
    notes = ["Δ: this run − paper, from the printed (2-decimal) values. Averages are shown without gains.",
             *(note for note in paper.notes if note in ours.notes and not note.startswith("(+x.xx)")),
             *(f"This run: {note}" for note in ours.notes if note not in paper.notes)]
    return TableResult(f"{ours.title}, beside the paper", numeric, text.copy(), notes, text)
