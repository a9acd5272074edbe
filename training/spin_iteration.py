"""One SPIN iteration as two stages: the opponent answers (pairs), then the main player trains.

Layout inside the run directory:
  pairs/iter<t>/   pairs.parquet (prompt, real, generated) + provenance.json + stage.json
  iter<t>/         the trained model (safetensors, tokenizer) + spin_config.json, metrics.json, timings.json
  .work/           resumable scratch: generation shards and trainer checkpoints
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.atomic import atomic_directory, write_json_atomic, write_parquet_atomic
from spin_bench.hashing import stable_hash
from training.checkpoint import ResolvedModel, load_tokenizer
from training.config import IterationConfig, Recipe
from training.data import LoadedData, PreferencePair
from training.opponent import generate_answers
from training.pairs import fit_prompts, pairs_frame, pairs_from_frame, spin_pairs
from training.preference_training import SPIN_METRIC_NAMES, PreferenceStage, train_preference_stage
from training.distributed import barrier, is_main_process
from training.stages import read_json, stage_done


@dataclass(frozen=True)
class Checkpoint:
    """A model plus the identity that downstream stage keys are built from."""

    label: str
    model: ResolvedModel
    identity: str


@dataclass(frozen=True)
class IterationPairs:
    key: str
    pairs: tuple[PreferencePair, ...]
    generation_seconds: float


def pairs_key(t: int, opponent: Checkpoint, spin_data: LoadedData, recipe: Recipe) -> str:
    return stable_hash({"stage": "pairs", "iteration": t, "opponent": opponent.identity,
                        "data": spin_data.provenance, "generation": recipe.generation, "seed": recipe.seed})


def pairs_dir(run_dir: Path, t: int) -> Path:
    return run_dir / "pairs" / f"iter{t}"


def make_pairs(t: int, opponent: Checkpoint, spin_data: LoadedData, recipe: Recipe, run_dir: Path) -> IterationPairs:
    """Stage 1: the opponent answers every SPIN prompt; pairs (prompt, real, generated) are saved."""
    key = pairs_key(t, opponent, spin_data, recipe)
    out = pairs_dir(run_dir, t)
    if not stage_done(out, key, f"iter{t} opponent answers"):
        shards = run_dir / ".work" / f"generations-iter{t}-{key}"
        answers, seconds = generate_answers(
            opponent.model, spin_data.rows, recipe.generation, recipe.training.precision,
            shards, recipe.seed + 1000 * t, desc=f"iter{t}: opponent answers",
        )
        if is_main_process():
            pairs = spin_pairs(spin_data.rows, answers)
            provenance = {"iteration": t, "opponent": opponent.model.provenance(), "opponent_label": opponent.label,
                          "generation": recipe.generation, "seed": recipe.seed, "data": spin_data.provenance,
                          "generation_seconds": seconds, "pairs": len(pairs)}
            with atomic_directory(out) as scratch:
                write_parquet_atomic(scratch / "pairs.parquet", pairs_frame(pairs))
                write_json_atomic(scratch / "provenance.json", provenance)
                write_json_atomic(scratch / "stage.json", {"key": key})
            shutil.rmtree(shards, ignore_errors=True)  # the pairs file now holds every answer
        barrier()
    import pandas as pd

    pairs = tuple(pairs_from_frame(pd.read_parquet(out / "pairs.parquet")))
    seconds = read_json(out / "provenance.json")["generation_seconds"]
    return IterationPairs(key=key, pairs=pairs, generation_seconds=seconds)


def train_iteration(
    t: int,
    opponent: Checkpoint,
    history: Sequence[IterationPairs],
    schedule: IterationConfig,
    recipe: Recipe,
    run_dir: Path,
    *,
    out_name: str | None = None,
    keep_epochs: bool = False,
) -> Checkpoint:
    """Stage 2: train the main player on this iteration's pairs plus `mix_previous` earlier iterations'.

    The model lands in ``run_dir/iter<t>`` (or ``run_dir/<out_name>``); with ``keep_epochs`` the weights
    after each earlier epoch are kept beside it (``<name>-epoch<k>``, trainer_common.epoch_dir).
    """
    used = list(history[-(recipe.spin.mix_previous + 1):])
    epochs = schedule.epochs or recipe.training.epochs
    key = stable_hash({"stage": "spin", "iteration": t, "opponent": opponent.identity, "pairs": [p.key for p in used],
                       "schedule": schedule, "training": recipe.training, "loss": recipe.spin.loss,
                       "seed": recipe.seed, **({"keep_epochs": True} if keep_epochs else {})})
    out = run_dir / (out_name or f"iter{t}")
    if not stage_done(out, key, f"{out.name} training"):
        tokenizer = load_tokenizer(opponent.model)
        pairs = fit_prompts([p for batch in used for p in batch.pairs], tokenizer, recipe.training)
        stage = PreferenceStage(
            start=opponent.model, pairs=pairs, learning_rate=schedule.learning_rate, beta=schedule.beta,
            epochs=epochs, loss=recipe.spin.loss, optimizer=recipe.training.optimizer,
            lr_scheduler=recipe.training.lr_scheduler, warmup_ratio=recipe.training.warmup_ratio,
            metric_names=SPIN_METRIC_NAMES, keep_epochs=keep_epochs,
        )
        files: dict[str, Any] = {
            "spin_config.json": {"recipe": recipe, "iteration": t, "learning_rate": schedule.learning_rate,
                                 "beta": schedule.beta, "epochs": epochs, "loss": recipe.spin.loss,
                                 "opponent": opponent.model.provenance(), "pairs_from": [f"iter{t - len(used) + 1 + i}"
                                                                                         for i in range(len(used))],
                                 "pairs": len(pairs)},
            "timings.json": {"generation_seconds": history[-1].generation_seconds},
        }
        train_preference_stage(stage, recipe.training, recipe.seed, out, run_dir / ".work" / f"train-{out.name}-{key}",
                               key, files)
    return Checkpoint(label=out.name, model=ResolvedModel(path=str(out)), identity=key)
