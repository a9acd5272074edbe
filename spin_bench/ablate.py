"""`spin-bench ablate`: one ablation study of a recipe, trained, scored into the results store, and reported.

The training is training.ablations; the scoring is the same path as `spin-bench run` (the study directory's
run.json names its checkpoints, labelled ``<recipe>/<checkpoint>``); the report is the run's report, whose
Figures 4 and 5 and loss/beta figure read those labels. Rerun the same command to resume.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

STUDIES = ("epochs", "size", "loss")  # training.config.Study, spelled out so `--help` imports nothing heavy


def add_ablate_subcommand(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ablate", help="run one of the paper's ablations on iteration 0, score it and update the report (resumable)",
        description="epochs: iteration 0 for ablations.epochs.max_epochs epochs, scored after each (Figure 4). "
        "size: iteration 0 on nested subsets of the SPIN prompts, beside SFT trained longer (Figure 5). "
        "loss: iteration 0 with every loss and beta of ablations.loss. Outputs go to <out>/ablations/<study>; "
        "scores to the recipe's results store; the report to <out>/report.html. Rerun to resume.")
    parser.add_argument("--recipe", required=True, help="built-in recipe name (embedded, paper-zephyr-7b) or YAML path")
    parser.add_argument("--study", required=True, choices=STUDIES)
    parser.add_argument("--out", type=Path, default=None,
                        help="the run directory (default: runs/<recipe name>); its pairs are reused, never changed")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="recipe overrides, e.g. ablations.loss.betas=[0.1,1.0]")
    parser.set_defaults(handler=handle_ablate)


def handle_ablate(args: argparse.Namespace) -> int:
    from spin_bench.cli import _quiet_library_bars
    from training.ablations import run_study
    from training.config import Study, load_recipe
    from training.distributed import is_main_process

    started = time.perf_counter()
    recipe = load_recipe(args.recipe, args.overrides)
    _quiet_library_bars()
    run_dir = args.out or Path("runs") / recipe.name
    summary = run_study(recipe, Study(args.study), run_dir)
    if not is_main_process():
        return 0
    print(f"Study {args.study}: {len(summary['checkpoints'])} checkpoints in {summary['run_dir']} "
          f"(training {summary['wall_seconds']:.0f} s)")
    if recipe.bench.enabled:
        _score_and_report(recipe, run_dir, Path(summary["run_dir"]))
    print(f"Study {args.study} done in {time.perf_counter() - started:.0f} s")
    return 0


def _score_and_report(recipe, run_dir: Path, study_dir: Path) -> None:
    """Score every checkpoint of the study as `spin-bench run` does, then rebuild the run's report."""
    from reports.report import build_report
    from spin_bench.bench.cli import evaluate_run
    from spin_bench.store import ResultsStore

    suites = recipe.ablations.suites or recipe.bench.suites
    evaluate_run(replace(recipe, bench=replace(recipe.bench, suites=suites)), study_dir)
    report = build_report(ResultsStore(recipe.bench.store), run_dir, recipe.name, run_dir / "report.html")
    print(f"Report: {report}")
