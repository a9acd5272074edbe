"""The ablation figures: epochs within iteration 0 (paper Figure 4), training size against SFT trained longer
(Figure 5) and the loss/beta sweep. Each reads the checkpoints `spin-bench ablate` writes (training.ablations),
named by spin_bench.core.names:

  <run>/iter0-epoch<k>      iteration 0 after epoch k          <run>/iter1  the main run's iteration 1
  <run>/size<N>             iteration 0 on the first N prompts <run>/sft-epoch<k>  SFT after k more epochs
  <run>/loss-<loss>-beta<b> iteration 0 with that loss and beta (every loss of LossKind)

Every panel shows the six leaderboard tasks' paper metrics and the paper's Average
(:func:`spin_bench.bench.suites.paper_average`, as Table 4 prints it) when all six are scored; a missing
score is a gap, never filled in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from reports.metrics import newest_rows
from reports.plots import Plot, left_out, plot_text, plot_texts, run_checkpoints, styled
from reports.table_model import AVERAGE
from reports.tables import LEADERBOARD_COLUMNS
from spin_bench.bench.suites import paper_average
from spin_bench.core.enums import LossKind
from spin_bench.core.names import CheckpointName, Kind, run_label

HEADINGS = (*(c.heading for c in LEADERBOARD_COLUMNS), AVERAGE)
_COLORS = dict(zip(HEADINGS, qualitative.Plotly, strict=False))
# Colours follow LossKind, so a loss added there gets a line (and a colour) of its own.
LOSS_COLORS = dict(zip(LossKind, qualitative.D3, strict=False))
_LOSS_FORMULAS = {LossKind.LOGISTIC: "log(1+e^−t)", LossKind.HINGE: "max(0, 1−t)", LossKind.EXPONENTIAL: "e^−t",
                  LossKind.LINEAR: "1−t"}
SFT = CheckpointName.sft()


class AblationStudy(StrEnum):
    """The ablation figures; each value is its Plot's key."""

    EPOCHS = "figure4"
    SIZES = "figure5"
    LOSS = "figure_loss"


def metric_values(scores: pd.DataFrame, label: str) -> dict[str, float]:
    """Heading -> the label's newest paper-metric score in percent, and the paper's Average when all six exist."""
    rows = newest_rows(scores, label)
    values, by_task = {}, {}
    for column in LEADERBOARD_COLUMNS:
        row = rows.get((column.task, column.metric, column.filter))
        if row is not None and pd.notna(row["value"]):
            values[column.heading] = by_task[column.task] = float(row["value"]) * column.scale
    if (average := paper_average(by_task)) is not None:
        values[AVERAGE] = float(average)
    return values


def numbered(checkpoints: Mapping[str, CheckpointName], kind: Kind) -> list[tuple[int, str]]:
    """(number, label text) of the checkpoints of one kind, ascending: iteration 0's epochs by epoch
    (EPOCH), training sizes by size (SIZE), the SFT curve by epoch (SFT_CURVE)."""
    number = {Kind.EPOCH: lambda n: n.epoch, Kind.SIZE: lambda n: n.size, Kind.SFT_CURVE: lambda n: n.epoch}[kind]
    return sorted((number(name), text) for text, name in checkpoints.items()
                  if name.kind is kind and (kind is not Kind.EPOCH or name.iteration == 0))


def loss_points(checkpoints: Mapping[str, CheckpointName]) -> list[tuple[LossKind, float, str]]:
    """(loss, beta, label text) of every loss/beta checkpoint, by beta and then loss."""
    points = [(name.loss, name.beta, text) for text, name in checkpoints.items() if name.kind is Kind.LOSS]
    return sorted(points, key=lambda p: (p[1], p[0].value))


def _task_lines(fig: go.Figure, xs: list, points: list[dict[str, float]], *, col: int | None = None,
                legend: bool = True) -> set[str]:
    """One line per heading over ``points`` (gaps where a score is missing); returns the headings drawn."""
    drawn = set()
    for heading in HEADINGS:
        ys = [point.get(heading) for point in points]
        if all(y is None for y in ys):
            continue
        drawn.add(heading)
        line = dict(color=_COLORS[heading], width=3.5 if heading == AVERAGE else 1.5)
        trace = go.Scatter(x=xs, y=ys, mode="lines+markers", name=plot_text(heading),
                           legendgroup=plot_text(heading), line=line, showlegend=legend)
        fig.add_trace(trace, **({"row": 1, "col": col} if col else {}))
    return drawn


def epochs_figure(scores: pd.DataFrame, run: str) -> Plot:
    """Figure 4: each task after every epoch of iteration 0, with the main run's iteration 1 as stars."""
    key, title = AblationStudy.EPOCHS.value, "Figure 4: training epochs within iteration 0"
    epochs = numbered(run_checkpoints(scores, run), Kind.EPOCH)
    if not epochs:
        return left_out(key, title, f"left out: the run has no per-epoch checkpoints (no label "
                        f"{run}/iter0-epoch<k> in the store; run `spin-bench ablate --study epochs`)")
    points = [metric_values(scores, run_label(run, name)) for _, name in [(0, SFT), *epochs]]
    if not any(points[1:]):
        return left_out(key, title, "left out: no per-epoch checkpoint has a leaderboard score")
    fig = go.Figure()
    drawn = _task_lines(fig, plot_texts(["SFT", *(f"epoch {k}" for k, _ in epochs)]), points)
    iteration1 = metric_values(scores, run_label(run, CheckpointName.of_iteration(1)))
    for heading in sorted(drawn & set(iteration1), key=HEADINGS.index):
        fig.add_scatter(x=plot_texts(["iteration 1"]), y=[iteration1[heading]], mode="markers",
                        legendgroup=plot_text(heading), showlegend=False, name=plot_text(f"{heading}, iteration 1"),
                        marker=dict(symbol="star", size=13, color=_COLORS[heading]))
    styled(fig, title, xaxis_title=plot_text("iteration 0 after epoch k (epoch 0: the SFT model)"),
           yaxis_title=plot_text("score (%)"))
    caption = (f"Iteration 0 trained for {epochs[-1][0]} epochs under one learning-rate schedule, scored after "
               "each epoch; the thick line is the Average of the six leaderboard tasks. ")
    caption += ("Stars: the main run's iteration 1 (two epochs of iteration 0, then one iteration on its own "
                "answers)." if iteration1 else f"No iteration 1 to compare with: {run}/iter1 has no score "
                "(run `spin-bench run` first).")
    return Plot(key, title, fig, caption=caption)


def sizes_figure(scores: pd.DataFrame, run: str) -> Plot:
    """Figure 5: iteration 0 against the number of prompts (left) beside SFT trained more epochs (right)."""
    key, title = AblationStudy.SIZES.value, "Figure 5: SPIN training size"
    checkpoints = run_checkpoints(scores, run)
    sizes, sft_curve = numbered(checkpoints, Kind.SIZE), numbered(checkpoints, Kind.SFT_CURVE)
    if not sizes:
        return left_out(key, title, f"left out: the run has no training-size points (no label {run}/size<N> in "
                        "the store; run `spin-bench ablate --study size`)")
    sft = metric_values(scores, run_label(run, SFT))
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06, subplot_titles=plot_texts(
        ("SPIN iteration 0 by pairs", "SFT by extra epochs")))
    _task_lines(fig, [0, *(n for n, _ in sizes)],
                [sft, *(metric_values(scores, run_label(run, name)) for _, name in sizes)], col=1)
    _task_lines(fig, [0, *(k for k, _ in sft_curve)],
                [sft, *(metric_values(scores, run_label(run, name)) for _, name in sft_curve)], col=2, legend=False)
    fig.update_xaxes(title_text=plot_text("SPIN pairs (x = 0: the SFT model)"), row=1, col=1)
    fig.update_xaxes(title_text=plot_text("extra SFT epochs (x = 0: the SFT model)"), dtick=1, row=1, col=2)
    styled(fig, title, yaxis_title=plot_text("score (%)"))
    caption = ("Left: iteration 0 on nested subsets of the SPIN prompts (each contains the smaller ones). Right: "
               "the SFT model trained further on all of its SFT data, scored after each extra epoch (the "
               "paper's SFT curve). Thick line: the Average of the six leaderboard tasks.")
    if not sft_curve:
        caption += f" No SFT curve: no label {run}/sft-epoch<k> in the store."
    return Plot(key, title, fig, caption=caption)


def loss_figure(scores: pd.DataFrame, run: str) -> Plot:
    """Iteration 0 with each loss (one line each) against beta, a panel per task; SFT dashed."""
    key, title = AblationStudy.LOSS.value, "Loss and beta: iteration 0 with each loss of Assumption 5.1"
    found = loss_points(run_checkpoints(scores, run))
    if not found:
        return left_out(key, title, f"left out: the run has no loss/beta points (no label "
                        f"{run}/loss-<loss>-beta<b> in the store; run `spin-bench ablate --study loss`)")
    values = {(loss, beta): metric_values(scores, run_label(run, name)) for loss, beta, name in found}
    headings = [h for h in HEADINGS if any(h in v for v in values.values())]
    if not headings:
        return left_out(key, title, "left out: no loss/beta checkpoint has a leaderboard score")
    betas = sorted({beta for _, beta, _ in found})
    cols = min(4, len(headings))
    fig = make_subplots(rows=math.ceil(len(headings) / cols), cols=cols, subplot_titles=plot_texts(headings),
                        vertical_spacing=0.16)
    sft = metric_values(scores, run_label(run, SFT))
    for index, heading in enumerate(headings):
        row, col = index // cols + 1, index % cols + 1
        for loss, color in LOSS_COLORS.items():
            ys = [values.get((loss, beta), {}).get(heading) for beta in betas]
            if any(y is not None for y in ys):
                fig.add_scatter(x=plot_texts(f"{beta:g}" for beta in betas), y=ys, mode="lines+markers",
                                name=plot_text(loss.value), legendgroup=plot_text(loss.value),
                                showlegend=index == 0, line=dict(color=color), row=row, col=col)
        if heading in sft:
            fig.add_hline(y=sft[heading], line_dash="dash", line_color="#888", row=row, col=col)
    fig.update_xaxes(type="category", title_text=plot_text("beta"))
    styled(fig, title, height=330 * math.ceil(len(headings) / cols))
    losses = ", ".join(f"{loss.value} {_LOSS_FORMULAS[loss]}" if loss in _LOSS_FORMULAS else loss.value
                       for loss in LossKind)
    caption = (f"Iteration 0 trained from the SFT model on the same pairs with each loss ℓ(t) ({losses}) and each "
               "beta; dashed: the SFT model. Scores in percent; Average: the paper's Average of the six "
               "leaderboard tasks (as Table 4 prints it).")
    return Plot(key, title, fig, caption=caption)
