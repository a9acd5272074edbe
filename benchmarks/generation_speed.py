"""Generation throughput (new tokens/s) of the project's batched HF generation (spin_bench.inference.generation,
what the SPIN opponent runs) against one prompt at a time.

    python benchmarks/generation_speed.py [--model DIR] [--recipe embedded] [--prompts 256] [--batch N]
                                          [--max-new-tokens N]

Baseline: the same HFGenerator with batch size 1, i.e. `model.generate` once per prompt. Both answer the
recipe's first SPIN prompts, rendered with the chat template as the opponent renders them, greedily with the
recipe's generation settings (batch size and new-token cap; the flags override them); the model is loaded
once and warmed up on a few prompts first. New tokens are counted by re-tokenising the answers (padding
after an answer's end is not counted). Default model: the embedded SFT model (built on first use in
$SPIN_BENCH_CACHE); 256 prompts take about a minute on 2 cores. Prints both runs and, last, the
batched/one-at-a-time throughput ratio. Noisy on a shared machine: the load average is printed with it.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from bench_common import embedded_model, load_note

from spin_bench.inference.checkpoints import (
    ResolvedModel,
    load_causal_lm,
    load_tokenizer,
)
from spin_bench.inference.generation import HFGenerator
from spin_bench.inference.prompts import render_prompt
from spin_bench.recipe import load_recipe
from training.data import load_sft


def tokens_per_second(generator: HFGenerator, prompts: list[str], seed: int) -> tuple[float, int, list[str]]:
    started = time.perf_counter()
    answers = generator.generate(prompts, seed)
    seconds = time.perf_counter() - started
    tokens = sum(len(generator.tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers)
    return tokens / seconds, tokens, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory (default: the embedded SFT model)")
    parser.add_argument("--recipe", default="embedded", help="recipe whose prompts and generation settings are used")
    parser.add_argument("--prompts", type=int, default=256)
    parser.add_argument("--batch", type=int, default=None, help="default: the recipe's generation.batch_size")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default: the recipe's")
    args = parser.parse_args()
    recipe = load_recipe(args.recipe).train
    resolved = ResolvedModel(path=args.model or embedded_model())
    config = replace(recipe.generation, batch_size=args.batch or recipe.generation.batch_size,
                     max_new_tokens=args.max_new_tokens or recipe.generation.max_new_tokens)
    model, tokenizer = load_causal_lm(resolved, recipe.training.precision), load_tokenizer(resolved)
    rows = load_sft(replace(recipe.spin_data, num_samples=args.prompts), recipe.seed, recipe.embedded.world_seed).rows
    prompts = [render_prompt(tokenizer, [{"role": "user", "content": r.prompt}], config.prompt_format) for r in rows]
    batched = HFGenerator(model=model, tokenizer=tokenizer, config=config)
    single = HFGenerator(model=model, tokenizer=tokenizer, config=replace(config, batch_size=1))
    batched.generate(prompts[:config.batch_size], recipe.seed)  # warm-up: allocations, kernel selection
    one_rate, one_tokens, one_answers = tokens_per_second(single, prompts, recipe.seed)
    batch_rate, batch_tokens, batch_answers = tokens_per_second(batched, prompts, recipe.seed)
    same = sum(a == b for a, b in zip(one_answers, batch_answers, strict=True))
    print(f"{resolved.path}: {len(prompts)} prompts, up to {config.max_new_tokens} new tokens, {load_note()}")
    print(f"  one prompt at a time  {one_tokens:6d} tokens  {one_rate:8.1f} tokens/s")
    print(f"  batched ({config.batch_size:3d})         {batch_tokens:6d} tokens  {batch_rate:8.1f} tokens/s")
    print(f"  identical answers: {same}/{len(prompts)} (greedy; left padding may change a near tie)")
    print(f"batched/one-at-a-time generation throughput (tokens/s) ratio {batch_rate / one_rate:.2f}x")


if __name__ == "__main__":
    main()
