"""Significance marks for a table's cells: † against the previous stage, ‡ against SFT.

Every shown cell with per-sample logs on both sides is tested (McNemar or paired bootstrap, reports.stats)
through reports.significance, with Holm's correction over all of the table's tests together. The previous
stage of iteration k is the model it started from (SFT for iteration 0); SPIN + DPO's is the table's last
iteration.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pandas as pd

from reports.metrics import newest_rows
from reports.significance import (
    ALPHA,
    PlannedComparison,
    SignificanceOutcome,
    run_tests,
)
from reports.stats import MDE_POWER
from reports.table_model import Cell
from reports.tables import SFT, SPIN_DPO, TableGrid
from spin_bench.core.names import CheckpointName, Kind, iterations_of, run_label

PREVIOUS_MARK = "†"
SFT_MARK = "‡"
_AGAINST = {PREVIOUS_MARK: "vs the previous stage", SFT_MARK: "vs SFT"}
MarkedCell = tuple[Cell, str]  # a cell and the mark its test earns


@dataclass(frozen=True)
class TableMarks:
    marks: dict[Cell, str]  # cell -> its marks, e.g. "†‡"
    note: str | None  # the footnote naming the test behind the marks; None when nothing is marked
    notes: tuple[str, ...]  # what was not tested and why, or that nothing differs


def compared_with(name: CheckpointName, shown: Sequence[CheckpointName]) -> list[tuple[CheckpointName, str]]:
    """The checkpoints a row is tested against, with the mark each earns; ``shown``: the table's rows."""
    previous = name.previous_stage()
    if name == SPIN_DPO:
        iterations = iterations_of(shown)
        previous = CheckpointName.of_iteration(iterations[-1]) if iterations else None
    against = [(previous, PREVIOUS_MARK)] if previous is not None else []
    if name.kind is not Kind.SFT and previous != SFT:
        against.append((SFT, SFT_MARK))
    return against


def table_marks(scores: pd.DataFrame, grid: TableGrid, *, alpha: float = ALPHA,
                n_boot: int = 10_000) -> TableMarks:
    """The marks of the grid's cells, the footnote naming the test, and notes on what could not be tested."""
    outcome = run_tests(_plan(scores, grid), alpha=alpha, n_boot=n_boot)
    notes = [f"Not tested for significance, {why}: {', '.join(sorted(set(map(_where, keys))))}."
             for why, keys in outcome.untested_by_reason().items()]
    if not outcome.tested:
        if outcome.untested:
            notes.insert(0, "No significance marks: no cell of this table could be tested (see below).")
        return TableMarks({}, None, tuple(notes))
    marks: dict[Cell, str] = {}
    for (cell, mark), comparison in outcome.tested:
        if comparison.significant:
            marks[cell] = marks.get(cell, "") + mark
    if power := _mde_note(outcome, grid):
        notes.insert(0, power)
    if not marks:
        notes.insert(0, f"No cell differs significantly: {len(outcome.tested)} paired tests "
                        f"({', '.join(outcome.tests_used())}), Holm-corrected across the table, none below "
                        f"p = {alpha:g}.")
        return TableMarks({}, None, tuple(notes))
    return TableMarks(marks, _marks_note(outcome), tuple(notes))


def _mde_note(outcome: SignificanceOutcome[MarkedCell], grid: TableGrid) -> str | None:
    """Per column, the range over its tests of the smallest true difference each could detect (in the
    table's printed units), so a reader sees whether "no mark" means "no change" or "too few items to tell"."""
    scale = {column.heading: column.scale for column in grid.spec.columns}
    by_heading: dict[str, list[float]] = {}
    for ((_, heading), _), comparison in outcome.tested:
        if comparison.result is not None and comparison.result.mde is not None:
            by_heading.setdefault(heading, []).append(comparison.result.mde * scale[heading])
    if not by_heading:
        return None
    ranges = [_range(heading, by_heading[heading]) for heading in grid.values.columns if heading in by_heading]
    return (f"Smallest true difference each test detects with {MDE_POWER:.0%} power at p < {outcome.alpha:g} "
            f"(before Holm), in the table's units, per column over its tests: {'; '.join(ranges)}. It grows with "
            "how often the two checkpoints disagree; a difference below it can go unmarked.")


def _range(heading: str, mdes: list[float]) -> str:
    low, high = _printed(min(mdes)), _printed(max(mdes))
    return f"{heading} {low}" if low == high else f"{heading} {low} to {high}"


def _printed(mde: float) -> str:
    # One decimal for percentage points; MT-Bench's 1-10 scores move by hundredths.
    return f"{mde:.1f}" if mde >= 1 else f"{mde:.2f}"


def _marks_note(outcome: SignificanceOutcome[MarkedCell]) -> str:
    return (f"{PREVIOUS_MARK} differs from the previous stage (iteration 0 from SFT, iteration k from k−1, "
            f"SPIN + DPO from the last iteration), {SFT_MARK} from SFT, at p < {outcome.alpha:g} after Holm's "
            f"correction across the {len(outcome.tested)} paired per-document tests of this table "
            f"({outcome.method()}).")


def _where(key: MarkedCell) -> str:
    (row, heading), mark = key
    return f"{row} {heading} ({_AGAINST[mark]})"


def _plan(scores: pd.DataFrame, grid: TableGrid) -> Iterator[PlannedComparison[MarkedCell]]:
    """One comparison per (shown cell, checkpoint it is compared with) where both have a score row."""
    by_heading = {column.heading: column for column in grid.spec.columns}
    shown = [row.checkpoint for row in grid.rows]
    # Only shown rows and SFT can be compared with: a stage not in the table has no score in its columns.
    rows_of = {label: newest_rows(scores, label) for label in {run_label(grid.run, c) for c in [*shown, SFT]}}
    for row in grid.rows:
        label = run_label(grid.run, row.checkpoint)
        for heading in grid.values.columns:
            column = by_heading.get(heading)
            if column is None or pd.isna(grid.values.loc[row.name, heading]):
                continue  # the Average, or a cell without a score
            key = (column.task, column.metric, column.filter)
            for base, mark in compared_with(row.checkpoint, shown):
                a_row = rows_of.get(run_label(grid.run, base), {}).get(key)
                b_row = rows_of[label].get(key)
                if a_row is not None and b_row is not None:
                    yield PlannedComparison(((row.name, heading), mark), a_row, b_row)
