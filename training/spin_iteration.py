"""One SPIN iteration as two keyed stages: the opponent answers (pairs), then the main player trains.

Where they land is the run layout's (spin_bench.core.run_layout): ``pairs/iter<t>/`` holds the pairs
(prompt, real, generated) with their provenance, ``iter<t>/`` the trained model with its metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.core.atomic import (
    atomic_directory,
    write_json_atomic,
    write_parquet_atomic,
)
from spin_bench.core.hashing import stable_hash
from spin_bench.core.names import CheckpointName
from spin_bench.core.run_layout import PAIRS_FILE, STAGE_FILE, RunLayout
from spin_bench.inference.checkpoints import load_tokenizer
from spin_bench.inference.distributed import is_main_process
from training.config import Schedule, TrainingRecipe
from training.data import LoadedData, PreferencePair
from training.opponent import generate_answers
from training.pairs import fit_prompts, pairs_frame, pairs_from_frame, spin_pairs
from training.preference_training import (
    SPIN_METRIC_NAMES,
    PreferenceStage,
    train_preferences,
)
from training.stages import Checkpoint, KeyedStage, read_json, run_stage


@dataclass(frozen=True)
class IterationPairs:
    key: str
    pairs: tuple[PreferencePair, ...]
    generation_seconds: float


def pairs_key(t: int, opponent: Checkpoint, spin_data: LoadedData, recipe: TrainingRecipe) -> str:
    return stable_hash({"stage": "pairs", "iteration": t, "opponent": opponent.identity,
                        "data": spin_data.provenance, "generation": recipe.generation, "seed": recipe.seed})


def pairs_stage(t: int, opponent: Checkpoint, spin_data: LoadedData, recipe: TrainingRecipe,
                layout: RunLayout) -> KeyedStage:
    key = pairs_key(t, opponent, spin_data, recipe)
    return KeyedStage(name=f"iter{t} opponent answers", out=layout.pairs_dir(t), key=key,
                      work=layout.work_dir(f"generations-iter{t}-{key}"))


def make_pairs(t: int, opponent: Checkpoint, spin_data: LoadedData, recipe: TrainingRecipe,
               layout: RunLayout) -> IterationPairs:
    """Stage 1: the opponent answers every SPIN prompt; pairs (prompt, real, generated) are saved."""
    stage = pairs_stage(t, opponent, spin_data, recipe, layout)

    def produce(stage: KeyedStage) -> None:
        answers, seconds = generate_answers(
            opponent.model, spin_data.rows, recipe.generation, recipe.training.precision,
            stage.work, recipe.seed + 1000 * t, desc=f"iter{t}: opponent answers",
        )
        if is_main_process():
            pairs = spin_pairs(spin_data.rows, answers)
            provenance = {"iteration": t, "opponent": opponent.model.provenance(), "opponent_label": opponent.label,
                          "generation": recipe.generation, "seed": recipe.seed, "data": spin_data.provenance,
                          "generation_seconds": seconds, "pairs": len(pairs)}
            with atomic_directory(stage.out) as scratch:
                write_parquet_atomic(scratch / PAIRS_FILE, pairs_frame(pairs))
                write_json_atomic(scratch / "provenance.json", provenance)
                write_json_atomic(scratch / STAGE_FILE, {"key": stage.key})

    run_stage(stage, produce)
    return read_pairs(stage)


def read_pairs(stage: KeyedStage) -> IterationPairs:
    import pandas as pd

    pairs = tuple(pairs_from_frame(pd.read_parquet(stage.out / PAIRS_FILE)))
    seconds = read_json(stage.out / "provenance.json")["generation_seconds"]
    return IterationPairs(key=stage.key, pairs=pairs, generation_seconds=seconds)


def train_iteration(
    t: int,
    opponent: Checkpoint,
    history: Sequence[IterationPairs],
    schedule: Schedule,
    beta: float,
    recipe: TrainingRecipe,
    layout: RunLayout,
    *,
    out: Path | None = None,
    keep_epochs: bool = False,
) -> Checkpoint:
    """Stage 2: train the main player on this iteration's pairs plus `mix_previous` earlier iterations'.

    The model lands in ``iter<t>`` of the run (or ``out``); with ``keep_epochs`` the weights after each
    earlier epoch are kept beside it (``<name>-epoch<k>``, run_layout.epoch_dir).
    """
    used = list(history[-(recipe.spin.mix_previous + 1):])
    key = stable_hash({"stage": "spin", "iteration": t, "opponent": opponent.identity, "pairs": [p.key for p in used],
                       "schedule": schedule, "beta": beta, "training": recipe.training, "loss": recipe.spin.loss,
                       "seed": recipe.seed, **({"keep_epochs": True} if keep_epochs else {})})
    out = out or layout.iteration_dir(t)
    stage = KeyedStage(name=f"{out.name} training", out=out, key=key, work=layout.work_dir(f"train-{out.name}-{key}"))

    def produce(stage: KeyedStage) -> None:
        pairs = fit_prompts([p for batch in used for p in batch.pairs], load_tokenizer(opponent.model),
                            recipe.training)
        spec = PreferenceStage(start=opponent.model, pairs=pairs, schedule=schedule, beta=beta, loss=recipe.spin.loss,
                               metric_names=SPIN_METRIC_NAMES, keep_epochs=keep_epochs)
        pairs_from = [CheckpointName.of_iteration(t - len(used) + 1 + i).format() for i in range(len(used))]
        files: dict[str, Any] = {
            "spin_config.json": {"recipe": recipe, "iteration": t, "schedule": schedule, "beta": beta,
                                 "loss": recipe.spin.loss, "opponent": opponent.model.provenance(),
                                 "pairs_from": pairs_from, "pairs": len(pairs)},
            "timings.json": {"generation_seconds": history[-1].generation_seconds},
        }
        train_preferences(spec, stage, recipe.training, recipe.seed, files)

    run_stage(stage, produce)
    return stage.checkpoint()
