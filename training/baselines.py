"""The paper's baselines, trained by the same stages as SPIN: one more SFT epoch (Table 5), DPO from the
SFT model and DPO after the last SPIN iteration (Table 3)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from spin_bench.hashing import stable_hash
from training.checkpoint import ResolvedModel, load_tokenizer
from training.config import LossKind, Recipe
from training.data import LoadedData, load_preferences
from training.pairs import fit_prompts
from training.preference_training import PreferenceStage, train_preference_stage
from training.sft_training import SftStage, train_sft_stage
from training.spin_iteration import Checkpoint
from training.stages import stage_done


def sft_epoch(start: Checkpoint, sft_data: LoadedData, recipe: Recipe, run_dir: Path, *, out: Path | None = None,
              epochs: float | None = None, keep_epochs: bool = False) -> Checkpoint:
    """SFT continued on its own data (default: baselines/sft_epoch, the recipe's epochs). The training-size
    ablation trains it longer into ``out`` and keeps every epoch (the paper's SFT curve in Figure 5)."""
    config = recipe.baselines.sft_epoch if epochs is None else replace(recipe.baselines.sft_epoch, epochs=epochs)
    key = stable_hash({"stage": "sft_epoch", "start": start.identity, "data": sft_data.provenance,
                       "config": config, "training": recipe.training, "seed": recipe.seed,
                       **({"keep_epochs": True} if keep_epochs else {})})
    out = out or run_dir / "baselines" / "sft_epoch"
    if not stage_done(out, key, f"baseline {out.name}"):
        stage = SftStage(start=start.model, rows=sft_data.rows, learning_rate=config.learning_rate,
                         epochs=config.epochs, optimizer=config.optimizer, lr_scheduler=config.lr_scheduler,
                         warmup_ratio=config.warmup_ratio, keep_epochs=keep_epochs)
        files = {"spin_config.json": {"recipe": recipe, "baseline": "sft_epoch", "start": start.model.provenance(),
                                      "data": sft_data.provenance, "epochs": config.epochs}}
        train_sft_stage(stage, recipe.training, recipe.seed, out, run_dir / ".work" / f"{out.name}-{key}", key, files)
    return Checkpoint(label=out.name, model=ResolvedModel(path=str(out)), identity=key)


def dpo(start: Checkpoint, recipe: Recipe, run_dir: Path, name: str, epochs: float) -> Checkpoint:
    """DPO (logistic loss, the paper's and zephyr's recipe) on the recipe's preference data from ``start``."""
    config = recipe.baselines.dpo
    data = load_preferences(config.data, recipe.seed, recipe.embedded.world_seed)
    key = stable_hash({"stage": name, "start": start.identity, "data": data.provenance, "config": config,
                       "epochs": epochs, "training": recipe.training, "seed": recipe.seed})
    out = run_dir / "baselines" / name
    if not stage_done(out, key, f"baseline {name}"):
        pairs = fit_prompts(data.rows, load_tokenizer(start.model), recipe.training)
        stage = PreferenceStage(start=start.model, pairs=pairs, learning_rate=config.learning_rate, beta=config.beta,
                                epochs=epochs, loss=LossKind.LOGISTIC, optimizer=config.optimizer,
                                lr_scheduler=config.lr_scheduler, warmup_ratio=config.warmup_ratio)
        files = {"spin_config.json": {"recipe": recipe, "baseline": name, "start": start.model.provenance(),
                                      "data": data.provenance, "epochs": epochs}}
        train_preference_stage(stage, recipe.training, recipe.seed, out, run_dir / ".work" / f"{name}-{key}", key, files)
    return Checkpoint(label=name, model=ResolvedModel(path=str(out)), identity=key)
