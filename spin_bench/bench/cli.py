"""`spin-bench eval`: argument parsing and the printed summary; the work is in spin_bench.bench.evaluate."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

DEFAULT_STORE = "results/spin-bench.db"


def add_eval_subcommand(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "eval", help="score models on the paper's benchmarks (lm-eval) into the results store",
        description="Score checkpoints with lm-eval at the SPIN paper's settings. A run directory expands "
        "to its SFT model, every iteration and the baselines. Finished evaluations come from the store.")
    parser.add_argument("--model", action="append", required=True, metavar="PATH_OR_ID",
                        help="run directory, model directory or HuggingFace id (repeat for several)")
    parser.add_argument("--suite", default="leaderboard,bbh,openbookqa",
                        help="comma-separated: leaderboard, bbh, openbookqa, mt_bench (needs a judge), or all "
                        "(the three lm-eval suites; default)")
    parser.add_argument("--tasks", default=None, help="only these tasks of the suites, e.g. arc_challenge,mmlu")
    parser.add_argument("--limit", type=float, default=None, help="score only the first N items of each task")
    parser.add_argument("--data", default=None, metavar="DIR",
                        help="a directory from `spin-bench data pull`, or 'embedded'; default: the Hub")
    parser.add_argument("--label", default=None, help="label stored with the scores (default: derived)")
    parser.add_argument("--store", default=os.environ.get("SPIN_BENCH_STORE", DEFAULT_STORE),
                        help=f"results store: a SQLite path or any SQLAlchemy URL (default: {DEFAULT_STORE})")
    parser.add_argument("--out", type=Path, default=Path("results"), help="lm-eval results JSON and samples")
    parser.add_argument("--backend", choices=("hf", "vllm"), default="hf")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--dtype", default="auto", help="auto (bfloat16 on GPU, float32 on CPU), float32, ...")
    parser.add_argument("--max-gen-toks", type=int, default=None,
                        help="cap generated tokens (recorded as a deviation from the paper's settings)")
    parser.add_argument("--tensor-parallel-size", type=int, default=1, help="vllm only")
    parser.add_argument("--force", action="store_true", help="evaluate again even if the store has the scores")
    from spin_bench.mtbench.cli import add_mt_bench_arguments

    add_mt_bench_arguments(parser)
    parser.set_defaults(handler=handle_eval)


def handle_eval(args: argparse.Namespace) -> int:
    from spin_bench.bench.runner import EvalSettings
    from spin_bench.bench.suites import resolve_suites, select_tasks
    from spin_bench.errors import UserError

    if args.batch_size < 1 or (args.limit is not None and args.limit <= 0):
        raise UserError("--batch-size must be >= 1 and --limit > 0")
    names = [n.strip() for n in args.suite.split(",") if n.strip()]
    mt_bench = "mt_bench" in names
    lm_eval_names = ",".join(n for n in names if n != "mt_bench")
    if mt_bench:  # the judge options are checked before any lm-eval work is spent
        from spin_bench.mtbench.cli import check_judge_arguments

        check_judge_arguments(args.judge_url, args.judge_model, args.judge_local)
    if lm_eval_names:
        suites = select_tasks(resolve_suites(lm_eval_names), args.tasks)
        settings = EvalSettings(backend=args.backend, batch_size=args.batch_size, dtype=args.dtype,
                                limit=args.limit, max_gen_toks=args.max_gen_toks,
                                tensor_parallel_size=args.tensor_parallel_size)
        outcomes = run_evaluation(args.model, suites, args.data, settings, args.store, args.out, args.label, args.force)
        print(summary_table(outcomes))
    if mt_bench:
        from spin_bench.mtbench.cli import run_mt_bench_eval, summary_lines

        print("\n".join(summary_lines(run_mt_bench_eval(args.model, args, args.store, args.out))))
    print(f"Results store: {args.store}")
    return 0


def run_evaluation(models: list[str], suites, data: str | None, settings, store_url: str, out: Path,
                   label: str | None = None, force: bool = False, world_seed: int = 0):
    """Validate every input, then evaluate: bad input raises before the store is written."""
    from spin_bench.bench.data_source import open_bench_data
    from spin_bench.bench.evaluate import evaluate
    from spin_bench.bench.models import expand_models
    from spin_bench.store import ResultsStore

    refs = expand_models(models, label)
    specs = tuple(spec for specs in suites.values() for spec in specs)
    bench_data = open_bench_data(data, specs, world_seed)
    store = ResultsStore(store_url)
    work_root = Path(os.environ.get("SPIN_BENCH_CACHE", Path.home() / ".cache" / "spin-bench")).expanduser()
    return evaluate(refs, suites, bench_data, settings, store, out, work_root, force)


def summary_table(outcomes) -> str:
    """Model x task table of the paper's metric for each task (x100), cached evaluations marked."""
    from spin_bench.bench.suites import SUITES

    paper = {spec.name: (spec.metric, spec.filter) for specs in SUITES.values() for spec in specs}
    rows: dict[str, dict[str, float]] = {}
    cached: dict[str, bool] = {}
    for outcome in outcomes:
        row = rows.setdefault(outcome.model.label, {})
        cached[outcome.model.label] = cached.get(outcome.model.label, True) and outcome.cached
        for score in outcome.scores:
            if paper.get(score.task) == (score.metric, score.filter):
                row[score.task] = 100 * score.value
    from spin_bench.bench.suites import LEADERBOARD_AVERAGE

    for row in rows.values():
        if all(t in row for t in LEADERBOARD_AVERAGE):  # the paper's Average: plain mean of the six columns
            row["average"] = sum(row[t] for t in LEADERBOARD_AVERAGE) / len(LEADERBOARD_AVERAGE)
    paper["average"] = ("", "")
    tasks = [t for t in paper if any(t in r for r in rows.values())]
    width = max([len(label) for label in rows] + [5])
    header = f"{'model':<{width}} " + " ".join(f"{t[:13]:>13}" for t in tasks)
    lines = [header]
    for label, row in rows.items():
        cells = " ".join(f"{row[t]:>13.2f}" if t in row else f"{'-':>13}" for t in tasks)
        lines.append(f"{label:<{width}} {cells}" + ("  (cached)" if cached[label] else ""))
    deviations = sorted({d for outcome in outcomes for score in outcome.scores for d in score.deviations})
    if deviations:  # every deviation travels with its scores; say them wherever the scores are shown
        lines.append("Deviations from the paper's settings (stored with each score they affect):")
        lines.extend(f"  - {text}" for text in deviations)
    return "\n".join(lines)


def evaluate_run(recipe, run_dir: Path) -> None:
    """The `bench` stage of `spin-bench run`: every checkpoint of ``run_dir`` on the recipe's suites."""
    import time

    from spin_bench.bench.runner import EvalSettings
    from spin_bench.bench.suites import resolve_suites

    bench = recipe.bench
    settings = EvalSettings(backend=bench.backend.value, batch_size=bench.batch_size, limit=bench.limit,
                            max_gen_toks=bench.max_gen_toks)
    started = time.perf_counter()
    outcomes = run_evaluation([str(run_dir)], resolve_suites(bench.suites), bench.data, settings, bench.store,
                              Path(bench.results_dir), world_seed=recipe.embedded.world_seed)
    print(summary_table(outcomes))
    print(f"Benchmarks: {time.perf_counter() - started:.0f} s; scores in {bench.store}")
