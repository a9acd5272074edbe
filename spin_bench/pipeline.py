"""The pipeline as library functions: train a recipe, score its checkpoints, write the report.

data -> training -> checkpoints -> bench -> store -> report, each stage reading what the one before wrote.
`spin-bench train`, `run` and `ablate` are thin wrappers over :func:`train`, :func:`run_pipeline` and
:func:`run_ablation`; ``echo`` receives the one-line summaries a terminal shows between stages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from spin_bench.core.errors import UserError
from spin_bench.core.paths import default_run_dir
from spin_bench.core.run_layout import RunLayout, RunSummary
from spin_bench.recipe import Recipe

Echo = Callable[[str], None]


@dataclass(frozen=True)
class PipelineResult:
    run_dir: Path
    summary: RunSummary
    report: Path | None  # None when the recipe's bench section is off, or on a non-main rank


def run_directory(recipe: Recipe, out: Path | None) -> Path:
    """The run directory, checked before any work: it may exist only as a directory."""
    run_dir = out or default_run_dir(recipe.name)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"{run_dir}: exists and is not a directory; choose another --out")
    return run_dir


def train(recipe: Recipe, out: Path | None = None, echo: Echo = print) -> RunSummary:
    """Every training stage of the recipe, resumable; the resolved recipe is saved beside the run."""
    from spin_bench.core.typed_config import dump_yaml
    from spin_bench.inference.distributed import is_main_process
    from training.driver import run_recipe, summary_table

    run_dir = run_directory(recipe, out)
    summary = run_recipe(recipe.train, run_dir, config_text=dump_yaml(recipe))
    if is_main_process():
        echo(summary_table(summary, run_dir))
        seconds = summary.seconds
        echo(f"SFT model ready in {seconds.get('sft_model', 0):.1f} s, held-out monitor "
             f"{seconds.get('monitor', 0):.1f} s")
        echo(f"Run directory: {run_dir}  ({seconds.get('wall', 0):.0f} s)")
    return summary


def run_pipeline(recipe: Recipe, out: Path | None = None, echo: Echo = print) -> PipelineResult:
    """The main job: train, score every checkpoint as the recipe's bench section says, write the report."""
    from spin_bench.inference.distributed import is_main_process

    run_dir = run_directory(recipe, out)
    summary = train(recipe, run_dir, echo)
    if not recipe.bench.enabled or not is_main_process():
        return PipelineResult(run_dir, summary, None)
    score(recipe, run_dir, recipe.bench, echo)
    return PipelineResult(run_dir, summary, write_report(recipe, run_dir, echo))


def run_ablation(recipe: Recipe, study: str, out: Path | None = None, echo: Echo = print) -> Path:
    """One ablation study of the recipe, trained, scored into the results store, and the run's report
    rewritten (its Figures 4 and 5 and loss/beta figure read the study's labels)."""
    from spin_bench.inference.distributed import is_main_process
    from training.ablations import run_study
    from training.config import Study

    run_dir = run_directory(recipe, out)
    summary = run_study(recipe.train, recipe.ablations.studies, Study(study), run_dir)
    study_dir = RunLayout(run_dir).study_dir(study)
    if not is_main_process():
        return study_dir
    echo(f"Study {study}: {len(summary.checkpoints)} checkpoints in {study_dir} "
         f"(training {summary.seconds.get('wall', 0):.0f} s)")
    if recipe.bench.enabled:
        # The studies are scored on the leaderboard suites like the run; MT-Bench is for the main run only.
        bench = replace(recipe.ablation_bench(), mt_bench=replace(recipe.bench.mt_bench, enabled=False))
        score(recipe, study_dir, bench, echo)
        write_report(recipe, run_dir, echo)
    return study_dir


def score(recipe: Recipe, run_dir: Path, bench, echo: Echo = print) -> None:
    """The bench stage on every checkpoint of ``run_dir``."""
    from spin_bench.bench.stage import evaluate_models, summary_table
    from spin_bench.mtbench.stage import summary_lines

    outcome = evaluate_models([str(run_dir)], bench, world_seed=recipe.train.embedded.world_seed)
    if outcome.lm_eval:
        echo(summary_table(outcome.lm_eval))
        echo(f"Benchmarks: {outcome.lm_eval_seconds:.0f} s; scores in {bench.store_url}")
    if outcome.mt_bench:
        echo("\n".join(summary_lines(outcome.mt_bench)))
        echo(f"MT-Bench: {outcome.mt_bench_seconds:.0f} s; scores in {bench.store_url}")


def write_report(recipe: Recipe, run_dir: Path, echo: Echo = print) -> Path:
    from reports.report import build_report
    from spin_bench.store import ResultsStore

    with ResultsStore(recipe.bench.store_url) as store:
        path = build_report(store, run_dir, recipe.name, run_dir / "report.html")
    echo(f"Report: {path}")
    return path
