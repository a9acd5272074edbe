"""The report page as typed data: one dataclass per kind of section, and :class:`ReportPage`, the whole page.

Builders in reports.report fill these; reports.html renders them with autoescape on. Only two fields hold
HTML, and both are built by this package from escaped parts: ``TableSection.html`` (reports.table_export)
and the figure divs plotly writes from a :class:`~reports.plots.Plot` (its text escaped by
reports.plots.plot_text, its JSON escaping ``<``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from reports.plots import Plot

T = TypeVar("T")


@dataclass(frozen=True)
class TableSection:
    """One table, or the reason it is left out (exactly one of ``html`` and ``reason`` is set)."""

    id: str
    title: str
    html: str | None  # escaped HTML from reports.table_export.to_html
    reason: str | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.html is None) == (self.reason is None):
            raise ValueError("a TableSection has either html or a reason, not both or neither")


@dataclass(frozen=True)
class ComparisonRow:
    name: str  # "<checkpoint> − <compared with>"
    cells: tuple[str, ...]  # one per column: "+2.00* (p=0.01)", or "–"


@dataclass(frozen=True)
class ComparisonTable:
    """A table under a figure: paired tests under an ablation figure (a row per comparison, a column per
    task), or the held-out monitor's numbers under the convergence figure (a row per checkpoint)."""

    columns: tuple[str, ...]
    rows: tuple[ComparisonRow, ...]
    heading: str = "comparison"  # the heading of the row names' column
    css_class: str = "ablation-tests"


@dataclass(frozen=True)
class FigureSection:
    plot: Plot
    tests: ComparisonTable | None = None
    notes: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.plot.key

    @property
    def title(self) -> str:
        return self.plot.title


@dataclass(frozen=True)
class Answer:
    who: str
    text: str


@dataclass(frozen=True)
class Example:
    """One SPIN prompt with its ground truth and each iteration's opponent answer (paper Tables 7 and 8)."""

    prompt_id: str
    prompt: str
    real: str
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class ExamplesSection(Generic[T]):
    """Examples (SPIN prompts, or MT-Bench questions) and a note: what the rows are, or why there are none."""

    rows: tuple[T, ...]
    note: str


@dataclass(frozen=True)
class RatedAnswer:
    who: str
    text: str
    score: str  # as shown: "7.50", or "-1 (failed)"


@dataclass(frozen=True)
class MtBenchTurn:
    turn: int
    question: str
    answers: tuple[RatedAnswer, ...]


@dataclass(frozen=True)
class MtBenchQuestion:
    question_id: int
    category: str
    turns: tuple[MtBenchTurn, ...]


@dataclass(frozen=True)
class ProvenanceBlock:
    """One provenance table: ``rows`` of text cells under ``columns``; ``empty`` is shown when there is none."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str


@dataclass(frozen=True)
class FlipCount:
    task: str
    right_to_wrong: int
    wrong_to_right: int
    p: str  # McNemar's p on these discordant pairs, Holm-adjusted across the section, as shown


@dataclass(frozen=True)
class FlipExample:
    """A flipped item as the report shows it (texts cut by the builder, escaped by the template)."""

    task: str
    direction: str  # "right → wrong" or "wrong → right"
    doc: str
    prompt: str
    gold: str
    a_answer: str
    b_answer: str


@dataclass(frozen=True)
class FlipPair:
    """The flips from one checkpoint to the next (SFT → iteration 0, iteration t−1 → t)."""

    a: str
    b: str
    plot: Plot  # flip counts per task
    counts: tuple[FlipCount, ...]
    examples: tuple[FlipExample, ...]
    mt_bench: tuple[MtBenchQuestion, ...] = ()  # the questions whose rating moved most, both answers
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlipsSection:
    pairs: tuple[FlipPair, ...]
    note: str  # what the section shows, or why it is empty


@dataclass(frozen=True)
class ReportPage:
    title: str
    plotly_js: str
    store_url: str
    run_dir: str | None
    built_at: str
    labels: tuple[str, ...]
    tables: tuple[TableSection, ...]
    figures: tuple[FigureSection, ...]
    examples: ExamplesSection[Example]
    mt_bench: ExamplesSection[MtBenchQuestion]
    provenance: tuple[ProvenanceBlock, ...]
    static_message: str | None = None
    flips: FlipsSection | None = None
