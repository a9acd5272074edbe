"""`spin-bench train`: the whole training recipe, top to bottom, resumable at every stage.

SFT model -> for t in iterations: opponent answers -> pairs -> train -> iter<t>; then the baselines
(SFT epoch, DPO, SPIN+DPO) and the held-out monitor. Rerunning the same command skips finished stages.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.core.atomic import clean_partials, write_json_atomic, write_text_atomic
from spin_bench.core.names import Baseline
from spin_bench.core.run_artifacts import RunArtifacts
from spin_bench.core.run_layout import (
    CheckpointEntry,
    HeldoutRow,
    RunLayout,
    RunSummary,
)
from spin_bench.core.typed_config import dump_yaml
from spin_bench.inference.checkpoints import load_tokenizer
from spin_bench.inference.distributed import is_main_process
from training import baselines
from training.config import TrainingRecipe
from training.data import LoadedData, load_preferences, load_sft
from training.deepspeed_launch import check_deepspeed_launch
from training.embedded.model import resolve_model
from training.lora import check_lora_targets
from training.monitor import MonitoredCheckpoint, monitor_checkpoints
from training.pairs import check_prompt_lengths
from training.spin_iteration import make_pairs, train_iteration
from training.stages import Checkpoint


@dataclass(frozen=True)
class RecipeData:
    """Every dataset a recipe names, read and checked once, before any stage writes output."""

    sft: LoadedData
    spin: LoadedData
    heldout: LoadedData | None
    preferences: LoadedData | None


def load_recipe_data(recipe: TrainingRecipe) -> RecipeData:
    world_seed = recipe.embedded.world_seed
    dpo = recipe.baselines.dpo
    return RecipeData(
        sft=load_sft(recipe.sft_data, recipe.seed, world_seed),
        spin=load_sft(recipe.spin_data, recipe.seed, world_seed),
        heldout=load_sft(recipe.heldout_data, recipe.seed, world_seed) if recipe.heldout_data else None,
        preferences=load_preferences(dpo.data, recipe.seed, world_seed) if dpo.enabled or dpo.spin_dpo else None,
    )


def run_recipe(recipe: TrainingRecipe, run_dir: Path, config_text: str | None = None) -> RunSummary:
    """Run every stage of ``recipe`` into ``run_dir``; returns the run summary (also saved as run.json).

    ``config_text`` is the resolved recipe saved as recipe.yaml (default: this training recipe's YAML).
    """
    started = time.perf_counter()
    layout = RunLayout(run_dir)
    check_deepspeed_launch(recipe.training)
    data = load_recipe_data(recipe)
    sft_started = time.perf_counter()
    sft = sft_checkpoint(recipe, data.sft)
    sft_seconds = time.perf_counter() - sft_started
    check_lengths(sft, recipe, data.spin, data.sft, data.preferences)
    check_lora_targets(sft.model, recipe.training.lora)

    run_dir.mkdir(parents=True, exist_ok=True)
    if is_main_process():
        for directory in layout.directories_to_clean():
            clean_partials(directory)
        write_text_atomic(layout.recipe_file, config_text or dump_yaml(recipe))

    monitored = [MonitoredCheckpoint(label="sft", model=sft.model, identity=sft.identity)]
    history, opponent = [], sft
    for t, iteration in enumerate(recipe.spin.iterations):
        history.append(make_pairs(t, opponent, data.spin, recipe, layout))
        trained = train_iteration(t, opponent, history, iteration.schedule(recipe.training), iteration.beta, recipe,
                                  layout)
        monitored.append(_monitored(trained, opponent, iteration.beta))
        opponent = trained
    for checkpoint, reference, beta in _baselines(recipe, data, sft, opponent, layout):
        monitored.append(_monitored(checkpoint, reference, beta))

    monitor_started = time.perf_counter()
    heldout = _monitor(recipe, data.heldout, monitored, layout)
    summary = RunSummary(
        recipe=recipe.name,
        checkpoints={c.label: _entry(c, layout, sft) for c in monitored},
        heldout=tuple(heldout),
        seconds={"sft_model": sft_seconds, "monitor": time.perf_counter() - monitor_started,
                 "wall": time.perf_counter() - started},
    )
    if is_main_process():
        write_json_atomic(layout.summary_file, summary.to_json())
    return summary


def sft_checkpoint(recipe: TrainingRecipe, sft_data: LoadedData) -> Checkpoint:
    """The run's starting point: the recipe's model, or the embedded SFT model built (or found cached)."""
    resolved = resolve_model(recipe, sft_data)
    return Checkpoint(label="sft", model=resolved, identity=resolved.content_hash())


def check_lengths(sft: Checkpoint, recipe: TrainingRecipe, *datasets: LoadedData | None) -> None:
    """Fail on an over-long prompt in any of ``datasets`` before any stage writes output."""
    tokenizer = load_tokenizer(sft.model)
    for data in datasets:
        if data is not None:
            check_prompt_lengths(data.rows, tokenizer, recipe.training, data.provenance["source"])


def _entry(checkpoint: Checkpoint, layout: RunLayout, sft: Checkpoint) -> CheckpointEntry:
    model = checkpoint.model
    if checkpoint is sft and not model.is_local:
        return CheckpointEntry(path=model.path, hub=True, revision=model.revision, gguf_file=model.gguf_file,
                               content_hash=sft.identity)
    return CheckpointEntry.for_directory(model.path, layout.root, gguf_file=model.gguf_file,
                                         content_hash=sft.identity if checkpoint is sft else None)


def _baselines(recipe: TrainingRecipe, data: RecipeData, sft: Checkpoint, last: Checkpoint,
               layout: RunLayout) -> Iterator[tuple[Checkpoint, Checkpoint, float]]:
    """(checkpoint, its reference, beta) for each enabled baseline."""
    config = recipe.baselines
    if config.sft_epoch.enabled:
        # No reference in SFT; measure it against the SFT model with the DPO beta, like the DPO row.
        yield baselines.sft_epoch(sft, data.sft, recipe, layout), sft, config.dpo.beta
    if config.dpo.enabled:
        yield (baselines.dpo(sft, data.preferences, recipe, layout, Baseline.DPO, config.dpo.schedule.epochs), sft,
               config.dpo.beta)
    if config.dpo.spin_dpo:
        yield (baselines.dpo(last, data.preferences, recipe, layout, Baseline.SPIN_DPO, config.dpo.spin_dpo_epochs),
               last, config.dpo.beta)


def _monitored(checkpoint: Checkpoint, reference: Checkpoint, beta: float) -> MonitoredCheckpoint:
    ref = MonitoredCheckpoint(label=reference.label, model=reference.model, identity=reference.identity)
    return MonitoredCheckpoint(label=checkpoint.label, model=checkpoint.model, identity=checkpoint.identity,
                               reference=ref, beta=beta)


def _monitor(recipe: TrainingRecipe, heldout: LoadedData | None, monitored, layout: RunLayout) -> list[HeldoutRow]:
    if heldout is None:
        return []
    return monitor_checkpoints(monitored, heldout.rows, recipe.generation, recipe.training.precision,
                               layout.monitor_dir, recipe.seed)


def summary_table(summary: RunSummary, run_dir: Path) -> str:
    """Plain-text table of the held-out monitor and the per-stage seconds, for the terminal."""
    artifacts = RunArtifacts.at(run_dir)
    lines = [f"{'checkpoint':<11} {'vs':<6} {'margin':>8} {'acc':>6} {'real logp/tok':>14} {'gen s':>7} {'train s':>8}"]
    rows = {row.label: row for row in summary.heldout}
    for name, entry in summary.checkpoints.items():
        row = rows.get(name)
        timing = artifacts.checkpoint_timing(Path(entry.location(run_dir))) if not entry.hub else None
        lines.append(
            f"{name:<11} {_fmt(row.reference if row else None, 's', '-'):<6} {_fmt(row and row.margin, '+.4f'):>8} "
            f"{_fmt(row and row.accuracy, '.2f'):>6} {_fmt(row and row.real_logp_per_token, '.4f'):>14} "
            f"{_fmt(timing and timing.generation_seconds, '.1f'):>7} {_fmt(timing and timing.training_seconds, '.1f'):>8}"
        )
    return "\n".join(lines)


def _fmt(value: Any, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)
