"""The ablation figures: epochs within iteration 0 (paper Figure 4), training size against SFT trained longer
(Figure 5) and the loss/beta sweep. Each reads the labels `spin-bench ablate` writes (training.ablations):

  <run>/iter0-epoch<k>      iteration 0 after epoch k          <run>/iter1  the main run's iteration 1
  <run>/size<N>             iteration 0 on the first N prompts <run>/sft-epoch<k>  SFT after k more epochs
  <run>/loss-<loss>-beta<b> iteration 0 with that loss and beta

Every panel shows the six leaderboard tasks' paper metrics and their plain mean (the paper's Average) when
all six are scored; a missing score is a gap, never filled in.
"""

from __future__ import annotations

import math
import re

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from reports.compare import newest_rows
from reports.figures import _LAYOUT, Plot, _checkpoints, _left_out
from reports.tables import AVERAGE, LEADERBOARD_COLUMNS

EPOCH = re.compile(r"iter0-epoch(\d+)")
SIZE = re.compile(r"size(\d+)")
SFT_CURVE = re.compile(r"sft-epoch(\d+)")
LOSS = re.compile(r"loss-(logistic|hinge|exponential|linear)-beta(.+)")
HEADINGS = (*(c.heading for c in LEADERBOARD_COLUMNS), AVERAGE)
_COLORS = dict(zip(HEADINGS, qualitative.Plotly, strict=False))
_LOSS_COLORS = dict(zip(("logistic", "hinge", "exponential", "linear"), qualitative.D3, strict=False))


def metric_values(scores: pd.DataFrame, label: str) -> dict[str, float]:
    """Heading -> the label's newest paper-metric score in percent, and the Average when all six exist."""
    rows = newest_rows(scores, label)
    values = {}
    for column in LEADERBOARD_COLUMNS:
        row = rows.get((column.task, column.metric, column.filter))
        if row is not None and pd.notna(row["value"]):
            values[column.heading] = float(row["value"]) * column.scale
    if len(values) == len(LEADERBOARD_COLUMNS):
        values[AVERAGE] = sum(values.values()) / len(LEADERBOARD_COLUMNS)
    return values


def _numbered(scores: pd.DataFrame, run: str, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    return sorted((int(m.group(1)), name) for name in _checkpoints(scores, run) if (m := pattern.fullmatch(name)))


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
        trace = go.Scatter(x=xs, y=ys, mode="lines+markers", name=heading, legendgroup=heading, line=line,
                           showlegend=legend)
        fig.add_trace(trace, **({"row": 1, "col": col} if col else {}))
    return drawn


def epochs_figure(scores: pd.DataFrame, run: str) -> Plot:
    """Figure 4: each task after every epoch of iteration 0, with the main run's iteration 1 as stars."""
    key, title = "figure4", "Figure 4: training epochs within iteration 0"
    epochs = _numbered(scores, run, EPOCH)
    if not epochs:
        return _left_out(key, title, f"left out: the run has no per-epoch checkpoints (no label "
                         f"{run}/iter0-epoch<k> in the store; run `spin-bench ablate --study epochs`)")
    points = [metric_values(scores, f"{run}/{name}") for _, name in [(0, "sft"), *epochs]]
    if not any(points[1:]):
        return _left_out(key, title, "left out: no per-epoch checkpoint has a leaderboard score")
    fig = go.Figure()
    drawn = _task_lines(fig, ["SFT", *(f"epoch {k}" for k, _ in epochs)], points)
    iteration1 = metric_values(scores, f"{run}/iter1")
    for heading in sorted(drawn & set(iteration1), key=HEADINGS.index):
        fig.add_scatter(x=["iteration 1"], y=[iteration1[heading]], mode="markers", legendgroup=heading,
                        showlegend=False, name=f"{heading}, iteration 1",
                        marker=dict(symbol="star", size=13, color=_COLORS[heading]))
    fig.update_layout(title=title, xaxis_title="iteration 0 after epoch k (epoch 0: the SFT model)",
                      yaxis_title="score (%)", **_LAYOUT)
    caption = (f"Iteration 0 trained for {epochs[-1][0]} epochs under one learning-rate schedule, scored after "
               "each epoch; the thick line is the Average of the six leaderboard tasks. ")
    caption += ("Stars: the main run's iteration 1 (two epochs of iteration 0, then one iteration on its own "
                "answers)." if iteration1 else f"No iteration 1 to compare with: {run}/iter1 has no score "
                "(run `spin-bench run` first).")
    return Plot(key, title, fig, caption=caption)


def sizes_figure(scores: pd.DataFrame, run: str) -> Plot:
    """Figure 5: iteration 0 against the number of prompts (left) beside SFT trained more epochs (right)."""
    key, title = "figure5", "Figure 5: SPIN training size"
    sizes, sft_curve = _numbered(scores, run, SIZE), _numbered(scores, run, SFT_CURVE)
    if not sizes:
        return _left_out(key, title, f"left out: the run has no training-size points (no label {run}/size<N> in "
                         "the store; run `spin-bench ablate --study size`)")
    sft = metric_values(scores, f"{run}/sft")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06, subplot_titles=(
        "SPIN iteration 0 by pairs", "SFT by extra epochs"))
    _task_lines(fig, [0, *(n for n, _ in sizes)], [sft, *(metric_values(scores, f"{run}/{name}") for _, name in sizes)],
                col=1)
    _task_lines(fig, [0, *(k for k, _ in sft_curve)],
                [sft, *(metric_values(scores, f"{run}/{name}") for _, name in sft_curve)], col=2, legend=False)
    fig.update_xaxes(title_text="SPIN pairs (x = 0: the SFT model)", row=1, col=1)
    fig.update_xaxes(title_text="extra SFT epochs (x = 0: the SFT model)", dtick=1, row=1, col=2)
    fig.update_layout(title=title, yaxis_title="score (%)", **_LAYOUT)
    caption = ("Left: iteration 0 on nested subsets of the SPIN prompts (each contains the smaller ones). Right: "
               "the SFT model trained further on all of its SFT data, scored after each extra epoch (the "
               "paper's SFT curve). Thick line: the Average of the six leaderboard tasks.")
    if not sft_curve:
        caption += f" No SFT curve: no label {run}/sft-epoch<k> in the store."
    return Plot(key, title, fig, caption=caption)


def loss_figure(scores: pd.DataFrame, run: str) -> Plot:
    """Iteration 0 with each loss (one line each) against beta, a panel per task; SFT dashed."""
    key, title = "figure_loss", "Loss and beta: iteration 0 with each loss of Assumption 5.1"
    found = [(m.group(1), float(m.group(2)), name) for name in _checkpoints(scores, run) if (m := LOSS.fullmatch(name))]
    if not found:
        return _left_out(key, title, f"left out: the run has no loss/beta points (no label "
                         f"{run}/loss-<loss>-beta<b> in the store; run `spin-bench ablate --study loss`)")
    values = {(loss, beta): metric_values(scores, f"{run}/{name}") for loss, beta, name in found}
    headings = [h for h in HEADINGS if any(h in v for v in values.values())]
    if not headings:
        return _left_out(key, title, "left out: no loss/beta checkpoint has a leaderboard score")
    betas = sorted({beta for _, beta, _ in found})
    cols = min(4, len(headings))
    fig = make_subplots(rows=math.ceil(len(headings) / cols), cols=cols, subplot_titles=headings,
                        vertical_spacing=0.16)
    sft = metric_values(scores, f"{run}/sft")
    for index, heading in enumerate(headings):
        row, col = index // cols + 1, index % cols + 1
        for loss in _LOSS_COLORS:
            ys = [values.get((loss, beta), {}).get(heading) for beta in betas]
            if any(y is not None for y in ys):
                fig.add_scatter(x=[f"{beta:g}" for beta in betas], y=ys, mode="lines+markers", name=loss,
                                legendgroup=loss, showlegend=index == 0, line=dict(color=_LOSS_COLORS[loss]),
                                row=row, col=col)
        if heading in sft:
            fig.add_hline(y=sft[heading], line_dash="dash", line_color="#888", row=row, col=col)
    fig.update_xaxes(type="category", title_text="beta")
    fig.update_layout(title=title, **{**_LAYOUT, "height": 330 * math.ceil(len(headings) / cols)})
    caption = ("Iteration 0 trained from the SFT model on the same pairs with each loss ℓ(t) (logistic "
               "log(1+e^−t), hinge max(0, 1−t), exponential e^−t, linear 1−t) and each beta; dashed: the SFT "
               "model. Scores in percent; Average: the six leaderboard tasks' mean.")
    return Plot(key, title, fig, caption=caption)
