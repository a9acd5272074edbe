"""The paper's baselines, trained by the same keyed stages as SPIN: one more SFT epoch (Table 5), DPO from
the SFT model and DPO after the last SPIN iteration (Table 3)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from spin_bench.core.enums import LossKind
from spin_bench.core.hashing import stable_hash
from spin_bench.core.names import Baseline
from spin_bench.core.run_layout import RunLayout
from spin_bench.inference.checkpoints import load_tokenizer
from training.config import Schedule, TrainingRecipe
from training.data import LoadedData
from training.pairs import fit_prompts
from training.preference_training import PreferenceStage, train_preferences
from training.sft_training import SftStage, train_sft
from training.stages import Checkpoint, KeyedStage, run_stage


def sft_epoch(start: Checkpoint, sft_data: LoadedData, recipe: TrainingRecipe, layout: RunLayout, *,
              out: Path | None = None, epochs: float | None = None, keep_epochs: bool = False) -> Checkpoint:
    """SFT continued on its own data (default: baselines/sft_epoch, the recipe's epochs). The training-size
    ablation trains it longer into ``out`` and keeps every epoch (the paper's SFT curve in Figure 5)."""
    schedule = recipe.baselines.sft_epoch.schedule
    if epochs is not None:
        schedule = replace(schedule, epochs=epochs)
    key = stable_hash({"stage": "sft_epoch", "start": start.identity, "data": sft_data.provenance,
                       "schedule": schedule, "training": recipe.training, "seed": recipe.seed,
                       **({"keep_epochs": True} if keep_epochs else {})})
    out = out or layout.baseline_dir(Baseline.SFT_EPOCH)
    stage = KeyedStage(name=f"baseline {out.name}", out=out, key=key, work=layout.work_dir(f"{out.name}-{key}"))

    def produce(stage: KeyedStage) -> None:
        spec = SftStage(start=start.model, rows=sft_data.rows, schedule=schedule, keep_epochs=keep_epochs)
        files = {"spin_config.json": {"recipe": recipe, "baseline": Baseline.SFT_EPOCH,
                                      "start": start.model.provenance(), "data": sft_data.provenance,
                                      "schedule": schedule}}
        train_sft(spec, stage, recipe.training, recipe.seed, files)

    run_stage(stage, produce)
    return stage.checkpoint()


def dpo(start: Checkpoint, preferences: LoadedData, recipe: TrainingRecipe, layout: RunLayout, baseline: Baseline,
        epochs: float) -> Checkpoint:
    """DPO (logistic loss, the paper's and zephyr's recipe) on the preference data, from ``start``."""
    config = recipe.baselines.dpo
    schedule: Schedule = replace(config.schedule, epochs=epochs)
    key = stable_hash({"stage": baseline.value, "start": start.identity, "data": preferences.provenance,
                       "beta": config.beta, "schedule": schedule, "training": recipe.training, "seed": recipe.seed})
    out = layout.baseline_dir(baseline)
    stage = KeyedStage(name=f"baseline {baseline.value}", out=out, key=key,
                       work=layout.work_dir(f"{baseline.value}-{key}"))

    def produce(stage: KeyedStage) -> None:
        pairs = fit_prompts(preferences.rows, load_tokenizer(start.model), recipe.training)
        spec = PreferenceStage(start=start.model, pairs=pairs, schedule=schedule, beta=config.beta,
                               loss=LossKind.LOGISTIC)
        files = {"spin_config.json": {"recipe": recipe, "baseline": baseline, "start": start.model.provenance(),
                                      "data": preferences.provenance, "beta": config.beta, "schedule": schedule}}
        train_preferences(spec, stage, recipe.training, recipe.seed, files)

    run_stage(stage, produce)
    return stage.checkpoint()
