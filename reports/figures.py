"""The report's plotly figures: the paper's Figures 2 to 6 and the loss/beta ablation (built in
reports.ablation_figures), the convergence monitor, cost and history.

Every builder returns a :class:`~reports.plots.Plot`: a Figure, or None with the reason it is left out (a
sentence the report prints instead of an empty chart). No builder fills in a missing number, and every
string handed to plotly goes through :func:`~reports.plots.plot_text`. What a run directory holds is read
through :class:`~spin_bench.core.run_artifacts.RunArtifacts` only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.ablation_figures import epochs_figure, loss_figure, sizes_figure
from reports.history import history_frame
from reports.plots import HOVER_BY_NAME, Plot, left_out, plot_text, plot_texts, styled
from reports.table_model import AVERAGE, TableResult
from reports.tables import LEADERBOARD_COLUMNS, SFT, SPIN_DPO, table3, table4
from spin_bench.core.errors import UserError
from spin_bench.core.names import (
    Baseline,
    CheckpointName,
    Kind,
    label_sort_key,
    split_label,
)
from spin_bench.core.run_artifacts import RunArtifacts
from spin_bench.core.run_layout import HeldoutRow

__all__ = ["Plot", "all_figures", "convergence", "cost", "figure2_average", "figure3_tasks", "figure4_epochs",
           "figure5_sizes", "figure6_mt_bench", "figure_loss_beta", "history"]

MT_BENCH_PREFIX = "mt_bench_"
MT_BENCH_TURNS = {"turn1", "turn2"}  # mt_bench_turn1/turn2 are the per-turn means, not categories
DPO = CheckpointName.of_baseline(Baseline.DPO)
SFT_EPOCH = CheckpointName.of_baseline(Baseline.SFT_EPOCH)

# The ablation figures are built in reports.ablation_figures; these are their names in the report's order.
figure4_epochs = epochs_figure
figure5_sizes = sizes_figure
figure_loss_beta = loss_figure


def _rows_by_checkpoint(table: TableResult) -> dict[CheckpointName, str]:
    """Checkpoint -> the table's row name for it (rows are found by what they are, not by how they print)."""
    return {name: row for row, label in table.labels.items() if (name := split_label(label)[1]) is not None}


def _table_or_none(builder: Callable[[pd.DataFrame, str], TableResult], scores: pd.DataFrame,
                   run: str) -> TableResult | None:
    try:
        return builder(scores, run)
    except UserError:
        return None


# ------------------------------------------------------------------ Figures 2 and 3


def figure2_average(scores: pd.DataFrame, run: str) -> Plot:
    """Leaderboard Average per SPIN iteration; SFT and DPO as horizontal reference lines (paper Figure 2)."""
    key, title = "figure2", "Figure 2: average score per SPIN iteration"
    t4 = _table_or_none(table4, scores, run)
    if t4 is None or AVERAGE not in t4.numeric.columns:
        return left_out(key, title, "left out: the run lacks at least one of the six leaderboard scores the "
                        "Average needs (see Table 4)")
    average = t4.numeric[AVERAGE].dropna()
    rows = _rows_by_checkpoint(t4)
    iterations = [(name, average[row]) for name, row in rows.items()
                  if name.kind is Kind.ITERATION and row in average.index]
    if not iterations:
        return left_out(key, title, "left out: no SPIN iteration of this run has all six leaderboard scores")
    fig = go.Figure(go.Scatter(x=plot_texts(c for c, _ in iterations), y=[v for _, v in iterations],
                               mode="lines+markers+text", name=plot_text("SPIN"),
                               text=plot_texts(f"{v:.2f}" for _, v in iterations), textposition="top center"))
    references = {"SFT": average.get(rows.get(SFT))}
    t3 = _table_or_none(table3, scores, run)
    if t3 is not None and AVERAGE in t3.numeric.columns:
        references["DPO"] = t3.numeric[AVERAGE].get(_rows_by_checkpoint(t3).get(DPO))
    for (name, value), dash in zip(references.items(), ("dash", "dot"), strict=True):
        if value is not None and pd.notna(value):
            fig.add_hline(y=float(value), line_dash=dash, annotation_text=plot_text(f"{name} {value:.2f}"),
                          annotation_position="bottom right")
    styled(fig, title, xaxis_title=plot_text("SPIN iteration"), yaxis_title=plot_text("Average (%)"))
    missing = [name for name, value in references.items() if value is None or pd.isna(value)]
    caption = "Mean of the six leaderboard scores (Table 4's Average)."
    if missing:
        caption += f" No reference line for {' and '.join(missing)}: not all six scores are in the store."
    return Plot(key, title, fig, caption=caption)


def figure3_tasks(scores: pd.DataFrame, run: str) -> Plot:
    """Per-task bars: SFT, each SPIN iteration and DPO on the leaderboard tasks (paper Figure 3)."""
    key, title = "figure3", "Figure 3: per-task scores, SPIN iterations vs DPO"
    t3 = _table_or_none(table3, scores, run)
    if t3 is None or t3.numeric.empty:
        return left_out(key, title, "left out: no leaderboard score for this run")
    columns = [c.heading for c in LEADERBOARD_COLUMNS if c.heading in t3.numeric.columns]
    fig = go.Figure()
    for checkpoint, name in _rows_by_checkpoint(t3).items():
        if checkpoint != SPIN_DPO:  # SPIN + DPO is Table 3's, not the paper's Figure 3
            fig.add_bar(name=plot_text(name), x=plot_texts(columns), y=t3.numeric.loc[name, columns].tolist(),
                        hovertemplate=HOVER_BY_NAME)
    styled(fig, title, barmode="group", yaxis_title=plot_text("score (%)"))
    return Plot(key, title, fig, caption="The paper's metric per task (Table 1), in percent.")


# ------------------------------------------------------------------ Figure 6


def figure6_mt_bench(scores: pd.DataFrame, run: str) -> Plot:
    """MT-Bench score per category as a radar, one trace per checkpoint (paper Figure 6)."""
    key, title = "figure6", "Figure 6: MT-Bench score per category"
    mine = scores[scores["label"].astype(str).str.startswith(f"{run}/")
                  & scores["task"].astype(str).str.startswith(MT_BENCH_PREFIX) & (scores["metric"] == "score")]
    if mine.empty:
        return left_out(key, title, f"left out: no MT-Bench category scores in the store for this run (tasks "
                        f"{MT_BENCH_PREFIX}<category>, metric score)")
    order = [c for c in ("created_at", "evaluation_id") if c in mine.columns]
    newest = mine.sort_values(order, kind="stable").drop_duplicates(["label", "task"], keep="last")
    categories = sorted({t[len(MT_BENCH_PREFIX):] for t in newest["task"]} - MT_BENCH_TURNS)
    fig = go.Figure()
    for label in sorted(newest["label"].unique(), key=label_sort_key):
        mask = newest["label"] == label
        got = dict(zip(newest.loc[mask, "task"], newest.loc[mask, "value"], strict=True))
        values = [got.get(MT_BENCH_PREFIX + c) for c in categories]
        fig.add_trace(go.Scatterpolar(r=[*values, values[0]], theta=plot_texts([*categories, categories[0]]),
                                      name=plot_text(label), mode="lines+markers"))
    styled(fig, title, polar=dict(radialaxis=dict(range=[0, 10])))
    return Plot(key, title, fig, caption=f"Judge score 1-10 per MT-Bench category (both turns). {_judges(mine)}")


def _judges(rows: pd.DataFrame) -> str:
    """Which judge and rating mode produced the radar's numbers: they are not comparable across judges."""
    if "judge" not in rows.columns:
        return ""
    seen = sorted({f"{j.get('model')} ({j.get('mode')} mode)" for j in rows["judge"] if isinstance(j, dict)})
    return f"Judge: {', '.join(seen)}." if seen else ""


# ------------------------------------------------------------------ run-directory figures


def convergence(run: RunArtifacts | None) -> Plot:
    """Held-out reward margin (real vs generated) and accuracy per SPIN iteration (Theorem 5.2's fixed point),
    and the per-token log-likelihood of the answers the margin compares (reports.convergence explains them)."""
    key, title = "convergence", "Convergence monitor: can the model still tell the data from its own answers?"
    summary = run.summary() if run is not None else None
    if summary is None:
        return left_out(key, title, "left out: no run directory (run.json) was given")
    rows = [row for row in iteration_rows(summary.heldout) if row.margin is not None]
    if not rows:
        return left_out(key, title, "left out: run.json has no held-out margin for any SPIN iteration")
    xs = plot_texts(row.label for row in rows)
    fig = make_subplots(rows=1, cols=3, subplot_titles=plot_texts((
        "reward margin (real − generated)", "accuracy (margin > 0)", "log-likelihood per token")))
    fig.add_scatter(x=xs, y=[row.margin for row in rows], mode="lines+markers", name=plot_text("margin"),
                    row=1, col=1)
    fig.add_scatter(x=xs, y=[row.accuracy for row in rows], mode="lines+markers", name=plot_text("accuracy"),
                    row=1, col=2)
    fig.add_hline(y=0.0, line_dash="dash", row=1, col=1)
    fig.add_hline(y=0.5, line_dash="dash", row=1, col=2)
    _likelihood_panel(fig, summary.heldout, col=3)
    styled(fig, title)
    fig.update_yaxes(range=[0, 1.05], row=1, col=2)
    prompts = rows[0].heldout_prompts
    caption = ("On held-out prompts, each iteration's model against its opponent (the model it started from): "
               "beta·[(log p − log p_ref)(real) − (log p − log p_ref)(generated)] and the share of prompts where "
               "it is positive. At SPIN's fixed point (p_θ = p_data, Theorem 5.2) the margin is 0 and the "
               "accuracy 0.5: dashed lines. Right: the mean log-likelihood per token of the human answers "
               "under SFT and each iteration, and of each iteration's opponent's answers under that iteration; "
               "dotted: one more SFT epoch." + (f" {prompts} held-out prompts." if prompts else ""))
    return Plot(key, title, fig, caption=caption)


def iteration_rows(heldout: Sequence[HeldoutRow], *, with_sft: bool = False) -> list[HeldoutRow]:
    """The monitor's rows of the SPIN iterations in iteration order (the SFT row first, ``with_sft``)."""
    named = [(name, row) for row in heldout if (name := CheckpointName.try_parse(row.label)) is not None]
    iterations = sorted(((name.iteration, row) for name, row in named if name.kind is Kind.ITERATION),
                        key=lambda item: item[0])
    sft = [row for name, row in named if name == SFT] if with_sft else []
    return sft[:1] + [row for _, row in iterations]


def _likelihood_panel(fig: go.Figure, heldout: Sequence[HeldoutRow], col: int) -> None:
    real = iteration_rows(heldout, with_sft=True)
    fig.add_scatter(x=plot_texts(row.label for row in real), y=[row.real_logp_per_token for row in real],
                    mode="lines+markers", name=plot_text("human answers"), row=1, col=col)
    generated = [row for row in real if row.generated_logp_per_token is not None]
    if generated:
        fig.add_scatter(x=plot_texts(row.label for row in generated),
                        y=[row.generated_logp_per_token for row in generated], mode="lines+markers",
                        name=plot_text("opponent's answers"), row=1, col=col)
    epoch = next((row for row in heldout if CheckpointName.try_parse(row.label) == SFT_EPOCH), None)
    if epoch is not None:
        fig.add_hline(y=epoch.real_logp_per_token, line_dash="dot", row=1, col=col,
                      annotation_text=plot_text(f"{epoch.label} {epoch.real_logp_per_token:.2f}"),
                      annotation_position="bottom right")


def cost(run: RunArtifacts | None) -> Plot:
    """Generation and training seconds per SPIN iteration, stacked (the breakdown of paper Table 2)."""
    key, title = "cost", "Cost per SPIN iteration: generation vs training time"
    if run is None:
        return left_out(key, title, "left out: no run directory was given")
    try:
        timings = run.timings()
    except UserError as err:  # a corrupt timings.json: say so, the rest of the report still stands
        return left_out(key, title, f"left out: {err}")
    if not timings:
        return left_out(key, title, f"left out: no iter<t>/timings.json in {run.layout.root}")
    xs = plot_texts(CheckpointName.of_iteration(t) for t in timings)
    fig = go.Figure()
    fig.add_bar(x=xs, y=[timing.generation_seconds for timing in timings.values()], name=plot_text("generation"))
    fig.add_bar(x=xs, y=[timing.training_seconds for timing in timings.values()], name=plot_text("training"))
    styled(fig, title, barmode="stack", yaxis_title=plot_text("seconds"))
    return Plot(key, title, fig, caption="Wall-clock seconds from iter<t>/timings.json.")


# ------------------------------------------------------------------ history


def history(scores: pd.DataFrame, labels: Sequence[str]) -> Plot:
    """Score of each task over a sequence of labels (one line per task)."""
    key, title = "history", "History: each task's score over the checkpoints"
    if len(labels) == 0:
        return left_out(key, title, "left out: no labels to show")
    frame = history_frame(scores, labels)
    if frame.empty:
        return left_out(key, title, "left out: none of the labels has a score on a paper task")
    fig = go.Figure()
    for column in frame.columns:
        fig.add_scatter(x=plot_texts(frame.index), y=frame[column].tolist(), mode="lines+markers",
                        name=plot_text(column))
    styled(fig, title, yaxis_title=plot_text("score (% ; MT-Bench 1-10)"))
    return Plot(key, title, fig, caption="Each task's paper metric, newest evaluation per label.")


def all_figures(scores: pd.DataFrame, run: str, artifacts: RunArtifacts | None) -> list[Plot]:
    """Every report figure for a run, in report order; ``artifacts``: the run directory, when given."""
    labels = sorted((label for label in scores["label"].unique() if str(label).startswith(f"{run}/")),
                    key=label_sort_key)
    return [figure2_average(scores, run), figure3_tasks(scores, run), figure4_epochs(scores, run),
            figure5_sizes(scores, run), figure_loss_beta(scores, run), figure6_mt_bench(scores, run),
            convergence(artifacts), cost(artifacts), history(scores, labels)]
