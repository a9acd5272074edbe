"""Checks on a DeepSpeed launch (`accelerate launch --config_file <zero3.yaml>`), made before any stage runs.

accelerate hands its config to the training processes as ``ACCELERATE_*`` environment variables; the
Trainer reads them only when the first trainer is built, after the SFT model and the opponent's answers.
Three mismatches surface there as library tracebacks, or not at all, so they are caught here first:

- the launch's ``mixed_precision`` disagreeing with the recipe's ``training.precision`` (DeepSpeed raises
  "ds bf16.enabled=True vs hf bf16=False" on a CPU, where ``auto`` means fp32);
- a ``deepspeed_config_file`` that is missing or is not a JSON object;
- optimizer offload, which makes accelerate swap the recipe's optimizer (RMSprop in the paper) for
  DeepSpeed's CPU Adam unless the DeepSpeed config says ``"zero_force_ds_cpu_optimizer": false``, a key
  accelerate's YAML cannot set. A silent optimizer swap changes the experiment, so it is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.core.enums import Precision
from spin_bench.core.errors import UserError
from spin_bench.inference.checkpoints import resolve_precision
from training.config import TrainingConfig


@dataclass(frozen=True)
class DeepSpeedLaunch:
    """What the launch asked DeepSpeed for, as recorded in a stage's provenance."""

    zero_stage: int | None
    mixed_precision: str
    offload_optimizer: str
    offload_param: str
    config_file: str | None


def deepspeed_launch(environ: Mapping[str, str] = os.environ) -> DeepSpeedLaunch | None:
    """The DeepSpeed settings of this process's launch, or None when it was not launched with DeepSpeed."""
    if environ.get("ACCELERATE_USE_DEEPSPEED", "false").lower() != "true":
        return None
    config_file = environ.get("ACCELERATE_DEEPSPEED_CONFIG_FILE") or None
    if config_file in ("none", "None"):
        config_file = None
    settings = _config_file_settings(Path(config_file)) if config_file else {}
    zero = settings.get("zero_optimization", {})
    stage = zero.get("stage", environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE"))
    return DeepSpeedLaunch(
        zero_stage=int(stage) if stage not in (None, "auto") else None,
        mixed_precision=environ.get("ACCELERATE_MIXED_PRECISION", "no"),
        offload_optimizer=str(zero.get("offload_optimizer", {}).get(
            "device", environ.get("ACCELERATE_DEEPSPEED_OFFLOAD_OPTIMIZER_DEVICE", "none"))).lower(),
        offload_param=str(zero.get("offload_param", {}).get(
            "device", environ.get("ACCELERATE_DEEPSPEED_OFFLOAD_PARAM_DEVICE", "none"))).lower(),
        config_file=config_file,
    )


def check_deepspeed_launch(training: TrainingConfig, environ: Mapping[str, str] = os.environ) -> DeepSpeedLaunch | None:
    """Raise a one-line UserError for a launch that would fail late or change the experiment silently."""
    launch = deepspeed_launch(environ)
    if launch is None:
        return None
    precision = resolve_precision(training.precision)
    # "no" always agrees: TrainingArguments then sets DeepSpeed's bf16 from the recipe's precision.
    agreeing = {"no", "bf16"} if precision is Precision.BF16 else {"no"}
    if launch.mixed_precision not in agreeing:
        raise UserError(
            f"the launch's mixed_precision={launch.mixed_precision} disagrees with training.precision="
            f"{training.precision.value} (resolved to {precision.value} on this machine): set mixed_precision: "
            f"'no' in the accelerate config (the recipe's precision decides) or training.precision to match")
    if launch.offload_optimizer != "none":
        forced = True
        if launch.config_file:
            forced = _config_file_settings(Path(launch.config_file)).get("zero_force_ds_cpu_optimizer", True)
        if forced:
            raise UserError(
                f"optimizer offload to {launch.offload_optimizer} would replace the recipe's optimizer "
                f"({training.schedule.optimizer}) with DeepSpeed's CPU Adam: give a DeepSpeed config file "
                f"(deepspeed_config_file) with \"zero_force_ds_cpu_optimizer\": false, or turn offload off")
    return launch


def _config_file_settings(path: Path) -> dict[str, Any]:
    where = f"{path} (deepspeed_config_file of the accelerate config)"
    if not path.is_file():
        raise UserError(f"{where}: {'is a directory' if path.is_dir() else 'no such file'}")
    try:
        settings = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{where}: not valid JSON ({err})") from None
    if not isinstance(settings, dict):
        raise UserError(f"{where}: must be a JSON object, got {type(settings).__name__}")
    return settings


def parallelism_record(trainer) -> dict[str, Any]:
    """How a finished trainer ran: processes, DeepSpeed's ZeRO stage, and the share of the parameters that
    this rank held. Under ZeRO-3 each parameter keeps only this rank's partition (``ds_tensor``) between
    forwards; the share is what shows the partitioning really happened."""
    state = trainer.accelerator.state
    plugin = getattr(state, "deepspeed_plugin", None)
    total = held = 0
    for parameter in trainer.model.parameters():
        full = getattr(parameter, "ds_numel", None)
        total += full if full is not None else parameter.numel()
        partition = getattr(parameter, "ds_tensor", None)
        held += partition.numel() if partition is not None else parameter.numel()
    return {
        "distributed_type": str(state.distributed_type.value if hasattr(state.distributed_type, "value")
                                else state.distributed_type),
        "num_processes": state.num_processes,
        "zero_stage": plugin.zero_stage if plugin is not None else None,
        "parameters": total,
        "parameters_held_by_rank0": held,
    }
