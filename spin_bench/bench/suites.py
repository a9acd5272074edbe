"""The paper's benchmark suites as data (Table 1 and Table 6 of Chen et al., 2024).

Each task names lm-eval's own YAML that spin-bench includes (never copies), the shots the paper used, the
metric the paper reports, and where its data sits in a pulled or embedded data directory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from spin_bench.core.errors import UserError


@dataclass(frozen=True)
class TaskSpec:
    name: str  # spin-bench's task name (also the store's); lm-eval sees it as "spin_<name>"
    lm_eval_yaml: str  # path inside lm_eval/tasks of the YAML this task includes
    shots: int
    metric: str  # the paper's metric, as lm-eval names it
    filter: str  # lm-eval filter of that metric
    data_dir: str  # folder of the task inside a data directory
    eval_split: str
    fewshot_splits: tuple[str, ...]  # the first that exists in the data directory supplies the shots
    column: str  # the paper's column heading
    schema: str = ""  # kind in spin_bench.data.schemas


LEADERBOARD = (
    TaskSpec("arc_challenge", "arc/arc_challenge.yaml", 25, "acc_norm", "none", "arc_challenge", "test",
             ("train", "validation"), "ARC", "arc"),
    TaskSpec("truthfulqa_mc2", "truthfulqa/truthfulqa_mc2.yaml", 0, "acc", "none", "truthfulqa", "validation",
             (), "TruthfulQA", "truthfulqa"),
    TaskSpec("winogrande", "winogrande/default.yaml", 5, "acc", "none", "winogrande", "validation",
             ("train", "validation"), "Winogrande", "winogrande"),
    # The paper's harness (lm-eval v0.4.0) GSM8K: the Table 4 column. Today's variant is stored beside it.
    TaskSpec("gsm8k_v040", "gsm8k/gsm8k.yaml", 5, "exact_match", "get-answer", "gsm8k", "test",
             ("train", "fewshot"), "GSM8k", "gsm8k"),
    TaskSpec("gsm8k", "gsm8k/gsm8k.yaml", 5, "exact_match", "strict-match", "gsm8k", "test",
             ("train", "fewshot"), "GSM8k (lm-eval 0.4.13)", "gsm8k"),
    TaskSpec("hellaswag", "hellaswag/hellaswag.yaml", 10, "acc_norm", "none", "hellaswag", "validation",
             ("train", "validation"), "HellaSwag", "hellaswag"),
    TaskSpec("mmlu", "mmlu/default/_default_template_yaml", 5, "acc", "none", "mmlu", "test", ("dev",),
             "MMLU", "mmlu"),
)
BBH = tuple(
    TaskSpec(f"bbh_{task}", f"bbh/cot_fewshot/{task}.yaml", 3, "exact_match", "get-answer", f"bbh/{task}", "test",
             (), column, "bbh")
    for task, column in (("causal_judgement", "BB-causal"), ("formal_fallacies", "BB-formal"),
                         ("sports_understanding", "BB-sports"))
)
OPENBOOKQA = (
    TaskSpec("openbookqa", "openbookqa/openbookqa.yaml", 1, "acc_norm", "none", "openbookqa", "test",
             ("train", "validation"), "OpenBookQA", "openbookqa"),
)

SUITES: dict[str, tuple[TaskSpec, ...]] = {"leaderboard": LEADERBOARD, "bbh": BBH, "openbookqa": OPENBOOKQA}
# The six columns whose plain mean is the Open LLM Leaderboard v1 average (paper Table 4).
LEADERBOARD_AVERAGE = ("arc_challenge", "truthfulqa_mc2", "winogrande", "gsm8k_v040", "hellaswag", "mmlu")


def paper_average(percentages: Mapping[str, float | Decimal | None]) -> Decimal | None:
    """The paper's Average of one model: the mean of the six LEADERBOARD_AVERAGE scores as printed.

    Args:
        percentages: task name -> score in percent (unrounded); other tasks are ignored.

    Returns:
        The mean of the six values printed with 2 decimals, itself rounded to 2 decimals; None when any of
        the six is missing or NaN (a mean over fewer tasks is not the paper's Average).

    A reader checking a printed row averages the printed values, so this does too. Exact ties at the third
    decimal (one mean in six) are rounded as the nearest binary double rounds: the paper prints 63.165 as
    63.16 (Table 4) but 57.225 as 57.23 (Table 5), and only that rule gives both (round-half-up and
    round-half-even each miss one).
    """
    values = [percentages.get(task) for task in LEADERBOARD_AVERAGE]
    if any(value is None or math.isnan(float(value)) for value in values):
        return None
    printed = [Decimal(format(float(value), ".2f")) for value in values]
    exact = sum(printed, Decimal(0)) / len(printed)
    return Decimal(format(float(exact), ".2f"))


def resolve_suites(names: str) -> dict[str, tuple[TaskSpec, ...]]:
    """"leaderboard,bbh" -> those suites; "all" -> every suite. Unknown names are a one-line error."""
    requested = [n.strip() for n in names.split(",") if n.strip()]
    if requested == ["all"]:
        return dict(SUITES)
    unknown = [n for n in requested if n not in SUITES]
    if unknown or not requested:
        raise UserError(f"unknown suite {unknown[0] if unknown else names!r}: choose from {', '.join(SUITES)} or all")
    return {name: SUITES[name] for name in requested}


def select_tasks(suites: dict[str, tuple[TaskSpec, ...]], tasks: str | None) -> dict[str, tuple[TaskSpec, ...]]:
    """Keep only the named tasks (``--tasks arc_challenge,mmlu``); an unknown task is an error."""
    if not tasks:
        return suites
    wanted = {t.strip() for t in tasks.split(",") if t.strip()}
    known = {spec.name for specs in suites.values() for spec in specs}
    if unknown := sorted(wanted - known):
        raise UserError(f"unknown task {unknown[0]!r} in the chosen suites: choose from {', '.join(sorted(known))}")
    chosen = {name: tuple(s for s in specs if s.name in wanted) for name, specs in suites.items()}
    return {name: specs for name, specs in chosen.items() if specs}
