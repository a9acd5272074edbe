"""Supervised fine-tuning on TRL's SFTTrainer: the SFT-epoch baseline (paper Table 5) and the embedded
model's own pre-training and SFT. The loss covers the answer tokens only (prompt-completion format)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.inference.checkpoints import ResolvedModel, load_tokenizer
from training.config import Schedule, TrainingConfig
from training.data import PromptResponse
from training.lora import lora_side_files, peft_config, refuse_zero3
from training.stages import KeyedStage
from training.trainer_common import train_and_publish, trainer_kwargs


@dataclass(frozen=True)
class SftStage:
    start: ResolvedModel
    rows: Sequence[PromptResponse]
    schedule: Schedule
    max_steps: int = -1  # > 0 overrides epochs (the embedded model's short budgeted runs)
    sft_args: dict[str, Any] | None = None  # extra SFTConfig fields (packing for pre-training)
    keep_epochs: bool = False  # also publish the weights after each earlier epoch (run_layout.epoch_dir)


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

    args = SFTConfig(**trainer_kwargs(training, stage.schedule, work_dir, seed, stage.start), max_steps=stage.max_steps,
                     **(stage.sft_args or {}))
    trainer = SFTTrainer(model=model or stage.start.path, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config(training.lora))
    refuse_zero3(trainer, training.lora)
    return trainer


def train_sft(stage: SftStage, keyed: KeyedStage, training: TrainingConfig, seed: int, files: dict[str, Any],
              dataset=None, model=None) -> dict[str, Any]:
    """Train (resuming from the stage's scratch) and publish. ``dataset`` replaces the rows (e.g. plain text)."""
    tokenizer = load_tokenizer(stage.start)
    trainer = build_sft_trainer(stage, training, seed, keyed.work, dataset or sft_dataset(stage.rows), tokenizer, model)
    return train_and_publish(trainer, tokenizer, keyed, epochs=stage.schedule.epochs, keep_epochs=stage.keep_epochs,
                             files={**files, **lora_side_files(training.lora, stage.start)})
