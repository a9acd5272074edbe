"""A built table as Markdown, CSV, LaTeX or HTML. Every text that came from the store is escaped for the
format it is written in; numbers and marks are the table's own."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from reports.table_model import TableResult


def to_markdown(result: TableResult) -> str:
    """A GitHub pipe table plus footnotes (written here: pandas' to_markdown needs tabulate)."""
    frame = result.display
    names = [name or "" for name in frame.index.names]
    header = [*names, *(markdown_escape(str(c)) for c in frame.columns)]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([":---"] * len(names) + ["---:"] * len(frame.columns)) + "|"]
    for key, cells in zip(frame.index, frame.itertuples(index=False)):
        keys = key if isinstance(key, tuple) else (key,)
        lines.append("| " + " | ".join([*(markdown_escape(str(k)) for k in keys), *cells]) + " |")
    notes = [f"- {markdown_escape(note)}" for note in result.footnotes]
    return "\n".join([f"**{markdown_escape(result.title)}**", "", *lines, *([""] + notes if notes else [])]) + "\n"


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
    notes = "".join(rf"\par\footnotesize {_latex(note)}" + "\n" for note in result.footnotes_for(None))
    return latex.replace(r"\end{table}", notes + r"\end{table}")


def to_html(result: TableResult) -> str:
    """A Styler table with every text cell, heading and note HTML-escaped; best value per column in bold."""
    cells = _marked(result, html.escape, lambda m: f"<sup>{html.escape(m)}</sup>")
    # No index-name row: Styler would print it as a second header row under the column headings.
    frame = cells.rename(index=html.escape, columns=html.escape).rename_axis([None] * cells.index.nlevels)
    uuid = "t" + hashlib.sha1(result.title.encode()).hexdigest()[:8]  # stable ids: reports diff cleanly
    styler = frame.style.set_uuid(uuid).set_caption(html.escape(result.title))
    styler = styler.apply(lambda f: _props(result, f, "font-weight: bold;"), axis=None)
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in result.footnotes_for(None))
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


def markdown_escape(text: str) -> str:
    # Backslash escapes keep labels such as "<script>" or "a|b" literal in any CommonMark renderer.
    return re.sub(r"([\\|<>*_`\[\]])", r"\\\1", text)
