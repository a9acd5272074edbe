"""Wall time of `spin-bench eval` (a first, uncached call) against the `lm_eval` CLI doing the same work.

    python benchmarks/eval_cli_speed.py [--model DIR] [--suite leaderboard,bbh,openbookqa] [--limit N]
                                        [--batch-size 16] [--max-gen-toks 64]

Baseline: lm-eval's own CLI (`lm_eval run`, the one installed beside spin-bench) on the same model, the same
task YAMLs (spin-bench's, written by spin_bench.bench.taskdir.write_task_dir and passed with
`--include_path`), the same data (the embedded world's benchmark items), the same dtype, batch size,
generation cap, seeds and BOS setting, logging per-sample results as spin-bench does. Both run as fresh
processes, each with an empty results store or output folder and its own empty HF datasets cache, so
neither reuses the other's work. Default model: the embedded SFT model (built on first use in
$SPIN_BENCH_CACHE); the three suites take about a minute per tool on 2 cores. Prints both wall times and,
last, their ratio (spin-bench / CLI: below 1 is faster). Noisy on a shared machine: the load average is
printed with it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench_common import embedded_model, load_note, spin_bench_command, timed

from spin_bench.bench.data_source import open_bench_data
from spin_bench.bench.runner import SEEDS
from spin_bench.bench.suites import resolve_suites
from spin_bench.bench.taskdir import lm_eval_name, write_task_dir
from spin_bench.core.enums import Precision
from spin_bench.core.paths import cache_root
from spin_bench.inference.checkpoints import cuda_available, resolve_precision


def lm_eval_cli(model: str, args: argparse.Namespace, out: Path) -> list[str]:
    """The CLI call that does what `spin-bench eval` does for these suites."""
    specs = tuple(spec for specs in resolve_suites(args.suite).values() for spec in specs)
    # The directory `spin-bench eval` itself writes and reads (evaluate's work root is the cache root).
    task_dir = write_task_dir(specs, open_bench_data("embedded", specs), cache_root() / "lm-eval-tasks")
    dtype = resolve_precision(Precision.AUTO).torch_name
    seeds = ",".join(str(SEEDS[k]) for k in ("random_seed", "numpy_random_seed", "torch_random_seed",
                                              "fewshot_random_seed"))
    command = [str(Path(sys.executable).with_name("lm_eval")), "run", "--model", "hf",
               "--model_args", f"pretrained={model},dtype={dtype},add_bos_token=False",
               "--tasks", ",".join(lm_eval_name(spec) for spec in specs), "--include_path", str(task_dir),
               "--batch_size", str(args.batch_size), "--device", "cuda" if cuda_available() else "cpu",
               "--gen_kwargs", f"max_gen_toks={args.max_gen_toks}", "--seed", seeds,
               "--output_path", str(out), "--log_samples"]
    return command + (["--limit", str(args.limit)] if args.limit else [])


def spin_bench_eval(model: str, args: argparse.Namespace, scratch: Path) -> list[str]:
    command = spin_bench_command("eval", "--model", model, "--suite", args.suite, "--data", "embedded",
                                 "--max-gen-toks", str(args.max_gen_toks), "--batch-size", str(args.batch_size),
                                 "--store", str(scratch / "store.db"), "--out", str(scratch / "out"))
    return command + (["--limit", str(args.limit)] if args.limit else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory (default: the embedded SFT model)")
    parser.add_argument("--suite", default="leaderboard,bbh,openbookqa")
    parser.add_argument("--limit", type=int, default=None, help="only the first N items of each task")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-gen-toks", type=int, default=64)
    args = parser.parse_args()
    model = args.model or embedded_model()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        cli = timed(lm_eval_cli(model, args, root / "cli"), env={"HF_DATASETS_CACHE": str(root / "hf-cli")})
        ours = timed(spin_bench_eval(model, args, root / "spin-bench"),
                     env={"HF_DATASETS_CACHE": str(root / "hf-spin-bench")})
    print(f"{model}: suites {args.suite}{f', limit {args.limit}' if args.limit else ''}, {load_note()}")
    print(f"  lm_eval CLI       {cli:7.1f} s")
    print(f"  spin-bench eval   {ours:7.1f} s")
    print(f"spin-bench eval/lm_eval CLI wall time ratio {ours / cli:.2f}x")


if __name__ == "__main__":
    main()
