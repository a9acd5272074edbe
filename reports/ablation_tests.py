"""Paired tests under the ablation figures: is a point of a study different from the checkpoint it is
meant to be compared with?

- Figure 4: every iteration-0 epoch against SFT, and against the main run's iteration 1 (the paper's claim:
  more epochs of iteration 0 do not reach iteration 1).
- Figure 5: every training size and every extra SFT epoch against SFT.
- Loss/beta: every point against SFT, and against the logistic loss (the paper's) at the same beta.

Each comparison is the paired per-document test of reports.stats (McNemar for 0/1 scores, paired bootstrap
otherwise) on every paper task both were scored on, with Holm's correction across all tests of a figure.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from reports.ablation_figures import EPOCH, LOSS, SFT_CURVE, SIZE
from reports.compare import adjust, compare_rows, newest_rows, paper_metrics
from reports.figures import _HEADINGS, Plot
from spin_bench.errors import UserError

ALPHA = 0.05


def planned(figure: str, checkpoints: set[str]) -> list[tuple[str, str]]:
    """(checkpoint, baseline) pairs a figure's table tests, in display order; only checkpoints that exist."""
    def numbered(pattern: re.Pattern[str]) -> list[str]:
        found = [(int(m.group(1)), c) for c in checkpoints if (m := pattern.fullmatch(c))]
        return [c for _, c in sorted(found)]

    pairs: list[tuple[str, str]] = []
    if figure == "figure4":
        pairs = [(c, "sft") for c in numbered(EPOCH)] + [(c, "iter1") for c in numbered(EPOCH)]
    elif figure == "figure5":
        pairs = [(c, "sft") for c in numbered(SIZE) + numbered(SFT_CURVE)]
    elif figure == "figure_loss":
        points = sorted(((m.group(1), float(m.group(2)), c) for c in checkpoints if (m := LOSS.fullmatch(c))),
                        key=lambda p: (p[1], p[0]))
        pairs = [(c, "sft") for _, _, c in points]
        logistic = {beta: c for loss, beta, c in points if loss == "logistic"}
        pairs += [(c, logistic[beta]) for loss, beta, c in points if loss != "logistic" and beta in logistic]
    return [(c, base) for c, base in pairs if base in checkpoints]


def with_tests(plots: Sequence[Plot], scores: pd.DataFrame, run: str, root: Path | None,
               n_boot: int = 10_000) -> list[Plot]:
    """The plots, the ablation figures among them carrying their table of paired tests and its notes."""
    prefix = f"{run}/"
    checkpoints = {str(label)[len(prefix):] for label in scores["label"].unique() if str(label).startswith(prefix)}
    out = []
    for plot in plots:
        pairs = planned(plot.key, checkpoints) if plot.figure is not None else []
        if pairs:
            table, notes = _tests(scores, run, pairs, root, n_boot)
            plot = replace(plot, tests_html=table, notes=tuple(notes))
        out.append(plot)
    return out


def _tests(scores: pd.DataFrame, run: str, pairs: list[tuple[str, str]], root: Path | None,
           n_boot: int) -> tuple[str | None, list[str]]:
    from reports.report import _with_samples

    rows = {c: newest_rows(scores, f"{run}/{c}") for pair in pairs for c in pair}
    cells, results, untested = [], [], {}
    for checkpoint, base in pairs:
        for key in paper_metrics():
            a, b = rows[base].get(key), rows[checkpoint].get(key)
            if a is None or b is None:
                continue
            try:
                result = compare_rows(_with_samples(a, root), _with_samples(b, root), alpha=ALPHA, n_boot=n_boot)
            except UserError as err:
                untested.setdefault("no per-sample logs" if "sample" in str(err) else str(err), set()).add(key[0])
                continue
            if result.result is None:
                untested.setdefault(f"the evaluation setup differs ({result.reason})", set()).add(key[0])
                continue
            cells.append(((checkpoint, base), _HEADINGS.get(key[0], key[0])))
            results.append(result)
    notes = [f"Not tested, {why}: {', '.join(sorted(tasks))}." for why, tasks in untested.items()]
    if not results:
        return None, notes
    adjusted = adjust(results, ALPHA)
    tests = sorted({r.result.test for r in adjusted})
    notes.insert(0, f"Paired per-document tests ({', '.join(tests)}; bootstrap {n_boot} resamples), "
                    f"Holm-corrected across the {len(adjusted)} tests of this figure: difference in points, "
                    f"* where p < {ALPHA:g} after correction. Each row is a checkpoint minus the one it is "
                    "compared with.")
    return _table(cells, adjusted), notes


def _table(cells, adjusted) -> str:
    """Rows: "checkpoint − baseline"; columns: tasks; cells: the difference in points (escaped HTML)."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    columns: list[str] = []
    for (pair, heading), result in zip(cells, adjusted, strict=True):
        columns += [heading] if heading not in columns else []
        mark = "*" if result.significant else ""
        rows.setdefault(pair, {})[heading] = f"{100 * result.result.diff:+.2f}{mark} (p={result.p_adjusted:.3g})"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        f"<tr><td class=\"text\">{html.escape(f'{c} − {b}')}</td>"
        + "".join(f"<td>{html.escape(row.get(col, '–'))}</td>" for col in columns) + "</tr>"
        for (c, b), row in rows.items())
    return f'<table class="ablation-tests"><tr><th class="text">comparison</th>{head}</tr>{body}</table>'
