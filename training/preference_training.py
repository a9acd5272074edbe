"""One preference-training stage on TRL: a SPIN iteration, the DPO baseline, or DPO after SPIN.

The policy and the frozen reference both start from `start`; the reference's log-probs are computed once
before training when training.precompute_reference is set (SPIN's reference is fixed within an iteration).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.checkpoint import ResolvedModel, load_tokenizer
from training.config import LossKind, TrainingConfig
from training.data import PreferencePair
from training.distributed import shared_dataset
from training.pairs import to_trl_dataset
from training.trainer_common import (
    keep_epoch_weights,
    last_complete_checkpoint,
    quiet_progress,
    publish_trained,
    remove_work_dir,
    step_log,
    timer,
    trainer_kwargs,
    warmup_steps,
)

SPIN_METRIC_NAMES = {"chosen": "real", "rejected": "generated"}


@dataclass(frozen=True)
class PreferenceStage:
    start: ResolvedModel
    pairs: Sequence[PreferencePair]
    learning_rate: float
    beta: float
    epochs: float
    loss: LossKind
    optimizer: str
    lr_scheduler: str
    warmup_ratio: float
    metric_names: dict[str, str] | None = None  # rename TRL's chosen/rejected in the saved metrics
    keep_epochs: bool = False  # also publish the weights after each earlier epoch (trainer_common.epoch_dir)


def dpo_args(stage: PreferenceStage, training: TrainingConfig, seed: int, work_dir: Path, **extra):
    from trl import DPOConfig

    return DPOConfig(
        **trainer_kwargs(training, work_dir, seed, stage.start),
        learning_rate=stage.learning_rate,
        beta=stage.beta,
        num_train_epochs=stage.epochs,
        optim=stage.optimizer,
        lr_scheduler_type=stage.lr_scheduler,
        warmup_steps=warmup_steps(stage.warmup_ratio),
        precompute_ref_log_probs=training.precompute_reference,
        **extra,
    )


def build_trainer(stage: PreferenceStage, training: TrainingConfig, seed: int, work_dir: Path, tokenizer=None):
    """A SpinTrainer for the stage (also used directly by tests)."""
    from training.trainer import SpinTrainer

    return SpinTrainer(
        model=stage.start.path,
        args=dpo_args(stage, training, seed, work_dir),
        train_dataset=shared_dataset(to_trl_dataset(stage.pairs), work_dir / "dataset"),
        processing_class=tokenizer or load_tokenizer(stage.start),
        spin_loss_kind=stage.loss,
    )


def train_preference_stage(
    stage: PreferenceStage,
    training: TrainingConfig,
    seed: int,
    out_dir: Path,
    work_dir: Path,
    key: str,
    files: dict[str, Any],
) -> dict[str, Any]:
    """Train, resuming from the last complete checkpoint in work_dir, and publish out_dir. Returns metrics."""
    tokenizer = load_tokenizer(stage.start)
    trainer = build_trainer(stage, training, seed, work_dir, tokenizer)
    quiet_progress(trainer, out_dir.name)
    if stage.keep_epochs:
        keep_epoch_weights(trainer, tokenizer, out_dir, key, stage.epochs, files)
    resume_from = last_complete_checkpoint(work_dir)
    started = timer()
    result = trainer.train(resume_from_checkpoint=resume_from)
    seconds = timer() - started
    metrics = {
        "steps": step_log(trainer, stage.metric_names),
        "train_loss": result.training_loss,
        "global_steps": trainer.state.global_step,
        "resumed_from": resume_from,
    }
    timings = {"training_seconds": seconds, **files.pop("timings.json", {})}
    publish_trained(trainer, tokenizer, out_dir, key, {**files, "metrics.json": metrics, "timings.json": timings})
    remove_work_dir(work_dir, trainer)
    return metrics
