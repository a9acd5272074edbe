"""`spin-bench track`: copy the paper metrics from the results store into W&B (offline), MLflow or TensorBoard.

Off by default and behind extras (``pip install 'spin-bench[wandb]'``, ``[mlflow]``, ``[tensorboard]``);
nothing here touches the network. How the store's labels become tracker runs:

* A SPIN trajectory (``<run>/sft``, ``<run>/iter0``, ``<run>/iter1``, ...) is ONE tracker run named
  ``<run_name>/<run>``, so the tools plot each metric against training progress. ``step`` is the number of
  SPIN iterations the checkpoint has been through: SFT is step 0, ``iter<t>`` is step ``t + 1``.
* Every other label (baselines such as ``<run>/dpo`` or ``zephyr-7b``, ``iter0-epoch<k>`` checkpoints) is
  its own tracker run named ``<run_name>/<label>``, with its values at step 0 (W&B also keeps them as the
  run's summary), so a baseline can be compared with the trajectory's last step.

Each task's paper metric (``spin_bench.bench.suites``; MT-Bench ``score`` too) of the label's newest
evaluation is logged as ``<task>/<metric>`` in the store's units (a fraction for accuracies); NaN is skipped.
"""

from __future__ import annotations

import importlib
import os
import re  # only for _safe_dir (tracker directory names), never on labels
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spin_bench.core.errors import UserError
from spin_bench.core.names import split_label

if TYPE_CHECKING:
    import pandas as pd

TRACKERS = ("wandb", "mlflow", "tensorboard")
PROJECT = "spin-bench"  # W&B project and MLflow experiment
_EXTRA_METRICS = (("mt_bench", "score", "none"),)


@dataclass
class TrackerRun:
    """One tracker run: ``points[step] = {"<task>/<metric>": value}``; ``labels[step]`` = store label."""

    name: str
    trajectory: bool
    points: dict[int, dict[str, float]] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)


def trajectory_step(label: str) -> tuple[str, int] | None:
    """``("<run>", step)`` for a trajectory label (step: CheckpointName.spin_steps, so sft -> 0 and
    iter<t> -> t + 1); None for any other label."""
    run, name = split_label(label)
    steps = name.spin_steps() if name is not None else None
    return (run, steps) if steps is not None else None


def plan_runs(scores: pd.DataFrame, run_name: str) -> list[TrackerRun]:
    """Group the score rows into tracker runs (see the module docstring); runs in first-seen label order."""
    import pandas as pd

    from reports.metrics import newest_rows, paper_metrics

    wanted = [*paper_metrics(), *_EXTRA_METRICS]
    runs: dict[str, TrackerRun] = {}
    for label in scores["label"].drop_duplicates().astype(str).tolist():
        rows = newest_rows(scores, label)
        values = {f"{task}/{metric}": float(rows[(task, metric, filter_)]["value"])
                  for task, metric, filter_ in wanted
                  if (task, metric, filter_) in rows and pd.notna(rows[(task, metric, filter_)]["value"])}
        if not values:
            continue
        if (stage := trajectory_step(label)) is not None:
            name, step, trajectory = f"{run_name}/{stage[0]}", stage[1], True
        else:
            name, step, trajectory = f"{run_name}/{label}", 0, False
        run = runs.setdefault(name, TrackerRun(name=name, trajectory=trajectory))
        run.points[step] = values
        run.labels[step] = label
    return list(runs.values())


def _require(module: str, extra: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise UserError(f"logging to {extra} needs the {extra} package ({err}): pip install 'spin-bench[{extra}]'") \
            from None


def log_scores(scores: pd.DataFrame, tracker: str, destination: str | os.PathLike[str], run_name: str) -> str:
    """Log the paper metrics of ``scores`` (a ``ResultsStore.scores()`` frame) to ``tracker`` under
    ``destination``; return one line saying where the data went."""
    if tracker not in TRACKERS:
        raise UserError(f"unknown tracker {tracker!r}: choose from {', '.join(TRACKERS)}")
    if scores.empty:
        raise UserError("no scores to log")
    runs = plan_runs(scores, run_name)
    if not runs:
        raise UserError("none of the scores is a paper metric of a benchmark task: nothing to log")
    dest = Path(destination).expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True)
    logger = {"wandb": _log_wandb, "mlflow": _log_mlflow, "tensorboard": _log_tensorboard}[tracker]
    where = logger(runs, dest)
    points = sum(len(run.points) for run in runs)
    return f"{tracker}: {len(runs)} run(s), {points} checkpoint(s) -> {where}"


# ------------------------------------------------------------------ W&B


def _log_wandb(runs: list[TrackerRun], dest: Path) -> str:
    wandb = _require("wandb", "wandb")
    saved = {name: os.environ.get(name) for name in ("WANDB_MODE", "WANDB_SILENT")}
    os.environ["WANDB_MODE"] = "offline"  # also for anything wandb starts; never reaches the network
    os.environ.setdefault("WANDB_SILENT", "true")
    try:
        _write_wandb(wandb, runs, dest)
        # finish() can return before wandb-core has written the last records; teardown waits for it.
        wandb.teardown()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return f"offline runs in {dest / 'wandb'} (upload: wandb sync {dest / 'wandb'}/offline-run-*)"


def _write_wandb(wandb: Any, runs: list[TrackerRun], dest: Path) -> None:
    for run in runs:
        wb = wandb.init(project=PROJECT, name=run.name, group=run.name.split("/")[0], dir=str(dest),
                        mode="offline", job_type="eval", config={"labels": {str(s): l for s, l in run.labels.items()},
                                                                 "trajectory": run.trajectory},
                        settings=wandb.Settings(console="off", silent=True))
        try:
            for step in sorted(run.points):
                wb.log(run.points[step], step=step)
            if not run.trajectory:
                wb.summary.update(run.points[0])
        finally:
            wb.finish()


# ------------------------------------------------------------------ MLflow


def _log_mlflow(runs: list[TrackerRun], dest: Path) -> str:
    _require("mlflow", "mlflow")
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{dest / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(PROJECT)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(PROJECT)
    for run in runs:
        created = client.create_run(experiment_id, run_name=run.name,
                                    tags={"spin_bench.trajectory": str(run.trajectory).lower()})
        run_id = created.info.run_id
        now = int(time.time() * 1000)
        metrics = [Metric(key, value, now, step) for step, values in sorted(run.points.items())
                   for key, value in values.items()]
        params = {f"label_step_{step}": label for step, label in sorted(run.labels.items())}
        client.log_batch(run_id, metrics=metrics)
        for key, value in params.items():
            client.log_param(run_id, key, value)
        client.set_terminated(run_id)
    return f"experiment {PROJECT!r} in {uri} (view: mlflow ui --backend-store-uri {uri})"


# ------------------------------------------------------------------ TensorBoard


def _log_tensorboard(runs: list[TrackerRun], dest: Path) -> str:
    _require("tensorboard", "tensorboard")
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise UserError(f"logging to tensorboard needs the tensorboard package ({err}): "
                        "pip install 'spin-bench[tensorboard]'") from None
    for run in runs:
        # One subdirectory per run: TensorBoard shows each as a run and overlays their curves.
        with SummaryWriter(log_dir=str(dest / _safe_dir(run.name))) as writer:
            for step in sorted(run.points):
                for key, value in run.points[step].items():
                    writer.add_scalar(key, value, global_step=step)
            writer.add_text("labels", "\n\n".join(f"step {s}: {l}" for s, l in sorted(run.labels.items())))
    return f"event files in {dest} (view: tensorboard --logdir {dest})"


def _safe_dir(name: str) -> str:
    parts = [part for part in name.split("/") if part not in ("", ".", "..")]
    return "/".join(re.sub(r"[^A-Za-z0-9._+-]", "_", part) for part in parts) or "_"
