"""`spin-bench compare A B`: per task, B minus A with its CI and a paired p-value; exit 1 on a regression.

Every task of the paper's suites that both labels were scored on is compared on its paper metric, paired
per document from the per-sample logs (see reports.stats for the tests), and so is the Open LLM
Leaderboard Average (the mean of the six LEADERBOARD_AVERAGE tasks' scores) when all six are comparable,
by a bootstrap stratified by task over the very same pairs. Holm's correction runs across the compared
tasks and the Average, so a CI gate on many tasks does not fire by chance. Each row also says the smallest
difference its test could have detected (MDE). Evaluations whose task config, shots or data differ are
listed as not comparable and never diffed: their difference would mix the model change with the setup
change. reports.compare_format prints the result as text, JSON or markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from reports.metrics import newest_rows, paper_metrics
from reports.samples import load_doc_scores
from reports.stats import (
    Aligned,
    NoSharedDocuments,
    PairedResult,
    align,
    holm,
    paired_difference,
    stratified_difference,
)
from reports.table_model import AVERAGE
from spin_bench.bench.suites import LEADERBOARD_AVERAGE
from spin_bench.core.errors import UserError

if TYPE_CHECKING:
    # Only for hints: importing the store takes a second.
    import pandas as pd

    from spin_bench.store import ResultsStore

# Score fields that must agree for a difference to mean "the model changed" and nothing else.
_SETUP_FIELDS = ("task_config_hash", "n_shot", "data_source")
_SHOWN_LABELS = 8


@dataclass(frozen=True)
class TaskComparison:
    """B minus A on one task. ``reason`` is set (and ``result`` is None) when the two are not comparable."""

    task: str
    metric: str
    filter: str
    a_evaluation_id: int
    b_evaluation_id: int
    result: PairedResult | None = None
    a_value: float | None = None  # mean over the paired documents
    b_value: float | None = None
    only_a: int = 0  # documents scored for one model only (not paired, not counted)
    only_b: int = 0
    p_adjusted: float | None = None  # Holm-adjusted; set by adjust()
    significant: bool = False  # p_adjusted < alpha
    regressed: bool = False  # significant and B is worse
    reason: str | None = None
    setup_differences: tuple[str, ...] = ()  # the _SETUP_FIELDS that differ, when that is the reason
    # The per-document pairs the test ran on (doc keys, A's and B's scores): reports.flips reads its
    # right/wrong flips from exactly these, so its counts are McNemar's discordant pairs by construction.
    pairs: Aligned | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class AverageComparison:
    """B minus A on the Leaderboard Average, the mean of the LEADERBOARD_AVERAGE tasks' paired-document means.

    Tested only when every one of those tasks was compared; otherwise ``reason`` says, in one line, why not.
    """

    tasks: tuple[str, ...] = LEADERBOARD_AVERAGE
    result: PairedResult | None = None
    a_value: float | None = None  # the mean of the tasks' a_value (unrounded, the rows' units)
    b_value: float | None = None
    p_adjusted: float | None = None  # Holm-adjusted with the task rows; set by adjust()
    significant: bool = False
    regressed: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class LabelComparison:
    """Every compared task and the Leaderboard Average, Holm-adjusted as one family."""

    tasks: tuple[TaskComparison, ...]
    average: AverageComparison

    def tested(self) -> list[TaskComparison]:
        return [c for c in self.tasks if c.result is not None]

    @property
    def family(self) -> int:
        """How many hypotheses Holm's correction covered: the tested tasks, and the Average when tested."""
        return len(self.tested()) + (self.average.result is not None)

    @property
    def regressed(self) -> list[str]:
        """The rows that regressed significantly: task names, and AVERAGE."""
        return [c.task for c in self.tasks if c.regressed] + ([AVERAGE] if self.average.regressed else [])


@dataclass(frozen=True)
class RowPairs:
    """The newest score row of each paper task under two labels: the pairs both have, and the tasks one lacks."""

    pairs: tuple[tuple[Mapping[str, Any], Mapping[str, Any]], ...]  # (A's row, B's row), in suite order
    only_a: tuple[str, ...] = ()  # tasks scored under A only: listed as not compared, never dropped silently
    only_b: tuple[str, ...] = ()


def newest_pairs(store: ResultsStore, a_label: str, b_label: str) -> RowPairs:
    """A's and B's newest score row of every paper task (``ResultsStore.scores()`` records)."""
    _check_labels(store, a_label, b_label)
    return row_pairs(store.scores(labels=[a_label, b_label]), a_label, b_label)


def row_pairs(scores: pd.DataFrame, a_label: str, b_label: str) -> RowPairs:
    """:func:`newest_pairs` from a scores frame already read (a report reads the store once)."""
    a_rows, b_rows = newest_rows(scores, a_label), newest_rows(scores, b_label)
    keys = paper_metrics()
    return RowPairs(tuple((a_rows[key], b_rows[key]) for key in keys if key in a_rows and key in b_rows),
                    tuple(key[0] for key in keys if key in a_rows and key not in b_rows),
                    tuple(key[0] for key in keys if key in b_rows and key not in a_rows))


def compare(store: ResultsStore, a_label: str, b_label: str, alpha: float = 0.05, *, n_boot: int = 10_000,
            seed: int = 0) -> LabelComparison:
    """Compare the newest evaluation of each task under ``b_label`` with that under ``a_label``."""
    return compare_pairs(newest_pairs(store, a_label, b_label), a_label, b_label, alpha, n_boot=n_boot, seed=seed)


def compare_pairs(rows: RowPairs, a_label: str, b_label: str, alpha: float = 0.05, *, n_boot: int = 10_000,
                  seed: int = 0) -> LabelComparison:
    """:func:`compare` on row pairs already read (one comparison per pair, in their order) and the Average,
    Holm-adjusted together."""
    comparisons = [compare_rows(a_row, b_row, alpha=alpha, n_boot=n_boot, seed=seed) for a_row, b_row in rows.pairs]
    if not comparisons:
        raise UserError(f"labels {a_label!r} and {b_label!r} have no benchmark task in common: nothing to compare")
    average = average_comparison(comparisons, rows, alpha=alpha, n_boot=n_boot, seed=seed)
    # The Average joins the task rows' Holm family as one more hypothesis. Everything this command flags,
    # and the exit-1 gate fires on, is one family of claims, so the chance of any false flag must stay below
    # alpha. Holm holds under any dependence, so that the Average is built from the very tasks it is tested
    # beside costs no validity, and little power: its p is multiplied by at most m + 1, and pooling six tasks
    # usually makes it the smallest p. Testing it apart at full alpha (a "primary endpoint") would let the
    # table's family-wise error reach 2 alpha; a gatekeeping order (tasks tested only once the Average is
    # significant) would hide a regression on one task from the gate.
    *tasks, average = adjust([*comparisons, average], alpha)
    return LabelComparison(tuple(tasks), average)


def average_comparison(comparisons: Sequence[TaskComparison], rows: RowPairs | None = None, *, alpha: float = 0.05,
                       n_boot: int = 10_000, seed: int = 0) -> AverageComparison:
    """The Leaderboard Average of B minus A, tested on the per-document pairs of the task comparisons
    (unadjusted), or why it cannot be: tasks not scored for both labels, or not comparable."""
    by_task = {c.task: c for c in comparisons}
    missing: dict[str, list[str]] = {}  # why -> the tasks missing for it, in suite order
    for task in LEADERBOARD_AVERAGE:
        if why := _why_missing(task, by_task.get(task), rows):
            missing.setdefault(why, []).append(task)
    if missing:
        reasons = "; ".join(f"{why}: {', '.join(tasks)}" for why, tasks in missing.items())
        return AverageComparison(reason=f"needs all {len(LEADERBOARD_AVERAGE)} leaderboard tasks compared ({reasons})")
    chosen = [by_task[task] for task in LEADERBOARD_AVERAGE]
    result = stratified_difference([(c.pairs.a, c.pairs.b) for c in chosen], n_boot=n_boot, seed=seed, alpha=alpha)
    return AverageComparison(result=result, a_value=sum(c.a_value for c in chosen) / len(chosen),
                             b_value=sum(c.b_value for c in chosen) / len(chosen))


def _why_missing(task: str, comparison: TaskComparison | None, rows: RowPairs | None) -> str | None:
    if comparison is not None:
        return None if comparison.pairs is not None else "not comparable"
    if rows is not None and task in rows.only_a:
        return "scored for A only"
    if rows is not None and task in rows.only_b:
        return "scored for B only"
    return "scored for neither"


def _check_labels(store: ResultsStore, *labels: str) -> None:
    known = store.evaluations()["label"].drop_duplicates().tolist()
    for label in labels:
        if label not in known:
            shown = ", ".join(sorted(known)[:_SHOWN_LABELS]) or "none: the store is empty"
            more = f" and {len(known) - _SHOWN_LABELS} more" if len(known) > _SHOWN_LABELS else ""
            raise UserError(
                f"no evaluations labelled {label!r} in results store {store.url}; known labels: {shown}{more}"
            )


def setup_differences(a_row: Mapping[str, Any], b_row: Mapping[str, Any]) -> tuple[str, ...]:
    """The setup fields (task config, shots, data) in which two score rows of one task differ."""
    return tuple(name for name in _SETUP_FIELDS if a_row[name] != b_row[name])


def incomparability(a_row: Mapping[str, Any], b_row: Mapping[str, Any]) -> str | None:
    """Why two score rows of one task must not be diffed, or None if only the model differs."""
    reasons = [f"{name} differs (A {a_row[name]!r}, B {b_row[name]!r})" for name in setup_differences(a_row, b_row)]
    return "; ".join(reasons) or None


def compare_rows(a_row: Mapping[str, Any], b_row: Mapping[str, Any], *, alpha: float = 0.05,
                 n_boot: int = 10_000, seed: int = 0) -> TaskComparison:
    """One task, unadjusted: rows are ``ResultsStore.scores()`` records (samples_path, setup fields, ids).

    A relative samples_path (a row stored before paths were recorded absolute) is read from the working
    directory. A setup difference is returned (``result`` None, ``setup_differences`` set), not raised.

    Raises:
        reports.samples.NoSampleLogs, reports.samples.CorruptSampleLogs: a side's per-sample logs.
        NoSharedDocuments: the two sides scored no document in common.
    """
    base = TaskComparison(task=a_row["task"], metric=a_row["metric"], filter=a_row["filter"],
                          a_evaluation_id=int(a_row["evaluation_id"]), b_evaluation_id=int(b_row["evaluation_id"]))
    if differing := setup_differences(a_row, b_row):
        return replace(base, reason=incomparability(a_row, b_row), setup_differences=differing)
    a_docs = load_doc_scores(a_row["samples_path"], base.task, base.metric, base.filter)
    b_docs = load_doc_scores(b_row["samples_path"], base.task, base.metric, base.filter)
    try:
        pairs = align(a_docs, b_docs)
    except NoSharedDocuments as err:
        raise NoSharedDocuments(f"task {base.task!r}: {err}") from None
    result = paired_difference(pairs.a, pairs.b, n_boot=n_boot, seed=seed, alpha=alpha)
    return replace(base, result=result, a_value=float(pairs.a.mean()), b_value=float(pairs.b.mean()),
                   only_a=pairs.only_a, only_b=pairs.only_b, pairs=pairs)


def adjust(comparisons: Sequence[TaskComparison | AverageComparison], alpha: float) -> list:
    """Holm-adjust the p-values of all comparable entries together and mark the significant ones.

    A table builder passes every cell it wants to mark (all tasks x iterations) in one call, so that the
    correction covers the whole table; :func:`compare_pairs` passes the Average with its tasks.
    """
    tested = [index for index, c in enumerate(comparisons) if c.result is not None]
    adjusted = holm([comparisons[index].result.p_value for index in tested])
    out = list(comparisons)
    for index, p in zip(tested, adjusted, strict=True):
        c = comparisons[index]
        # Every suite metric is higher-is-better, so a significant negative difference is a regression.
        out[index] = replace(c, p_adjusted=p, significant=p < alpha, regressed=p < alpha and c.result.diff < 0)
    return out
