"""Paired significance tests of many comparisons at once: the one test runner under the report's tables
(reports.table_tests) and its ablation figures (reports.ablation_tests).

A caller plans its comparisons (which score row against which, under a key of its own: a table cell and
its mark, a figure's pair and task), and :func:`run_tests` runs every one with
:func:`reports.compare.compare_rows`, Holm-corrects the tested ones together (so a table's or a figure's
marks survive a correction across all of its tests) and says, with a typed reason, why each of the others
could not be tested. A caller only turns the outcome into its own marks and sentences.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from reports.compare import TaskComparison, adjust, compare_rows
from reports.samples import CorruptSampleLogs, NoSampleLogs
from reports.stats import BOOTSTRAP, NoSharedDocuments

ALPHA = 0.05
K = TypeVar("K", bound=Hashable)


class Untestable(StrEnum):
    """Why a planned comparison was not tested."""

    NO_SAMPLE_LOGS = "no_sample_logs"  # a side has no per-sample log (none recorded, or it is gone)
    CORRUPT_SAMPLE_LOGS = "corrupt_sample_logs"  # a side's log is there but unreadable
    NO_SHARED_DOCUMENTS = "no_shared_documents"  # the two sides scored different documents
    SETUP_DIFFERS = "setup_differs"  # task config, shots or data differ: the difference would not be the model's


# How a report says each reason after "Not tested, " ({detail}: the Untested's detail).
_WHY = {
    Untestable.NO_SAMPLE_LOGS: "no per-sample logs",
    Untestable.CORRUPT_SAMPLE_LOGS: "unreadable per-sample logs ({detail})",
    Untestable.NO_SHARED_DOCUMENTS: "{detail}",  # the message names the task and both document counts
    Untestable.SETUP_DIFFERS: "the evaluation setup differs from the compared stage's ({detail})",
}


@dataclass(frozen=True)
class Untested:
    kind: Untestable
    detail: str  # the error's message; for SETUP_DIFFERS the fields that differ

    @property
    def why(self) -> str:
        """The reason as a report says it after "Not tested, " (untested cells are grouped by it)."""
        return _WHY[self.kind].format(detail=self.detail)


@dataclass(frozen=True)
class PlannedComparison(Generic[K]):
    """B against A on one task: score rows of ``ResultsStore.scores()`` (samples_path, setup fields, ids)."""

    key: K  # the caller's name for this comparison
    a_row: Mapping[str, Any]  # what B is compared with (the baseline)
    b_row: Mapping[str, Any]


@dataclass(frozen=True)
class SignificanceOutcome(Generic[K]):
    """The tested comparisons (Holm-adjusted together) and the untested ones with their reasons, in plan order."""

    tested: tuple[tuple[K, TaskComparison], ...]
    untested: tuple[tuple[K, Untested], ...]
    alpha: float
    n_boot: int

    def tests_used(self) -> list[str]:
        return sorted({comparison.result.test for _, comparison in self.tested})

    def untested_by_reason(self) -> dict[str, list[K]]:
        """Reason -> the keys not tested for it, reasons in the order they first occur."""
        grouped: dict[str, list[K]] = {}
        for key, untested in self.untested:
            grouped.setdefault(untested.why, []).append(key)
        return grouped

    def method(self) -> str:
        """The tests as a footnote names them."""
        return (f"{', '.join(self.tests_used())}; McNemar for 0/1 scores, {BOOTSTRAP} with {self.n_boot} resamples "
                "otherwise")


def try_comparison(a_row: Mapping[str, Any], b_row: Mapping[str, Any], *, alpha: float, n_boot: int,
             seed: int = 0) -> TaskComparison | Untested:
    """One comparison, unadjusted, or why it cannot be made. Any other error is a bug and propagates."""
    try:
        comparison = compare_rows(a_row, b_row, alpha=alpha, n_boot=n_boot, seed=seed)
    except NoSampleLogs as err:
        return Untested(Untestable.NO_SAMPLE_LOGS, str(err))
    except CorruptSampleLogs as err:
        return Untested(Untestable.CORRUPT_SAMPLE_LOGS, str(err))
    except NoSharedDocuments as err:
        return Untested(Untestable.NO_SHARED_DOCUMENTS, str(err))
    if comparison.result is None:
        return Untested(Untestable.SETUP_DIFFERS, ", ".join(comparison.setup_differences))
    return comparison


def run_tests(planned: Iterable[PlannedComparison[K]], *, alpha: float = ALPHA, n_boot: int = 10_000,
              seed: int = 0) -> SignificanceOutcome[K]:
    """Every planned comparison, Holm's correction across all that could be tested."""
    tested: list[tuple[K, TaskComparison]] = []
    untested: list[tuple[K, Untested]] = []
    for plan in planned:
        outcome = try_comparison(plan.a_row, plan.b_row, alpha=alpha, n_boot=n_boot, seed=seed)
        if isinstance(outcome, Untested):
            untested.append((plan.key, outcome))
        else:
            tested.append((plan.key, outcome))
    adjusted = adjust([comparison for _, comparison in tested], alpha) if tested else []
    return SignificanceOutcome(tuple((key, c) for (key, _), c in zip(tested, adjusted, strict=True)), tuple(untested),
                       alpha, n_boot)
