"""Supervised fine-tuning on TRL's SFTTrainer: the SFT-epoch baseline (paper Table 5) and the embedded
model's own pre-training and SFT. The loss covers the answer tokens only (prompt-completion format)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.checkpoint import ResolvedModel, load_tokenizer
from training.config import TrainingConfig
from training.data import PromptResponse
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


@dataclass(frozen=True)
class SftStage:
    start: ResolvedModel
    rows: Sequence[PromptResponse]
    learning_rate: float
    epochs: float
    optimizer: str
    lr_scheduler: str
    warmup_ratio: float
    max_steps: int = -1  # > 0 overrides epochs (the embedded model's short budgeted runs)
    sft_args: dict[str, Any] | None = None  # extra SFTConfig fields (packing for pre-training)
    keep_epochs: bool = False  # also publish the weights after each earlier epoch (trainer_common.epoch_dir)


def sft_dataset(rows: Sequence[PromptResponse]):
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "prompt": [[{"role": "user", "content": r.prompt}] for r in rows],
            "completion": [[{"role": "assistant", "content": r.response}] for r in rows],
        }
    )


def build_sft_trainer(stage: SftStage, training: TrainingConfig, seed: int, work_dir: Path, dataset, tokenizer,
                      model=None):
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(
        **trainer_kwargs(training, work_dir, seed, stage.start),
        learning_rate=stage.learning_rate,
        num_train_epochs=stage.epochs,
        max_steps=stage.max_steps,
        optim=stage.optimizer,
        lr_scheduler_type=stage.lr_scheduler,
        warmup_steps=warmup_steps(stage.warmup_ratio),
        **(stage.sft_args or {}),
    )
    return SFTTrainer(model=model or stage.start.path, args=args, train_dataset=dataset, processing_class=tokenizer)


def train_sft_stage(
    stage: SftStage,
    training: TrainingConfig,
    seed: int,
    out_dir: Path,
    work_dir: Path,
    key: str,
    files: dict[str, Any],
    dataset=None,
    model=None,
) -> dict[str, Any]:
    """Train (resuming from work_dir) and publish out_dir. ``dataset`` replaces the rows (e.g. plain text)."""
    tokenizer = load_tokenizer(stage.start)
    trainer = build_sft_trainer(stage, training, seed, work_dir, dataset or sft_dataset(stage.rows), tokenizer, model)
    quiet_progress(trainer, out_dir.name)
    if stage.keep_epochs:
        keep_epoch_weights(trainer, tokenizer, out_dir, key, stage.epochs, files)
    resume_from = last_complete_checkpoint(work_dir)
    started = timer()
    result = trainer.train(resume_from_checkpoint=resume_from)
    metrics = {
        "steps": step_log(trainer),
        "train_loss": result.training_loss,
        "global_steps": trainer.state.global_step,
        "resumed_from": resume_from,
    }
    timings = {"training_seconds": timer() - started}
    publish_trained(trainer, tokenizer, out_dir, key, {**files, "metrics.json": metrics, "timings.json": timings})
    remove_work_dir(work_dir, trainer)
    return metrics
