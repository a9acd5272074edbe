"""The GPU check: one run of under 8 minutes on a single CUDA GPU with no network.

What it exercises on CUDA, each step through the project's own commands:
  1. bf16 SPIN training of one iteration on a ~100M-parameter Llama built by project code from random
     weights (the embedded builder at larger sizes, one pre-training and one SFT step: no download);
  2. the same iteration under DeepSpeed ZeRO-3 on 1 GPU (`accelerate launch` with the shipped config);
  3. HF generation with the trained model (the opponent's generator);
  4. `spin-bench eval` on one task.
It prints training throughput (tokens/s, and MFU against the chip's dense bf16 peak) and generation
tokens/s, and writes them to ``--out``/gpu_check.json.

Without a CUDA GPU it stops at once with one line and exit 2 (tests/test_gpu_check.py checks that on CPU).
Run it as ``bash benchmarks/gpu_check.sh`` (which installs the carried wheels first) or directly.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# Dense bf16 peak (TFLOP/s, without sparsity) of the chips such a check is likely to meet, by device name.
# From the vendors' data sheets; override with --peak-tflops for anything else.
BF16_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0,
                    "RTX 4090": 165.0}

# ~100M parameters: 12 layers x (4 x 768^2 attention + 3 x 768 x 2048 MLP) = 85M, plus embeddings.
MODEL = ("embedded.hidden_size=768", "embedded.num_layers=12", "embedded.num_heads=12",
         "embedded.intermediate_size=2048", "embedded.pretrain_steps=1", "embedded.sft_steps=1")
ONE_ITERATION = ("spin.iterations=[{learning_rate: 1.0e-5, beta: 0.1}]", "spin_data.num_samples=512",
                 "sft_data.num_samples=256", "heldout_data.num_samples=32", "baselines.sft_epoch.enabled=false",
                 "baselines.dpo.enabled=false", "training.epochs=1", "training.precision=bf16",
                 "training.per_device_batch_size=16", "generation.batch_size=128", "generation.max_new_tokens=64")


def require_cuda() -> str:
    try:
        import torch
    except ImportError:
        fail("torch is not installed")
    if not torch.cuda.is_available():
        fail("no CUDA GPU visible (torch.cuda.is_available() is False); this check needs one")
    return torch.cuda.get_device_name(0)


def fail(message: str) -> None:
    print(f"gpu_check: error: {message}", file=sys.stderr)
    sys.exit(2)


def step(name: str, command: list[str], env: dict[str, str] | None = None) -> float:
    print(f"== {name}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    result = subprocess.run(command, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        fail(f"{name} failed (exit {result.returncode}) after {seconds:.0f} s")
    print(f"== {name}: {seconds:.1f} s", flush=True)
    return seconds


def training_tokens(run_dir: Path) -> int:
    """Tokens in the trained pairs (prompt + real and prompt + generated), once per epoch of one iteration."""
    import pandas as pd
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(run_dir / "iter0")
    pairs = pd.read_parquet(run_dir / "pairs" / "iter0" / "pairs.parquet")
    return sum(len(tokenizer(p + a)["input_ids"]) for p, r, g in zip(pairs["prompt"], pairs["real"],
                                                                     pairs["generated"], strict=True) for a in (r, g))


def parameter_count(model_dir: Path) -> int:
    from math import prod

    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), framework="pt") as weights:
        return sum(prod(weights.get_slice(name).get_shape()) for name in weights.keys())


def generation_speed(model_dir: Path) -> dict[str, float]:
    from spin_bench.core.enums import Precision
    from spin_bench.inference.checkpoints import ResolvedModel, load_tokenizer
    from spin_bench.inference.config import GenerationConfig
    from spin_bench.inference.generation import make_generator

    model = ResolvedModel(path=str(model_dir))
    config = GenerationConfig(batch_size=128, max_new_tokens=128, do_sample=False)
    generator = make_generator(model, config, Precision.BF16)
    tokenizer = load_tokenizer(model)
    prompts = [f"Question {i}: what does the world say about item {i}?" for i in range(512)]
    generator.generate(prompts[:128], seed=0)  # warm-up: CUDA kernels and allocator
    started = time.perf_counter()
    answers = generator.generate(prompts, seed=0)
    seconds = time.perf_counter() - started
    tokens = sum(len(tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers)
    return {"generation_prompts": len(prompts), "generation_tokens": tokens, "generation_seconds": seconds,
            "generation_tokens_per_s": tokens / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("gpu-check"))
    parser.add_argument("--peak-tflops", type=float, help="the chip's dense bf16 peak, if not in the table")
    args = parser.parse_args()
    device = require_cuda()  # first: on a machine without a GPU nothing else runs
    peak = args.peak_tflops or next((v for k, v in BF16_PEAK_TFLOPS.items() if k in device), None)
    args.out.mkdir(parents=True, exist_ok=True)
    spin = [sys.executable, "-m", "spin_bench"]
    figures: dict[str, object] = {"device": device, "bf16_peak_tflops": peak}

    step("build the ~100M model", [*spin, "build-embedded", *MODEL])
    run_dir = args.out / "bf16"
    step("bf16 SPIN iteration", [*spin, "train", "--recipe", "embedded", "--out", str(run_dir), *MODEL, *ONE_ITERATION])
    seconds = json.loads((run_dir / "iter0" / "timings.json").read_text())["training_seconds"]
    tokens, params = training_tokens(run_dir), parameter_count(run_dir / "iter0")
    # Policy forward + backward on real and generated answers: 6 N FLOPs a token (reference precomputed).
    tflops = 6 * params * tokens / seconds / 1e12
    figures.update(parameters=params, training_tokens=tokens, training_seconds=seconds,
                   training_tokens_per_s=tokens / seconds, training_tflops=tflops,
                   mfu=tflops / peak if peak else None)

    zero3 = Path(__file__).resolve().parents[1] / "training" / "launch" / "zero3.yaml"
    step("ZeRO-3 on 1 GPU", [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(zero3),
                             "--num_processes", "1", "-m", "spin_bench", "train", "--recipe", "embedded",
                             "--out", str(args.out / "zero3"), *MODEL, *ONE_ITERATION])
    figures.update(generation_speed(run_dir / "iter0"))
    step("spin-bench eval on one task", [*spin, "eval", "--model", str(run_dir / "iter0"), "--suite", "leaderboard",
                                         "--tasks", "arc_challenge", "--data", "embedded", "--limit", "200",
                                         "--precision", "bf16", "--store", str(args.out / "scores.db")])
    (args.out / "gpu_check.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    mfu = f"{figures['mfu']:.1%}" if figures["mfu"] is not None else "unknown peak"
    print(f"training {figures['training_tokens_per_s']:.0f} tokens/s (MFU {mfu}); "
          f"generation {figures['generation_tokens_per_s']:.0f} tokens/s")


if __name__ == "__main__":
    main()
