"""MT-Bench as part of the bench stage: which models a section judges, checked before any work, then run.

:func:`prepare_mt_bench` reads the questions and resolves the judge (a bad data directory, a missing judge
or an unknown local model fails here, before lm-eval spends any time); :func:`run_mt_bench` answers and
judges. The bench stage (spin_bench.bench.stage) calls both.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spin_bench.core.enums import Backend, Precision
from spin_bench.core.paths import cache_root
from spin_bench.inference.models import ModelRef
from spin_bench.inference.prompts import check_template
from spin_bench.mtbench.answers import AnswerSettings
from spin_bench.mtbench.config import MTBenchConfig
from spin_bench.mtbench.data import DataRequest, open_mt_bench
from spin_bench.mtbench.dataset import MTBenchData
from spin_bench.mtbench.judge import JudgeSettings
from spin_bench.mtbench.judges import JudgeStarter, judge_for
from spin_bench.store import ResultsStore
from spin_bench.store.cache import SuiteOutcome

if TYPE_CHECKING:
    from spin_bench.mtbench.pairwise import PairwisePlan


@dataclass(frozen=True)
class MTBenchPlan:
    models: list[ModelRef]
    data: MTBenchData
    answers: AnswerSettings
    judge: JudgeSettings
    start_judge: JudgeStarter
    pairwise: PairwisePlan | None = None  # the pairs judged against a baseline, when the section asks


def selected(models: Sequence[ModelRef], config: MTBenchConfig) -> list[ModelRef]:
    """The models to judge: a run's checkpoints whose names match ``config.checkpoints``; any model given
    on its own is always judged."""
    return [m for m in models if "checkpoint" not in m.extra
            or any(fnmatch.fnmatchcase(m.extra["checkpoint"], pattern) for pattern in config.checkpoints)]


def prepare_mt_bench(models: Sequence[ModelRef], config: MTBenchConfig, *, backend: Backend = Backend.HF,
                     precision: Precision = Precision.AUTO, tensor_parallel_size: int = 1,
                     world_seed: int = 0) -> MTBenchPlan:
    """The models, questions, answer settings and judge of one MT-Bench evaluation, all checked."""
    check_template(config.template)  # no fschat, or an unknown FastChat template: fail before lm-eval runs
    data = open_mt_bench(DataRequest(config.data, world_seed)).subset(config.questions_per_category)
    answers = AnswerSettings(backend=backend, max_new_tokens=config.max_new_tokens, batch_size=config.batch_size,
                             precision=precision, template=config.template, tensor_parallel_size=tensor_parallel_size)
    judge, start = judge_for(config)
    pairwise = None
    if config.pairwise is not None:  # a missing baseline or unreadable prompts fail here, before any model work
        from spin_bench.mtbench.pairwise import PairwisePlan, pair_prompts, plan_pairs

        pairwise = PairwisePlan(plan_pairs(models, config.pairwise), pair_prompts(config.data), config.pairwise)
    return MTBenchPlan(models=selected(models, config), data=data, answers=answers, judge=judge, start_judge=start,
                       pairwise=pairwise)


def run_mt_bench(plan: MTBenchPlan, store: ResultsStore, out_root: Path, force: bool = False) -> list[SuiteOutcome]:
    """Single grading of the plan's models, then its pairwise games; one judge serves both."""
    from spin_bench.mtbench.evaluate import evaluate_mt_bench
    from spin_bench.mtbench.judges import judge_session

    with judge_session(plan.start_judge) as start:
        outcomes = evaluate_mt_bench(plan.models, plan.data, plan.answers, plan.judge, start, store, out_root,
                                     cache_root(), force)
        if plan.pairwise is not None:
            from spin_bench.mtbench.pairwise import evaluate_pairwise

            outcomes += evaluate_pairwise(plan.pairwise, plan.data, plan.answers, plan.judge, start, store, out_root,
                                          cache_root(), force)
    return outcomes


def summary_lines(outcomes: Sequence[SuiteOutcome]) -> list[str]:
    """Label, overall, turn 1, turn 2, failed: one line per model; then the pairwise win rates, if any."""
    from spin_bench.mtbench.pairwise_results import TASK as PAIRWISE
    from spin_bench.mtbench.pairwise_results import pairwise_summary_lines

    pairwise = [o for o in outcomes if any(s.task == PAIRWISE for s in o.scores)]
    outcomes = [o for o in outcomes if o not in pairwise]
    lines = [f"{'model':<28} {'MT-Bench':>9} {'turn 1':>7} {'turn 2':>7} {'failed':>7}"]
    for outcome in outcomes:
        got = {(s.task, s.metric): s for s in outcome.scores}

        def cell(task: str, metric: str = "score", spec: str = ".2f") -> str:
            score = got.get((task, metric))
            return "-" if score is None or score.value != score.value else format(score.value, spec)

        lines.append(f"{outcome.model.label:<28} {cell('mt_bench'):>9} {cell('mt_bench_turn1'):>7} "
                     f"{cell('mt_bench_turn2'):>7} {cell('mt_bench', 'failed', '.0f'):>7}"
                     + ("  (cached)" if outcome.cached else ""))
    notes = sorted({d for o in outcomes for s in o.scores if s.task == "mt_bench" for d in s.deviations})
    lines.extend(f"  - {text}" for text in notes)
    return lines + pairwise_summary_lines(pairwise)
