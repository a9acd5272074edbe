"""Paired tests under the ablation figures: is a point of a study different from the checkpoint it is
meant to be compared with?

- Figure 4: every iteration-0 epoch against SFT, and against the main run's iteration 1 (the paper's claim:
  more epochs of iteration 0 do not reach iteration 1).
- Figure 5: every training size and every extra SFT epoch against SFT.
- Loss/beta: every point against SFT, and against the logistic loss (the paper's) at the same beta.

Each comparison is the paired per-document test of reports.stats (McNemar for 0/1 scores, paired bootstrap
otherwise) on every paper task both were scored on, run by reports.significance with Holm's correction
across all tests of a figure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import pandas as pd

from reports.ablation_figures import AblationStudy, loss_points, numbered
from reports.metrics import TASK_HEADINGS, newest_rows, paper_metrics
from reports.plots import Plot, run_checkpoints
from reports.sections import ComparisonRow, ComparisonTable, FigureSection
from reports.significance import (
    ALPHA,
    PlannedComparison,
    SignificanceOutcome,
    run_tests,
)
from spin_bench.core.enums import LossKind
from spin_bench.core.names import CheckpointName, Kind, run_label

Pair = tuple[str, str]  # (checkpoint, the checkpoint it is compared with), as label texts after "<run>/"
Key = tuple[Pair, str]  # a pair and a task
_SFT, _ITERATION1 = CheckpointName.sft().format(), CheckpointName.of_iteration(1).format()


def planned(study: AblationStudy, checkpoints: Mapping[str, CheckpointName]) -> list[Pair]:
    """The pairs a figure's table tests, in display order; only pairs whose both checkpoints exist.

    ``checkpoints``: the run's checkpoints, label text -> name (reports.plots.run_checkpoints).
    """
    pairs: list[Pair] = []
    if study is AblationStudy.EPOCHS:
        epochs = [text for _, text in numbered(checkpoints, Kind.EPOCH)]
        pairs = [(c, _SFT) for c in epochs] + [(c, _ITERATION1) for c in epochs]
    elif study is AblationStudy.SIZES:
        pairs = [(c, _SFT) for _, c in numbered(checkpoints, Kind.SIZE) + numbered(checkpoints, Kind.SFT_CURVE)]
    elif study is AblationStudy.LOSS:
        points = loss_points(checkpoints)
        pairs = [(c, _SFT) for _, _, c in points]
        logistic = {beta: c for loss, beta, c in points if loss is LossKind.LOGISTIC}
        pairs += [(c, logistic[beta]) for loss, beta, c in points if loss is not LossKind.LOGISTIC and beta in logistic]
    return [(c, base) for c, base in pairs if base in checkpoints]


def with_tests(plots: Sequence[Plot], scores: pd.DataFrame, run: str, n_boot: int = 10_000) -> list[FigureSection]:
    """The plots as report sections, each ablation figure with its table of paired tests and its notes."""
    checkpoints = run_checkpoints(scores, run)
    studies = {study.value: study for study in AblationStudy}
    out = []
    for plot in plots:
        study = studies.get(plot.key)
        pairs = planned(study, checkpoints) if study is not None and plot.figure is not None else []
        out.append(_section(plot, scores, run, pairs, n_boot) if pairs else FigureSection(plot))
    return out


def _section(plot: Plot, scores: pd.DataFrame, run: str, pairs: list[Pair], n_boot: int) -> FigureSection:
    outcome = run_tests(_plan(scores, run, pairs), alpha=ALPHA, n_boot=n_boot)
    notes = [f"Not tested, {why}: {', '.join(sorted({task for _, task in keys}))}."
             for why, keys in outcome.untested_by_reason().items()]
    if not outcome.tested:
        return FigureSection(plot, None, tuple(notes))
    notes.insert(0, f"Paired per-document tests ({outcome.method()}), Holm-corrected across the "
                    f"{len(outcome.tested)} tests of this figure: difference in points, * where p < {ALPHA:g} "
                    "after correction. Each row is a checkpoint minus the one it is compared with.")
    return FigureSection(plot, _table(outcome), tuple(notes))


def _plan(scores: pd.DataFrame, run: str, pairs: list[Pair]) -> Iterator[PlannedComparison[Key]]:
    rows = {c: newest_rows(scores, run_label(run, c)) for pair in pairs for c in pair}
    for checkpoint, base in pairs:
        for key in paper_metrics():
            a_row, b_row = rows[base].get(key), rows[checkpoint].get(key)
            if a_row is not None and b_row is not None:
                yield PlannedComparison(((checkpoint, base), key[0]), a_row, b_row)


def _table(outcome: SignificanceOutcome[Key]) -> ComparisonTable:
    """Rows: "checkpoint − baseline"; columns: tasks; cells: the difference in points and its adjusted p."""
    cells: dict[Pair, dict[str, str]] = {}
    columns: list[str] = []
    for (pair, task), comparison in outcome.tested:
        heading = TASK_HEADINGS.get(task, task)
        columns += [heading] if heading not in columns else []
        mark = "*" if comparison.significant else ""
        cells.setdefault(pair, {})[heading] = (f"{100 * comparison.result.diff:+.2f}{mark} "
                                               f"(p={comparison.p_adjusted:.3g})")
    rows = tuple(ComparisonRow(f"{c} − {b}", tuple(row.get(column, "–") for column in columns))
                 for (c, b), row in cells.items())
    return ComparisonTable(tuple(columns), rows)
