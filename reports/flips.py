"""Per-item flips between two evaluations: the documents A got right and B wrong, and the other way round.

A paired test says whether B differs from A; the flips say on which items. They are read from the very
per-document pairs the test ran on (``TaskComparison.pairs``, built by reports.compare.compare_rows from
reports.samples), so on a 0/1 metric the two counts are McNemar's discordant pairs by construction, and the
flipped items' text is read back from the same sample lines (reports.samples.load_doc_rows) by the same key.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reports.compare import RowPairs, TaskComparison
from reports.mt_bench_moves import MOVED, MtBenchMoves, mt_bench_moves, newest_mt_bench
from reports.provenance import SettingDifference, settings_diff
from reports.sample_text import describe
from reports.samples import DocKey, load_doc_rows
from reports.stats import MCNEMAR, Aligned

if TYPE_CHECKING:
    from spin_bench.store import ResultsStore

# Flipped items whose text is read per direction and task when no limit is given to the CLI.
DEFAULT_SHOWN = 10


@dataclass(frozen=True)
class FlippedItem:
    """One flipped document: its prompt and gold answer, and each model's answer (chosen option or generation)."""

    doc: str  # "12", or "anatomy/12" for an MMLU subject
    prompt: str
    gold: str
    a_answer: str
    b_answer: str


@dataclass(frozen=True)
class TaskFlips:
    """One task's flips beside its paired test. ``reason`` says why there are none to list (not a 0/1 metric,
    or not comparable); the counts always cover every flip, ``*_shown`` only the items whose text is read."""

    task: str
    metric: str
    filter: str
    comparison: TaskComparison
    right_to_wrong: tuple[DocKey, ...] = ()  # A right, B wrong
    wrong_to_right: tuple[DocKey, ...] = ()  # A wrong, B right
    right_to_wrong_shown: tuple[FlippedItem, ...] = ()
    wrong_to_right_shown: tuple[FlippedItem, ...] = ()
    reason: str | None = None

    @property
    def listed(self) -> bool:
        return self.reason is None


def discordant(pairs: Aligned) -> tuple[list[Hashable], list[Hashable]]:
    """(keys right in A and wrong in B, keys wrong in A and right in B), in the pairs' document order."""
    right_to_wrong = [key for key, a, b in zip(pairs.keys, pairs.a, pairs.b, strict=True) if a == 1 and b == 0]
    wrong_to_right = [key for key, a, b in zip(pairs.keys, pairs.a, pairs.b, strict=True) if a == 0 and b == 1]
    return right_to_wrong, wrong_to_right


def task_flips(comparison: TaskComparison, a_row: Mapping[str, Any], b_row: Mapping[str, Any],
               shown: int | None = DEFAULT_SHOWN) -> TaskFlips:
    """The flips of one compared task, the text of the first ``shown`` in each direction (None: all).

    ``a_row``/``b_row`` are the score rows the comparison was made from (their samples_path is read).
    """
    base = TaskFlips(comparison.task, comparison.metric, comparison.filter, comparison)
    if comparison.result is None or comparison.pairs is None:
        return replace(base, reason=f"not compared: {comparison.reason or 'no paired documents'}")
    if comparison.result.test != MCNEMAR:
        return replace(base, reason=f"per-document {comparison.metric} is not 0/1 ({comparison.result.test}): "
                       "no right/wrong flips")
    lost, gained = discordant(comparison.pairs)
    limit = None if shown is None else max(shown, 0)
    lost_shown, gained_shown = lost[:limit], gained[:limit]
    texts = _items(comparison, a_row, b_row, [*lost_shown, *gained_shown])
    return TaskFlips(comparison.task, comparison.metric, comparison.filter, comparison, tuple(lost), tuple(gained),
                     tuple(texts[key] for key in lost_shown), tuple(texts[key] for key in gained_shown))


def _items(comparison: TaskComparison, a_row: Mapping[str, Any], b_row: Mapping[str, Any],
           keys: Sequence[DocKey]) -> dict[DocKey, FlippedItem]:
    if not keys:
        return {}
    task, metric, filter_ = comparison.task, comparison.metric, comparison.filter
    a_lines = load_doc_rows(a_row["samples_path"], task, filter_, keys)
    b_lines = load_doc_rows(b_row["samples_path"], task, filter_, keys)
    items = {}
    for key in keys:
        a_text, b_text = describe(a_lines[key], metric), describe(b_lines[key], metric)
        # The gold answer from the side that got it right: its pick is the gold choice where the target
        # is not an index (Winogrande), and both sides show the same document otherwise.
        right = a_text if float(a_lines[key].get(metric, 0)) == 1.0 else b_text
        items[key] = FlippedItem(_doc_name(key), a_text.prompt, right.gold, a_text.answer, b_text.answer)
    return items


def _doc_name(key: DocKey) -> str:
    """doc_id, with the MMLU subject in front (the doc hash is left out: it only makes the key unique)."""
    return "/".join(str(part) for part in key[:-1])


@dataclass(frozen=True)
class LabelFlips:
    """Everything `compare --flips` shows for one A -> B: each task's flips, and MT-Bench's most-moved
    questions (or why there are none) with the judge settings in which the two MT-Bench evaluations differ."""

    a_label: str
    b_label: str
    tasks: tuple[TaskFlips, ...]
    moves: MtBenchMoves | None
    mt_bench_note: str | None
    mt_bench_differences: tuple[SettingDifference, ...] = ()


def label_flips(store: ResultsStore, a_label: str, b_label: str, comparisons: Sequence[TaskComparison],
                rows: RowPairs, shown: int | None = DEFAULT_SHOWN, moved: int = MOVED) -> LabelFlips:
    """Flips of ``comparisons`` (made from ``rows``, in order) and MT-Bench's ``moved`` most-moved questions."""
    tasks = tuple(task_flips(c, a_row, b_row, shown) for c, (a_row, b_row) in zip(comparisons, rows.pairs, strict=True))
    evaluations = store.evaluations()
    a_eval, b_eval = newest_mt_bench(evaluations, a_label), newest_mt_bench(evaluations, b_label)
    if a_eval is None or b_eval is None:
        missing = [label for label, row in ((a_label, a_eval), (b_label, b_eval)) if row is None]
        return LabelFlips(a_label, b_label, tasks, None, f"no MT-Bench evaluation of {', '.join(missing)}")
    moves = mt_bench_moves(a_eval["results_path"], b_eval["results_path"], moved)
    return LabelFlips(a_label, b_label, tasks, moves, None, settings_diff([("mt_bench", a_eval, b_eval)]))
