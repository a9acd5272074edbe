"""LoRA for every trained stage, through peft and TRL's own PEFT path.

TRL wraps the policy when given a ``peft_config``; its reference is then the same model with the adapter
disabled (precomputed before training, or live), which is exactly the stage's starting weights.

Iteration t+1 starts from iteration t's *merged* weights, and each stage trains a fresh adapter on them.
Why merge rather than stack adapters: SPIN's iteration t+1 uses iteration t three times (opponent, reference,
starting point), so a merged iterate is a plain checkpoint that generation, TRL's reference, lm-eval and
MT-Bench load as they load any other; and the adapter-disabled reference of iteration t+1 is then iteration t
itself, as the paper's reference is. Stacked adapters would need the whole chain loaded everywhere and a
reference that disables only the newest one. The cost is disk: each iterate is full size, as without LoRA.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from spin_bench.core.errors import UserError
from spin_bench.inference.checkpoints import ResolvedModel
from training.config import ALL_LINEAR, LoraConfig

KEY = "training.lora.target_modules"
ZERO3_REFUSAL = ("training.lora: not supported under DeepSpeed ZeRO-3 (merging the adapter needs the gathered "
                 "weights); use ZeRO-2 or one process")
PROVENANCE_FILE = "lora.json"  # beside merged weights; not adapter_config.json, which loaders would take for an adapter


def peft_config(lora: LoraConfig | None):
    """peft's LoraConfig for TRL's trainers, or None for full fine-tuning."""
    if lora is None:
        return None
    peft = _import_peft()
    targets: str | list[str] = ALL_LINEAR if lora.target_modules == (ALL_LINEAR,) else list(lora.target_modules)
    return peft.LoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets,
                           task_type="CAUSAL_LM")


def check_lora_targets(model: ResolvedModel, lora: LoraConfig | None) -> None:
    """Fail before any stage writes output when a target module is not in ``model`` or cannot take LoRA.

    The check runs peft's own matching and wrapping on the model's skeleton on the meta device (no weights
    are read, so it costs the same for 7B as for the embedded model).
    """
    if lora is None:
        return
    if os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3":  # how `accelerate launch` passes the stage
        raise UserError(ZERO3_REFUSAL)
    peft = _import_peft()
    from peft.tuners.tuners_utils import check_target_module_exists

    skeleton = _meta_skeleton(model)
    names = [name for name, _ in skeleton.named_modules()]
    if lora.target_modules != (ALL_LINEAR,):
        for target in lora.target_modules:
            if not any(check_target_module_exists(peft.LoraConfig(target_modules=[target]), n) for n in names):
                raise UserError(f"{KEY}: {target!r} is no module of {model.path} (its linear layers: "
                                f"{', '.join(_linear_layer_names(skeleton))})")
    try:
        peft.get_peft_model(skeleton, peft_config(lora))
    except ValueError as err:  # e.g. a norm layer: peft adapts linear, embedding and convolution layers only
        raise UserError(f"{KEY}: {str(err).splitlines()[0]}") from None


def _meta_skeleton(model: ResolvedModel):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(model.path, revision=model.revision, gguf_file=model.gguf_file)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


def _linear_layer_names(skeleton) -> list[str]:
    """The distinct last name parts of the model's linear layers (what a user means to target), in order."""
    import torch

    names = (name.rsplit(".", 1)[-1] for name, m in skeleton.named_modules() if isinstance(m, torch.nn.Linear))
    return list(dict.fromkeys(names))


def is_lora_model(model) -> bool:
    """A peft model (False, without importing peft, when it is not installed)."""
    from accelerate.utils import is_peft_model

    return is_peft_model(model)


def _import_peft():
    try:
        import peft
    except ImportError:
        raise UserError("training.lora needs the peft library: pip install 'spin-bench[lora]'") from None
    return peft


def save_merged(peft_model, directory: Path, *, in_place: bool) -> None:
    """Save the adapter merged into its base weights as a plain transformers checkpoint.

    ``in_place`` merges the trainer's own model (once training is over); otherwise a copy is merged, so a
    mid-training save (the epochs kept for paper Figure 4) leaves the adapter training. Merging is exact:
    the base weights are fp32 (training.trainer_common), so a small update is not rounded away.
    """
    target = peft_model if in_place else copy.deepcopy(peft_model)
    target.merge_and_unload().save_pretrained(directory)


def lora_side_files(lora: LoraConfig | None, start: ResolvedModel) -> dict[str, Any]:
    """The side file a LoRA stage saves beside its merged weights (none for full fine-tuning)."""
    return {PROVENANCE_FILE: lora_provenance(lora, start)} if lora else {}


def refuse_zero3(trainer, lora: LoraConfig | None) -> None:
    """The launcher check in check_lora_targets misses a ZeRO-3 stage set in a DeepSpeed config file: the
    trainer knows, before any step is taken."""
    plugin = getattr(trainer.accelerator.state, "deepspeed_plugin", None)
    if lora is not None and plugin is not None and plugin.zero_stage == 3:
        raise UserError(ZERO3_REFUSAL)


def lora_provenance(lora: LoraConfig, start: ResolvedModel) -> dict[str, Any]:
    """What ``lora.json`` records: the settings, and the base the adapter was trained on and merged into."""
    from importlib.metadata import version

    return {"method": "lora", "merged": True, "rank": lora.rank, "alpha": lora.alpha, "dropout": lora.dropout,
            "target_modules": list(lora.target_modules), "base": start.provenance(), "peft": version("peft")}
