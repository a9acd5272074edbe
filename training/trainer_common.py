"""What every training stage shares: trainer arguments, resuming from the last complete checkpoint, and
publishing the finished model directory atomically (all ranks save, rank 0 moves it into place).

:func:`train_and_publish` is the one body of every trained stage (SFT, DPO and SPIN alike): the stage
modules only build their TRL trainer.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

from spin_bench.core.atomic import publish_directory, write_json_atomic
from spin_bench.core.enums import Precision
from spin_bench.core.hashing import stable_hash
from spin_bench.core.run_layout import epoch_dir
from spin_bench.inference.checkpoints import ResolvedModel, resolve_precision
from training.config import Schedule, TrainingConfig
from training.deepspeed_launch import parallelism_record
from training.lora import PROVENANCE_FILE as LORA_FILE
from training.lora import is_lora_model, save_merged
from training.stages import KeyedStage, stage_done, write_stage_marker

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def trainer_kwargs(training: TrainingConfig, schedule: Schedule, work_dir: Path, seed: int,
                   model: ResolvedModel) -> dict[str, Any]:
    """Keyword arguments common to TRL's DPOConfig and SFTConfig."""
    import torch

    bf16 = resolve_precision(training.precision) is Precision.BF16
    # Weights load, and the optimiser updates them, in fp32 whatever the precision: bf16 is compute only
    # (`bf16=True` makes accelerate run the forward under bf16 autocast). A bf16 master copy would lose
    # updates below its 8-bit mantissa: at lr 5e-7 most of them (issue 12).
    init_kwargs: dict[str, Any] = {"dtype": "float32"}
    if model.revision:
        init_kwargs["revision"] = model.revision
    if model.gguf_file:
        init_kwargs["gguf_file"] = model.gguf_file
    return {
        "output_dir": str(work_dir),
        "learning_rate": schedule.learning_rate,
        "num_train_epochs": schedule.epochs,
        "optim": schedule.optimizer,
        "lr_scheduler_type": schedule.lr_scheduler,
        # transformers 5 removed warmup_ratio: a float below 1 passed as warmup_steps is read as a ratio.
        "warmup_steps": schedule.warmup_ratio if schedule.warmup_ratio > 0 else 0,
        "per_device_train_batch_size": training.per_device_batch_size,
        "per_device_eval_batch_size": training.per_device_batch_size * 2,
        "gradient_accumulation_steps": training.gradient_accumulation_steps,
        "weight_decay": training.weight_decay,
        "max_length": training.max_length,
        "activation_checkpointing": training.gradient_checkpointing,
        "bf16": bf16,
        # TRL resolves bf16=None to True and aborts on CPU; say both explicitly.
        "use_cpu": not torch.cuda.is_available(),
        "logging_steps": training.logging_steps,
        "save_strategy": "steps" if training.save_steps else "epoch",
        "save_steps": training.save_steps or 500,
        "save_total_limit": 1,
        "report_to": "none",
        "seed": seed,
        "data_seed": seed,
        "dataloader_num_workers": 0,
        "model_init_kwargs": init_kwargs,
    }


def train_and_publish(trainer, tokenizer, stage: KeyedStage, *, epochs: float, keep_epochs: bool,
                      files: dict[str, Any], metric_names: dict[str, str] | None = None) -> dict[str, Any]:
    """Train (resuming from the last complete checkpoint in the stage's scratch) and publish its output.

    ``files`` are the side files saved beside the weights; a ``timings.json`` among them gets the training
    seconds added. Returns the metrics that land in ``metrics.json``.
    """
    quiet_progress(trainer, stage.out.name)
    if keep_epochs:
        keep_epoch_weights(trainer, tokenizer, stage.out, stage.key, epochs, files)
    resume_from = last_complete_checkpoint(stage.work)
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - started
    metrics = {
        "steps": step_log(trainer, metric_names),
        "train_loss": result.training_loss,
        "global_steps": trainer.state.global_step,
        "resumed_from": resume_from,
        "parallelism": parallelism_record(trainer),
    }
    side = dict(files)
    timings = {"training_seconds": seconds, **side.pop("timings.json", {})}
    side |= {"metrics.json": metrics, "timings.json": timings}
    publish_trained(trainer, tokenizer, stage.out, stage.key, side, final=True)
    return metrics


def last_complete_checkpoint(work_dir: Path) -> str | None:
    """The newest checkpoint-N that finished saving (trainer_state.json is written last)."""
    if not work_dir.is_dir():
        return None
    steps = []
    for child in work_dir.iterdir():
        match = _CHECKPOINT.match(child.name)
        if match and (child / "trainer_state.json").is_file():
            steps.append((int(match.group(1)), child))
    return str(max(steps)[1]) if steps else None


def publish_trained(trainer, tokenizer, out_dir: Path, key: str, files: dict[str, Any], *, final: bool) -> None:
    """Save the trained model and its side files, then move the directory into place in one step.

    Every rank calls trainer.save_model (ZeRO-3 gathers the shards); only the main process writes files.
    ``final``: training is over, so a LoRA model may be merged in place rather than copied first.
    """
    scratch = out_dir.with_name(f".{out_dir.name}.partial")
    main = trainer.accelerator.is_main_process
    if main and scratch.exists():
        shutil.rmtree(scratch)
    trainer.accelerator.wait_for_everyone()
    model = trainer.accelerator.unwrap_model(trainer.model)
    if is_lora_model(model):  # LoRA: the adapter merged into its base, a checkpoint like any other
        if main:
            save_merged(model, scratch, in_place=final)
    else:
        trainer.save_model(str(scratch))
    if main:
        tokenizer.save_pretrained(scratch)
        for name, payload in files.items():
            write_json_atomic(scratch / name, payload)
        write_stage_marker(scratch, key, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        publish_directory(scratch, out_dir)
    trainer.accelerator.wait_for_everyone()


def epoch_key(key: str, epoch: int) -> str:
    return stable_hash({"stage": key, "epoch": epoch})


def keep_epoch_weights(trainer, tokenizer, out_dir: Path, key: str, epochs: float, files: dict[str, Any]) -> None:
    """Publish the weights after every whole epoch before the last as ``<out_dir>-epoch<k>`` (paper Figure 4).

    The hook is on_step_end, not on_epoch_end: it runs before the Trainer saves a checkpoint at that step,
    so a resume can never start past an epoch end whose weights were not published. A finished epoch
    directory (its stage marker matches) is not written again after a resume.
    """
    from transformers import TrainerCallback

    class _KeepEpochs(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            epoch = round(state.epoch)
            if abs(state.epoch - epoch) > 1e-9 or not 1 <= epoch < epochs:
                return
            target, target_key = epoch_dir(out_dir, epoch), epoch_key(key, epoch)
            if not stage_done(target, target_key):
                payload = {"spin_config.json": files.get("spin_config.json"),
                           "metrics.json": {"steps": step_log(trainer), "epoch": epoch, "of_epochs": epochs},
                           **({LORA_FILE: files[LORA_FILE]} if LORA_FILE in files else {})}
                publish_trained(trainer, tokenizer, target, target_key, payload, final=False)

    trainer.add_callback(_KeepEpochs())


def step_log(trainer, renames: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Per-step training logs, with metric names optionally renamed (TRL chosen/rejected -> SPIN real/generated)."""
    renames = renames or {}
    rows = []
    for entry in trainer.state.log_history:
        if "loss" not in entry:
            continue
        row = {}
        for name, value in entry.items():
            for old, new in renames.items():
                name = name.replace(old, new)
            row[name] = value
        rows.append(row)
    return rows


def quiet_progress(trainer, desc: str) -> None:
    """Swap the Trainer's progress bar for one that shows the loss in the bar instead of printing a
    dict per logging step (logging_steps=1 would otherwise flood the terminal; metrics.json has them all)."""
    from transformers.trainer_callback import ProgressCallback

    class _LossInBar(ProgressCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            super().on_train_begin(args, state, control, **kwargs)
            if self.training_bar is not None:
                self.training_bar.set_description(desc)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.training_bar is not None and logs and "loss" in logs:
                self.training_bar.set_postfix(loss=f"{float(logs['loss']):.4f}", refresh=False)

    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(_LossInBar())
