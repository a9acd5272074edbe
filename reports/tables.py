"""The paper's Tables 3-6 rebuilt from a results-store frame, and their Markdown/CSV/LaTeX/HTML exports.

A builder takes ``ResultsStore.scores()`` (or ``paper_as_scores()``) and a run prefix, and prints the run's
checkpoints (``<run>/sft``, ``<run>/iter0`` …) the way the paper does: percentages with two decimals, the
plain mean of the six leaderboard columns, and that mean's gain over the previous SPIN stage, as in
"60.80 (+2.66)". A missing score is shown as "–" and a row or column with no score at all is left out;
no number is ever filled in.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from spin_bench.bench.suites import BBH, LEADERBOARD, LEADERBOARD_AVERAGE, OPENBOOKQA
from spin_bench.errors import UserError

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


_SPECS = {spec.name: spec for spec in (*LEADERBOARD, *BBH, *OPENBOOKQA)}
LEADERBOARD_COLUMNS = tuple(Column(_SPECS[t].column, t, _SPECS[t].metric, _SPECS[t].filter, 100.0)
                            for t in LEADERBOARD_AVERAGE)
# MT-Bench is judged outside lm-eval; its mean 1-10 score is stored as task "mt_bench", metric "score".
MT_BENCH = Column("MT-Bench", "mt_bench", "score", "none", 1.0)
TABLE6_COLUMNS = (MT_BENCH, *(Column(s.column, s.name, s.metric, s.filter, 100.0) for s in (*BBH, *OPENBOOKQA)))


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
        return _footnotes(self, "*")


@dataclass(frozen=True)
class _Row:
    name: str
    checkpoint: str
    follows: str | None = None  # checkpoint the gain is measured against (the previous SPIN stage)


def table4(scores: pd.DataFrame, run: str, *, stderr: bool = False, marks: Mapping[Cell, str] | None = None,
           marks_note: str | None = None) -> TableResult:
    """Table 4: SFT and SPIN iterations 0..T on the six leaderboard tasks, Average with its gain."""
    rows = [_Row("SFT", "sft"), *_iteration_rows(scores, run)]
    return _build(scores, run, f"Table 4 ({run}): SPIN iterations on the Open LLM Leaderboard tasks", rows,
                  LEADERBOARD_COLUMNS, True, AVERAGE, stderr, marks, marks_note)


def table3(scores: pd.DataFrame, run: str, *, stderr: bool = False, marks: Mapping[Cell, str] | None = None,
           marks_note: str | None = None) -> TableResult:
    """Table 3: the DPO baseline first, then Table 4's rows, then SPIN + DPO (gain over the last iteration)."""
    iterations = _iteration_rows(scores, run)
    last = iterations[-1].checkpoint if iterations else "sft"
    rows = [_Row("DPO", "dpo"), _Row("SFT", "sft"), *iterations, _Row("SPIN + DPO", "spin_dpo", last)]
    title = f"Table 3 ({run}): SPIN + DPO and the baselines on the Open LLM Leaderboard tasks"
    return _build(scores, run, title, rows, LEADERBOARD_COLUMNS, True, AVERAGE, stderr, marks, marks_note)


def table5(scores: pd.DataFrame, run: str, *, stderr: bool = False, marks: Mapping[Cell, str] | None = None,
           marks_note: str | None = None) -> TableResult:
    """Table 5: SFT against SFT trained one more epoch on the SFT data (no gains, as in the paper)."""
    rows = [_Row("SFT", "sft"), _Row("SFT + 1 epoch", "sft_epoch")]
    return _build(scores, run, f"Table 5 ({run}): SFT for one more epoch", rows, LEADERBOARD_COLUMNS, True,
                  None, stderr, marks, marks_note)


def table6(scores: pd.DataFrame, run: str, *, stderr: bool = False, marks: Mapping[Cell, str] | None = None,
           marks_note: str | None = None) -> TableResult:
    """Table 6: MT-Bench (with its gain) and BB-causal, BB-formal, BB-sports, OpenBookQA per iteration."""
    rows = [_Row("SFT", "sft"), *_iteration_rows(scores, run)]
    return _build(scores, run, f"Table 6 ({run}): MT-Bench, Big-Bench-Hard and OpenBookQA", rows, TABLE6_COLUMNS,
                  False, MT_BENCH.heading, stderr, marks, marks_note)


def _iteration_rows(scores: pd.DataFrame, run: str) -> list[_Row]:
    """SPIN iterations present for the run, in numeric order; iteration k's gain is over k-1 (or SFT)."""
    found = {int(m.group(1)) for label in _labels(scores, run) if (m := re.fullmatch(r"iter(\d+)", label))}
    return [_Row(f"SPIN iteration {k}", f"iter{k}", "sft" if k == 0 else f"iter{k - 1}") for k in sorted(found)]


def _labels(scores: pd.DataFrame, run: str) -> set[str]:
    prefix = f"{run}/"
    return {label[len(prefix):] for label in scores["label"].unique() if str(label).startswith(prefix)}


# ------------------------------------------------------------------ building


def _build(scores: pd.DataFrame, run: str, title: str, rows: list[_Row], columns: tuple[Column, ...],
           average: bool, gain: str | None, stderr: bool, marks: Mapping[Cell, str] | None,
           marks_note: str | None) -> TableResult:
    picked, notes = _pick(scores, run, columns)
    values, errors = _grid(picked, run, rows, columns)
    rows = [row for row in rows if values.loc[row.name].notna().any()]  # a row with no score is left out
    kept = [c.heading for c in columns if values[c.heading].notna().any()]
    names = [row.name for row in rows]
    values, errors = values.loc[names, kept], errors.loc[names, kept]
    if dropped := [c.heading for c in columns if c.heading not in kept]:
        also = f" and so {AVERAGE}" if average else ""
        notes.insert(0, f"Not in the store for this run, so left out: {', '.join(dropped)}{also}.")
    printed = values.map(_printed)
    text = printed.map(_text)
    head = []
    if average and len(kept) == len(columns):  # a mean over fewer tasks would not be the paper's Average
        printed[AVERAGE] = printed.apply(_average, axis=1)
        values[AVERAGE] = printed[AVERAGE].map(_float)
        text[AVERAGE] = printed[AVERAGE].map(_text)
        head.append(f"{AVERAGE}: the plain mean of the {len(kept)} printed values, rounded to 2 decimals.")
    if gain in text.columns:
        text[gain] = _with_gains(rows, printed[gain], text[gain])
        after_dpo = ", SPIN + DPO over the last iteration" if any(r.checkpoint == "spin_dpo" for r in rows) else ""
        head.append(f"(+x.xx): change in {gain} over the stage before (iteration 0 over SFT, iteration k over "
                    f"k−1{after_dpo}).")
    if stderr:
        shown = errors.notna()
        text[kept] = text[kept].where(~shown, text[kept] + " ± " + errors.map(_text))
        mt = " (MT-Bench: the standard error of the mean over judged turns)" if MT_BENCH.heading in kept else ""
        head.append(f"±: the standard error lm-eval reports for the score{mt}.")
    if (text == MISSING).any().any():
        needs = f" ({AVERAGE} needs all {len(columns)} scores)" if AVERAGE in text else ""
        head.append(f"{MISSING}: no score in the store{needs}.")
    marks = {cell: mark for cell, mark in (marks or {}).items() if cell[0] in text.index and cell[1] in text}
    if marks and not marks_note:
        raise ValueError("marks need marks_note, the footnote that names the test behind them")
    display = text.copy()
    for row, column in marks:
        display.loc[row, column] += "*"
    best = printed.map(_float).pipe(lambda f: f.eq(f.max()) & f.notna())
    labels = {row.name: f"{run}/{row.checkpoint}" for row in rows}
    return TableResult(title, values, display, head + notes, text, labels, marks, marks_note if marks else None,
                       best)


def _pick(scores: pd.DataFrame, run: str, columns: tuple[Column, ...]) -> tuple[pd.DataFrame, list[str]]:
    """The run's scores for these columns, newest evaluation per (label, task); notes on what was skipped."""
    if missing := {"label", "task", "metric", "filter", "value"} - set(scores.columns):
        raise UserError(f"scores frame lacks column(s) {', '.join(sorted(missing))}: pass ResultsStore.scores()")
    if scores.empty or not _labels(scores, run):
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


def _grid(picked: pd.DataFrame, run: str, rows: list[_Row],
          columns: tuple[Column, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows x columns of printed-unit values and standard errors; NaN where the store has nothing."""
    scale = {c.heading: c.scale for c in columns}
    index = pd.Index([r.name for r in rows], name="Model")
    by_label = {f"{run}/{r.checkpoint}": r.name for r in rows}
    values = pd.DataFrame(np.nan, index=index, columns=list(scale))
    errors = values.copy()
    has_stderr = "stderr" in picked.columns
    for row in picked.itertuples(index=False):
        if (name := by_label.get(row.label)) is not None:
            values.loc[name, row.heading] = row.value * scale[row.heading]
            if has_stderr and pd.notna(row.stderr):
                errors.loc[name, row.heading] = row.stderr * scale[row.heading]
    return values, errors


def _printed(value: float) -> Decimal | None:
    """The number as the paper prints it: two decimals (formatting rounds the double correctly)."""
    return None if pd.isna(value) else Decimal(format(value, ".2f"))


def _float(value: Decimal | None) -> float:
    return np.nan if value is None else float(value)


def _text(value: Decimal | float | None) -> str:
    return MISSING if value is None or pd.isna(value) else format(value, ".2f")


def _average(printed: pd.Series) -> Decimal | None:
    """Mean of the printed values, rounded: what a reader checking the printed row computes.

    Exact ties at the third decimal (one mean in six) are rounded as the nearest binary double rounds:
    the paper prints 63.165 as 63.16 (Table 4) but 57.225 as 57.23 (Table 5), and only that rule gives both
    (round-half-up and round-half-even each miss one).
    """
    if any(v is None for v in printed):
        return None  # a mean over fewer tasks is not the paper's Average
    exact = sum(printed, Decimal(0)) / len(printed)
    return Decimal(format(float(exact), ".2f"))


def _with_gains(rows: list[_Row], printed: pd.Series, text: pd.Series) -> pd.Series:
    """Append "(+x.xx)", the difference of the two printed values, where both stages have one."""
    out = text.copy()
    present = {row.checkpoint: printed[row.name] for row in rows}
    for row in rows:
        before, now = present.get(row.follows), printed[row.name]
        if before is not None and now is not None:
            out[row.name] = f"{text[row.name]} ({now - before:+.2f})"
    return out


def _footnotes(result: TableResult, symbol: str | None) -> list[str]:
    """The notes, with the significance note first; ``symbol=None`` names the caller's own markers."""
    if not result.marks_note:
        return list(result.notes)
    shown = symbol or "/".join(dict.fromkeys(result.marks.values()))
    return [f"{shown}: {result.marks_note}", *result.notes]


# ------------------------------------------------------------------ comparison


def side_by_side(ours: TableResult, paper: TableResult) -> TableResult:
    """Each row three times: "paper", "this run" and Δ (this run − paper, from the printed values)."""
    rows = list(dict.fromkeys([*paper.numeric.index, *ours.numeric.index]))
    columns = list(dict.fromkeys([*paper.numeric.columns, *ours.numeric.columns]))
    theirs = paper.numeric.reindex(index=rows, columns=columns).map(_printed)
    mine = ours.numeric.reindex(index=rows, columns=columns).map(_printed)
    diff = pd.DataFrame([[None if a is None or b is None else b - a for a, b in zip(p, o)]
                         for p, o in zip(theirs.itertuples(index=False), mine.itertuples(index=False))],
                        index=rows, columns=columns)
    parts = {"paper": theirs, "this run": mine, "Δ": diff}
    printed = pd.concat(parts, names=["Source", "Model"]).swaplevel().reindex(
        pd.MultiIndex.from_product([rows, list(parts)], names=["Model", "Source"]))
    text = printed.map(_text)
    is_diff = printed.index.get_level_values("Source") == "Δ"
    text.loc[is_diff] = printed.loc[is_diff].map(lambda v: MISSING if v is None else format(v, "+.2f"))
    numeric = printed.map(_float)
    # Notes both tables share (what Average means) are said once; the rest is about this run's data.
    notes = ["Δ: this run − paper, from the printed (2-decimal) values. Averages are shown without gains.",
             *(note for note in paper.notes if note in ours.notes and not note.startswith("(+x.xx)")),
             *(f"This run: {note}" for note in ours.notes if note not in paper.notes)]
    return TableResult(f"{ours.title}, beside the paper", numeric, text.copy(), notes, text)


# ------------------------------------------------------------------ exports


def to_markdown(result: TableResult) -> str:
    """A GitHub pipe table plus footnotes (written here: pandas' to_markdown needs tabulate)."""
    frame = result.display
    names = [name or "" for name in frame.index.names]
    header = [*names, *(_md(str(c)) for c in frame.columns)]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([":---"] * len(names) + ["---:"] * len(frame.columns)) + "|"]
    for key, cells in zip(frame.index, frame.itertuples(index=False)):
        keys = key if isinstance(key, tuple) else (key,)
        lines.append("| " + " | ".join([*(_md(str(k)) for k in keys), *cells]) + " |")
    notes = [f"- {_md(note)}" for note in result.footnotes]
    return "\n".join([f"**{_md(result.title)}**", "", *lines, *([""] + notes if notes else [])]) + "\n"


def to_csv(result: TableResult, *, numeric: bool = False) -> str:
    """The display text ("*" on marked cells), or with ``numeric=True`` the numbers in printed units."""
    return (result.numeric if numeric else result.display).to_csv()


def to_latex(result: TableResult) -> str:
    """A booktabs table (Styler, ``hrules=True``), the best value per column in \\textbf, notes below."""
    cells = _marked(result, _latex, lambda m: rf"\textsuperscript{{{_latex(m)}}}")
    frame = cells.rename(index=_latex, columns=_latex).rename_axis([None] * cells.index.nlevels)
    styler = frame.style.apply(lambda f: _props(result, f, "textbf: --rwrap;"), axis=None)
    latex = styler.to_latex(hrules=True, caption=_latex(result.title), environment="table",
                            position_float="centering", column_format="l" * cells.index.nlevels
                            + "r" * len(cells.columns))
    notes = "".join(rf"\par\footnotesize {_latex(note)}" + "\n" for note in _footnotes(result, None))
    return latex.replace(r"\end{table}", notes + r"\end{table}")


def to_html(result: TableResult) -> str:
    """A Styler table with every text cell, heading and note HTML-escaped; best value per column in bold."""
    cells = _marked(result, html.escape, lambda m: f"<sup>{html.escape(m)}</sup>")
    # No index-name row: Styler would print it as a second header row under the column headings.
    frame = cells.rename(index=html.escape, columns=html.escape).rename_axis([None] * cells.index.nlevels)
    uuid = "t" + hashlib.sha1(result.title.encode()).hexdigest()[:8]  # stable ids: reports diff cleanly
    styler = frame.style.set_uuid(uuid).set_caption(html.escape(result.title))
    styler = styler.apply(lambda f: _props(result, f, "font-weight: bold;"), axis=None)
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in _footnotes(result, None))
    return styler.to_html() + (f'<ul class="footnotes">{notes}</ul>\n' if notes else "")


def _marked(result: TableResult, escape: Callable[[str], str], superscript: Callable[[str], str]) -> pd.DataFrame:
    cells = result.cells.map(escape)
    for (row, column), mark in result.marks.items():
        cells.loc[row, column] += superscript(mark)
    return cells


def _props(result: TableResult, frame: pd.DataFrame, props: str) -> pd.DataFrame:
    if result.best is None:
        return pd.DataFrame("", index=frame.index, columns=frame.columns)
    return pd.DataFrame(np.where(result.best.to_numpy(), props, ""), index=frame.index, columns=frame.columns)


_LATEX_CHARS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "<": r"\textless{}", ">": r"\textgreater{}", "±": r"$\pm$", "–": "--", "Δ": r"$\Delta$",
                "†": r"\dag{}", "‡": r"\ddag{}", "→": r"$\rightarrow$", "−": "-", "…": r"\ldots{}"}


def _latex(text: object) -> str:
    return "".join(_LATEX_CHARS.get(ch, ch) for ch in str(text))


def _md(text: str) -> str:
    # Backslash escapes keep labels such as "<script>" or "a|b" literal in any CommonMark renderer.
    return re.sub(r"([\\|<>*_`\[\]])", r"\\\1", text)
