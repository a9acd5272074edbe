"""SPIN training throughput (pairs/s) with the frozen reference scored once before training
(`training.precompute_reference: true`, the project's default) against a live reference scored at every step,
and the padding share of the training batches with and without `training.group_by_length`.

    python benchmarks/reference_speed.py [--model DIR] [--recipe embedded] [--pairs N] [--epochs 2] [--batch N]

Baseline: TRL's DPOTrainer as it ships (`precompute_ref_log_probs=False`: a second model kept in memory and a
reference forward in every step). Both runs are the project's SpinTrainer on iteration 0's pairs: the
recipe's first SPIN prompts, answered by the model itself (the opponent, training.opponent), with the
recipe's training settings and iteration 0's schedule. Timing is end to end: building the trainer (model
load, tokenisation and, when precomputed, the reference pass) and every training step. A third run trains
with length grouping on, for its throughput. Default model: the embedded SFT model (built on first use in
$SPIN_BENCH_CACHE); iteration 0's 256 pairs for 2 epochs, three times, take 1-2 minutes on 2 cores. Prints each run, the padding
shares and, last, the precomputed/live throughput ratio. Noisy on a shared machine: the load average is
printed with it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench_common import embedded_model, load_note
from training_steps import opponent_pairs, padding_share

from spin_bench.inference.checkpoints import ResolvedModel
from spin_bench.recipe import load_recipe
from training.preference_training import PreferenceStage, build_trainer


def train_once(stage: PreferenceStage, training, seed: int) -> tuple[float, float]:
    """Seconds to build the trainer and train; and the padding share of its training batches."""
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        trainer = build_trainer(stage, training, seed, Path(scratch))
        trainer.train()
        seconds = time.perf_counter() - started
        return seconds, padding_share(trainer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory (default: the embedded SFT model)")
    parser.add_argument("--recipe", default="embedded", help="recipe whose data and training settings are used")
    parser.add_argument("--pairs", type=int, default=None, help="default: the recipe's spin_data.num_samples")
    parser.add_argument("--epochs", type=float, default=None, help="default: iteration 0's")
    parser.add_argument("--batch", type=int, default=None, help="default: the recipe's per_device_batch_size")
    args = parser.parse_args()
    recipe = load_recipe(args.recipe).train
    model = args.model or embedded_model()
    iteration = recipe.spin.iterations[0]
    schedule = iteration.schedule(recipe.training)
    schedule = replace(schedule, epochs=args.epochs or schedule.epochs)
    training = replace(recipe.training, per_device_batch_size=args.batch or recipe.training.per_device_batch_size,
                       group_by_length=False)
    with tempfile.TemporaryDirectory() as scratch:
        pairs = opponent_pairs(model, recipe, args.pairs or recipe.spin_data.num_samples, Path(scratch))
    stage = PreferenceStage(start=ResolvedModel(path=model), pairs=pairs, schedule=schedule, beta=iteration.beta,
                            loss=recipe.spin.loss)
    runs = {
        "live reference": replace(training, precompute_reference=False),
        "precomputed reference": replace(training, precompute_reference=True),
        "precomputed, grouped by length": replace(training, precompute_reference=True, group_by_length=True),
    }
    measured = {name: train_once(stage, config, recipe.seed) for name, config in runs.items()}
    trained = len(pairs) * schedule.epochs
    print(f"{model}: {len(pairs)} pairs x {schedule.epochs:g} epochs, batch {training.per_device_batch_size}, "
          f"{load_note()}")
    for name, (seconds, _) in measured.items():
        print(f"  {name:32} {seconds:7.1f} s  {trained / seconds:6.2f} pairs/s")
    print(f"padding share of the training batches: {measured['precomputed reference'][1]:.0%} as batched today, "
          f"{measured['precomputed, grouped by length'][1]:.0%} with training.group_by_length: true")
    live, precomputed = measured["live reference"][0], measured["precomputed reference"][0]
    print(f"precomputed/live reference throughput (pairs/s) ratio {live / precomputed:.2f}x")


if __name__ == "__main__":
    main()
