"""What a built table is: its columns, its rows, the result every export renders, and how a number prints.

Kept apart from the builders (reports.tables) and the exports (reports.table_export) so that both can
import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from spin_bench.core.names import CheckpointName

MISSING = "–"
AVERAGE = "Average"
Cell = tuple[str, str]  # (row name, column heading), e.g. ("SPIN iteration 1", "ARC")


@dataclass(frozen=True)
class Column:
    heading: str
    task: str
    metric: str
    filter: str
    scale: float  # store value -> printed number: accuracies are fractions printed as percentages


@dataclass(frozen=True)
class Row:
    """One row a table asks for; it is shown only when the store has a score for it."""

    name: str  # as printed, e.g. "SPIN iteration 1"
    checkpoint: CheckpointName
    follows: CheckpointName | None = None  # the stage the gain is measured against (the previous SPIN stage)
    required_as: str | None = None  # set when the table means nothing without this row: what the row is


@dataclass(frozen=True)
class TableResult:
    """A built table. ``numeric`` holds printed units (unrounded; NaN where missing; Average as printed).

    ``display`` is the Markdown/CSV text ("*" after a marked cell); HTML and LaTeX render ``cells`` with the
    caller's own marker as a superscript. ``labels`` maps each row name to its store label.
    """

    title: str
    numeric: pd.DataFrame
    display: pd.DataFrame
    notes: list[str]
    cells: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)
    marks: dict[Cell, str] = field(default_factory=dict)
    marks_note: str | None = None
    best: pd.DataFrame | None = None  # True where the cell is its column's best (bold in LaTeX/HTML)

    @property
    def footnotes(self) -> list[str]:
        """Footnotes as Markdown and CSV show them (marked cells carry "*")."""
        return self.footnotes_for("*")

    def footnotes_for(self, symbol: str | None) -> list[str]:
        """The notes, with the significance note first; ``symbol=None`` names the caller's own markers."""
        if not self.marks_note:
            return list(self.notes)
        shown = symbol or "/".join(dict.fromkeys(self.marks.values()))
        return [f"{shown}: {self.marks_note}", *self.notes]


def to_printed(value: float) -> Decimal | None:
    """The number as the paper prints it: two decimals (formatting rounds the double correctly)."""
    return None if pd.isna(value) else Decimal(format(value, ".2f"))


def as_float(value: Decimal | None) -> float:
    return np.nan if value is None else float(value)


def as_text(value: Decimal | float | None) -> str:
    return MISSING if value is None or pd.isna(value) else format(value, ".2f")
