"""The report's plotly figures: the paper's Figures 2 to 6 and the loss/beta ablation (built in
reports.ablation_figures), the convergence monitor, cost and history.

Every builder returns a :class:`Plot`: a Figure, or None with the reason it is left out (a sentence the
report prints instead of an empty chart). No builder fills in a missing number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.compare import newest_rows, paper_metrics
from reports.tables import LEADERBOARD_COLUMNS, table3, table4
from spin_bench.bench.suites import SUITES
from spin_bench.errors import UserError

MT_BENCH_PREFIX = "mt_bench_"
_HEADINGS = {spec.name: spec.column for specs in SUITES.values() for spec in specs}
_ITER = re.compile(r"iter(\d+)")
_EPOCH = re.compile(r"iter0-epoch(\d+)")
_LAYOUT = dict(template="plotly_white", height=420, margin=dict(l=60, r=30, t=60, b=50),
               font=dict(family="sans-serif"))  # a generic family: no web font is ever fetched


@dataclass(frozen=True)
class Plot:
    """One report figure: ``figure`` is None exactly when ``reason`` says why it is left out."""

    key: str  # stable id, also the file stem of a static export
    title: str
    figure: go.Figure | None
    reason: str | None = None
    caption: str = ""
    tests_html: str | None = None  # escaped HTML table of paired tests under the figure (reports.ablation_tests)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.figure is None) == (self.reason is None):
            raise ValueError("a Plot has either a figure or a reason, not both or neither")


def _left_out(key: str, title: str, reason: str) -> Plot:
    return Plot(key, title, None, reason)


def _checkpoints(scores: pd.DataFrame, run: str) -> set[str]:
    prefix = f"{run}/"
    return {str(label)[len(prefix):] for label in scores["label"].unique() if str(label).startswith(prefix)}


def _safe_table(builder, scores: pd.DataFrame, run: str):
    try:
        return builder(scores, run)
    except UserError:
        return None


# ------------------------------------------------------------------ Figure 2


def figure2_average(scores: pd.DataFrame, run: str) -> Plot:
    """Leaderboard Average per SPIN iteration; SFT and DPO as horizontal reference lines (paper Figure 2)."""
    key, title = "figure2", "Figure 2: average score per SPIN iteration"
    t4 = _safe_table(table4, scores, run)
    if t4 is None or "Average" not in t4.numeric.columns:
        return _left_out(key, title, "left out: the run lacks at least one of the six leaderboard scores the "
                         "Average needs (see Table 4)")
    average = t4.numeric["Average"].dropna()
    iterations = [(int(_ITER.fullmatch(t4.labels[name].split("/", 1)[1]).group(1)), value)
                  for name, value in average.items() if name.startswith("SPIN iteration")]
    if not iterations:
        return _left_out(key, title, "left out: no SPIN iteration of this run has all six leaderboard scores")
    fig = go.Figure(go.Scatter(x=[f"iter{k}" for k, _ in iterations], y=[v for _, v in iterations],
                               mode="lines+markers+text", name="SPIN", text=[f"{v:.2f}" for _, v in iterations],
                               textposition="top center"))
    references = {"SFT": average.get("SFT")}
    t3 = _safe_table(table3, scores, run)
    if t3 is not None and "Average" in t3.numeric.columns:
        references["DPO"] = t3.numeric["Average"].get("DPO")
    for (name, value), dash in zip(references.items(), ("dash", "dot"), strict=True):
        if value is not None and pd.notna(value):
            fig.add_hline(y=float(value), line_dash=dash, annotation_text=f"{name} {value:.2f}",
                          annotation_position="bottom right")
    fig.update_layout(title=title, xaxis_title="SPIN iteration", yaxis_title="Average (%)", **_LAYOUT)
    missing = [name for name, value in references.items() if value is None or pd.isna(value)]
    caption = "Mean of the six leaderboard scores (Table 4's Average)."
    if missing:
        caption += f" No reference line for {' and '.join(missing)}: not all six scores are in the store."
    return Plot(key, title, fig, caption=caption)


# ------------------------------------------------------------------ Figure 3


def figure3_tasks(scores: pd.DataFrame, run: str) -> Plot:
    """Per-task bars: SFT, each SPIN iteration and DPO on the leaderboard tasks (paper Figure 3)."""
    key, title = "figure3", "Figure 3: per-task scores, SPIN iterations vs DPO"
    t3 = _safe_table(table3, scores, run)
    if t3 is None or t3.numeric.empty:
        return _left_out(key, title, "left out: no leaderboard score for this run")
    columns = [c.heading for c in LEADERBOARD_COLUMNS if c.heading in t3.numeric.columns]
    rows = [name for name in t3.numeric.index if name != "SPIN + DPO"]
    fig = go.Figure()
    for name in rows:
        values = t3.numeric.loc[name, columns]
        fig.add_bar(name=name, x=columns, y=values.tolist(),
                    error_y=None, hovertemplate=f"{name}<br>%{{x}}: %{{y:.2f}}<extra></extra>")
    fig.update_layout(title=title, barmode="group", yaxis_title="score (%)", **_LAYOUT)
    return Plot(key, title, fig, caption="The paper's metric per task (Table 1), in percent.")


# ------------------------------------------------------------------ Figures 4 and 5, loss/beta (ablations)


def figure4_epochs(scores: pd.DataFrame, run: str) -> Plot:
    """Scores after each epoch of iteration 0 (labels ``<run>/iter0-epoch<k>``, paper Figure 4)."""
    from reports.ablation_figures import epochs_figure  # it builds on this module's Plot

    return epochs_figure(scores, run)


def figure5_sizes(scores: pd.DataFrame, run: str) -> Plot:
    """Scores against SPIN training-set size (``<run>/size<N>``) beside SFT trained longer (``sft-epoch<k>``)."""
    from reports.ablation_figures import sizes_figure

    return sizes_figure(scores, run)


def figure_loss_beta(scores: pd.DataFrame, run: str) -> Plot:
    """Iteration 0 with each loss and beta (labels ``<run>/loss-<loss>-beta<b>``)."""
    from reports.ablation_figures import loss_figure

    return loss_figure(scores, run)


# ------------------------------------------------------------------ Figure 6


def figure6_mt_bench(scores: pd.DataFrame, run: str) -> Plot:
    """MT-Bench score per category as a radar, one trace per checkpoint (paper Figure 6)."""
    key, title = "figure6", "Figure 6: MT-Bench score per category"
    mine = scores[scores["label"].astype(str).str.startswith(f"{run}/")
                  & scores["task"].astype(str).str.startswith(MT_BENCH_PREFIX) & (scores["metric"] == "score")]
    if mine.empty:
        return _left_out(key, title, f"left out: no MT-Bench category scores in the store for this run (tasks "
                         f"{MT_BENCH_PREFIX}<category>, metric score)")
    order = [c for c in ("created_at", "evaluation_id") if c in mine.columns]
    newest = mine.sort_values(order, kind="stable").drop_duplicates(["label", "task"], keep="last")
    # mt_bench_turn1/turn2 are the per-turn means, not categories.
    categories = sorted({t[len(MT_BENCH_PREFIX):] for t in newest["task"]} - {"turn1", "turn2"})
    fig = go.Figure()
    for label in sorted(newest["label"].unique(), key=stage_key):
        got = dict(zip(newest.loc[newest["label"] == label, "task"], newest.loc[newest["label"] == label, "value"]))
        values = [got.get(MT_BENCH_PREFIX + c) for c in categories]
        fig.add_trace(go.Scatterpolar(r=[*values, values[0]], theta=[*categories, categories[0]], name=label,
                                      mode="lines+markers"))
    fig.update_layout(title=title, polar=dict(radialaxis=dict(range=[0, 10])), **_LAYOUT)
    judges = _judges(mine)
    return Plot(key, title, fig, caption=f"Judge score 1-10 per MT-Bench category (both turns). {judges}")


def _judges(rows: pd.DataFrame) -> str:
    """Which judge and rating mode produced the radar's numbers: they are not comparable across judges."""
    if "judge" not in rows.columns:
        return ""
    seen = sorted({f"{j.get('model')} ({j.get('mode')} mode)" for j in rows["judge"] if isinstance(j, dict)})
    return f"Judge: {', '.join(seen)}." if seen else ""


# ------------------------------------------------------------------ run-directory figures


def read_run_json(run_dir: Path | None) -> dict[str, Any] | None:
    if run_dir is None or not (run_dir / "run.json").is_file():
        return None
    try:
        return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except ValueError:
        return None


def convergence(run_info: Mapping[str, Any] | None) -> Plot:
    """Held-out reward margin (real vs generated) and accuracy per SPIN iteration (Theorem 5.2's fixed point)."""
    key, title = "convergence", "Convergence monitor: can the model still tell the data from its own answers?"
    if run_info is None:
        return _left_out(key, title, "left out: no run directory (run.json) was given")
    rows = [row for row in run_info.get("heldout", []) if "margin" in row and _ITER.fullmatch(str(row.get("label")))]
    if not rows:
        return _left_out(key, title, "left out: run.json has no held-out margin for any SPIN iteration")
    rows.sort(key=lambda row: int(_ITER.fullmatch(row["label"]).group(1)))
    xs = [row["label"] for row in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("reward margin (real − generated)", "accuracy (margin > 0)"))
    fig.add_scatter(x=xs, y=[row["margin"] for row in rows], mode="lines+markers", name="margin", row=1, col=1)
    fig.add_scatter(x=xs, y=[row.get("accuracy") for row in rows], mode="lines+markers", name="accuracy",
                    row=1, col=2)
    fig.add_hline(y=0.0, line_dash="dash", row=1, col=1)
    fig.add_hline(y=0.5, line_dash="dash", row=1, col=2)
    fig.update_layout(title=title, **_LAYOUT)
    fig.update_yaxes(range=[0, 1.05], row=1, col=2)
    prompts = rows[0].get("heldout_prompts")
    caption = ("On held-out prompts, each iteration's model against its opponent (the model it started from): "
               "beta·[(log p − log p_ref)(real) − (log p − log p_ref)(generated)] and the share of prompts where "
               "it is positive. At SPIN's fixed point (p_θ = p_data, Theorem 5.2) the margin is 0 and the "
               "accuracy 0.5: dashed lines." + (f" {prompts} held-out prompts." if prompts else ""))
    return Plot(key, title, fig, caption=caption)


def cost(run_dir: Path | None) -> Plot:
    """Generation and training seconds per SPIN iteration, stacked (the breakdown of paper Table 2)."""
    key, title = "cost", "Cost per SPIN iteration: generation vs training time"
    if run_dir is None:
        return _left_out(key, title, "left out: no run directory was given")
    found = []
    for path in run_dir.glob("iter*/timings.json"):
        if m := _ITER.fullmatch(path.parent.name):
            try:
                found.append((int(m.group(1)), json.loads(path.read_text(encoding="utf-8"))))
            except ValueError:
                continue
    if not found:
        return _left_out(key, title, f"left out: no iter<t>/timings.json in {run_dir}")
    found.sort(key=lambda item: item[0])
    xs = [f"iter{t}" for t, _ in found]
    fig = go.Figure()
    for field, name in (("generation_seconds", "generation"), ("training_seconds", "training")):
        fig.add_bar(x=xs, y=[timing.get(field) for _, timing in found], name=name)
    fig.update_layout(title=title, barmode="stack", yaxis_title="seconds", **_LAYOUT)
    return Plot(key, title, fig, caption="Wall-clock seconds from iter<t>/timings.json.")


# ------------------------------------------------------------------ history


def stage_key(label: str) -> tuple:
    """Sort key putting a run's stages in training order: sft, iter0-epoch…, iter0, iter1 …, then the rest."""
    run, _, stage = str(label).partition("/")
    if stage == "sft":
        return (run, 0, 0, 0, stage)
    if m := _EPOCH.fullmatch(stage):
        return (run, 1, 0, int(m.group(1)), stage)
    if m := _ITER.fullmatch(stage):
        return (run, 1, int(m.group(1)), 1 << 30, stage)
    return (run, 2, 0, 0, stage)


def history_frame(scores: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """labels x tasks: the paper metric of each task (newest evaluation), in printed units; NaN where missing."""
    metrics = paper_metrics()
    heading = {task: _HEADINGS.get(task, task) for task, _, _ in metrics}
    frame = pd.DataFrame(index=pd.Index(list(labels), name="label"), columns=[heading[t] for t, _, _ in metrics],
                         dtype=float)
    subset = scores[scores["label"].isin(list(labels))]
    for label in labels:
        rows = newest_rows(subset, label)
        for task, metric, filter_ in metrics:
            if (row := rows.get((task, metric, filter_))) is not None and pd.notna(row["value"]):
                frame.loc[label, heading[task]] = row["value"] * 100.0
        mt = rows.get(("mt_bench", "score", "none"))
        if mt is not None:
            frame.loc[label, "MT-Bench"] = mt["value"]
    return frame.dropna(axis=1, how="all")


def history(scores: pd.DataFrame, labels: Sequence[str]) -> Plot:
    """Score of each task over a sequence of labels (one line per task)."""
    key, title = "history", "History: each task's score over the checkpoints"
    if len(labels) == 0:
        return _left_out(key, title, "left out: no labels to show")
    frame = history_frame(scores, labels)
    if frame.empty:
        return _left_out(key, title, "left out: none of the labels has a score on a paper task")
    fig = go.Figure()
    for column in frame.columns:
        fig.add_scatter(x=list(frame.index), y=frame[column].tolist(), mode="lines+markers", name=column)
    fig.update_layout(title=title, yaxis_title="score (% ; MT-Bench 1-10)", **_LAYOUT)
    return Plot(key, title, fig, caption="Each task's paper metric, newest evaluation per label.")


def all_figures(scores: pd.DataFrame, run: str, run_dir: Path | None) -> list[Plot]:
    """Every report figure for a run, in report order."""
    labels = sorted((label for label in scores["label"].unique() if str(label).startswith(f"{run}/")), key=stage_key)
    run_info = read_run_json(run_dir)
    return [figure2_average(scores, run), figure3_tasks(scores, run), figure4_epochs(scores, run),
            figure5_sizes(scores, run), figure_loss_beta(scores, run), figure6_mt_bench(scores, run),
            convergence(run_info), cost(run_dir), history(scores, labels)]
