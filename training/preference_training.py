"""One preference-training stage on TRL: a SPIN iteration, the DPO baseline, or DPO after SPIN.

The policy and the frozen reference both start from `start`; the reference's log-probs are computed once
before training when training.precompute_reference is set (SPIN's reference is fixed within an iteration).
With training.lora the policy is `start` plus an adapter and the reference is `start` itself (adapter off).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.core.enums import LossKind
from spin_bench.inference.checkpoints import ResolvedModel, load_tokenizer
from training.config import Schedule, TrainingConfig
from training.data import PreferencePair
from training.distributed import shared_dataset
from training.lora import lora_side_files, peft_config, refuse_zero3
from training.pairs import to_trl_dataset
from training.stages import KeyedStage
from training.trainer_common import train_and_publish, trainer_kwargs

SPIN_METRIC_NAMES = {"chosen": "real", "rejected": "generated"}


@dataclass(frozen=True)
class PreferenceStage:
    start: ResolvedModel
    pairs: Sequence[PreferencePair]
    schedule: Schedule
    beta: float
    loss: LossKind
    metric_names: dict[str, str] | None = None  # rename TRL's chosen/rejected in the saved metrics
    keep_epochs: bool = False  # also publish the weights after each earlier epoch (run_layout.epoch_dir)


def dpo_args(stage: PreferenceStage, training: TrainingConfig, seed: int, work_dir: Path, **extra):
    from trl import DPOConfig

    return DPOConfig(**trainer_kwargs(training, stage.schedule, work_dir, seed, stage.start), beta=stage.beta,
                     precompute_ref_log_probs=training.precompute_reference,
                     # SpinTrainer groups pairs by their length (training.trainer.EpochSeededLengthSampler).
                     train_sampling_strategy="group_by_length" if training.group_by_length else "random", **extra)


def build_trainer(stage: PreferenceStage, training: TrainingConfig, seed: int, work_dir: Path, tokenizer=None):
    """A SpinTrainer for the stage (also used directly by tests)."""
    from training.trainer import SpinTrainer

    trainer = SpinTrainer(
        model=stage.start.path,
        args=dpo_args(stage, training, seed, work_dir),
        train_dataset=shared_dataset(to_trl_dataset(stage.pairs), work_dir / "dataset"),
        processing_class=tokenizer or load_tokenizer(stage.start),
        spin_loss_kind=stage.loss,
        # LoRA: TRL's PEFT path, whose reference is this model with the adapter disabled (training.lora).
        peft_config=peft_config(training.lora),
    )
    refuse_zero3(trainer, training.lora)
    return trainer


def train_preferences(stage: PreferenceStage, keyed: KeyedStage, training: TrainingConfig, seed: int,
                      files: dict[str, Any]) -> dict[str, Any]:
    """Train on the pairs (resuming from the stage's scratch) and publish the stage's output; its metrics."""
    tokenizer = load_tokenizer(stage.start)
    trainer = build_trainer(stage, training, seed, keyed.work, tokenizer)
    return train_and_publish(trainer, tokenizer, keyed, epochs=stage.schedule.epochs, keep_epochs=stage.keep_epochs,
                             files={**files, **lora_side_files(training.lora, stage.start)},
                             metric_names=stage.metric_names)
