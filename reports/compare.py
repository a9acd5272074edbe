"""`spin-bench compare A B`: per task, B minus A with its CI and a paired p-value; exit 1 on a regression.

Every task of the paper's suites that both labels were scored on is compared on its paper metric, paired
per document from the per-sample logs (see reports.stats for the tests). Holm's correction runs across
the compared tasks, so a CI gate on many tasks does not fire by chance. Evaluations whose task config,
shots or data differ are listed as not comparable and never diffed: their difference would mix the
model change with the setup change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from reports.metrics import newest_rows, paper_metrics
from reports.provenance import SettingDifference, settings_diff
from reports.samples import load_doc_scores
from reports.stats import (
    BOOTSTRAP,
    Aligned,
    NoSharedDocuments,
    PairedResult,
    align,
    holm,
    paired_difference,
)
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
            seed: int = 0) -> list[TaskComparison]:
    """Compare the newest evaluation of each task under ``b_label`` with that under ``a_label``."""
    return compare_pairs(newest_pairs(store, a_label, b_label), a_label, b_label, alpha, n_boot=n_boot, seed=seed)


def compare_pairs(rows: RowPairs, a_label: str, b_label: str, alpha: float = 0.05, *, n_boot: int = 10_000,
                  seed: int = 0) -> list[TaskComparison]:
    """:func:`compare` on row pairs already read (one comparison per pair, in their order), Holm-adjusted."""
    comparisons = [compare_rows(a_row, b_row, alpha=alpha, n_boot=n_boot, seed=seed) for a_row, b_row in rows.pairs]
    if not comparisons:
        raise UserError(f"labels {a_label!r} and {b_label!r} have no benchmark task in common: nothing to compare")
    return adjust(comparisons, alpha)


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


def adjust(comparisons: Sequence[TaskComparison], alpha: float) -> list[TaskComparison]:
    """Holm-adjust the p-values of all comparable entries together and mark the significant ones.

    A table builder passes every cell it wants to mark (all tasks x iterations) in one call, so that the
    correction covers the whole table.
    """
    tested = [index for index, c in enumerate(comparisons) if c.result is not None]
    adjusted = holm([comparisons[index].result.p_value for index in tested])
    out = list(comparisons)
    for index, p in zip(tested, adjusted, strict=True):
        c = comparisons[index]
        # Every suite metric is higher-is-better, so a significant negative difference is a regression.
        out[index] = replace(c, p_adjusted=p, significant=p < alpha, regressed=p < alpha and c.result.diff < 0)
    return out


# ------------------------------------------------------------------ output


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if value >= 1e-3 else f"{value:.1e}"


def _ci(result: PairedResult) -> str:
    return f"[{result.ci_low:+.4f}, {result.ci_high:+.4f}]"


def _level(alpha: float) -> str:
    return f"{100 * (1 - alpha):g}%"


def _outcome(c: TaskComparison) -> str:
    if c.regressed:
        return "REGRESSED"
    return "improved" if c.significant else ""


def _tests_used(comparisons: Sequence[TaskComparison], n_boot: int) -> str:
    tests = sorted({c.result.test for c in comparisons if c.result is not None})
    named = [f"{t} ({n_boot} resamples)" if t == BOOTSTRAP else t for t in tests]
    return ", ".join(named) or "none"


def _settings(rows: RowPairs | None) -> tuple[SettingDifference, ...]:
    return () if rows is None else settings_diff((a_row["task"], a_row, b_row) for a_row, b_row in rows.pairs)


def _one_sided(rows: RowPairs | None) -> list[tuple[str, str]]:
    """(task, why) for each task scored on one side only: listed, never dropped silently."""
    if rows is None:
        return []
    return [(task, "scored for A only") for task in rows.only_a] + [(task, "scored for B only") for task in rows.only_b]


def format_text(comparisons: Sequence[TaskComparison], a_label: str, b_label: str, alpha: float,
                n_boot: int = 10_000, row_pairs: RowPairs | None = None) -> str:
    """The comparison table; with ``row_pairs`` (what it was compared from) also the settings that differ and the
    tasks scored on one side only."""
    tested = [c for c in comparisons if c.result is not None]
    header = ("task", "metric", "A", "B", "B-A", f"{_level(alpha)} CI", "p", "p (Holm)", "n", "test", "")
    rows = [header] + [
        (c.task, c.metric, f"{c.a_value:.4f}", f"{c.b_value:.4f}", f"{c.result.diff:+.4f}", _ci(c.result),
         _p(c.result.p_value), _p(c.p_adjusted), str(c.result.n), c.result.test, _outcome(c))
        for c in tested
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [f"A = {a_label}, B = {b_label}: paired per document; Holm-adjusted across {len(tested)} task(s), "
             f"alpha {alpha:g}; tests: {_tests_used(comparisons, n_boot)}"]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    for c in tested:
        if c.only_a or c.only_b:
            lines.append(f"note: {c.task}: {c.only_a} document(s) only in A, {c.only_b} only in B (not paired)")
    skipped = [(c.task, c.reason) for c in comparisons if c.result is None] + _one_sided(row_pairs)
    if skipped:
        lines.append("not comparable (not diffed):")
        lines += [f"  {task}: {reason}" for task, reason in skipped]
    if row_pairs is not None:
        differences = _settings(row_pairs)
        lines.append("settings that differ between A's and B's evaluations:" if differences
                     else "settings that differ between A's and B's evaluations: none")
        lines += [f"  {d.setting}: A {d.a}, B {d.b} ({d.where})" for d in differences]
    regressed = [c.task for c in comparisons if c.regressed]
    lines.append(f"regressed significantly: {', '.join(regressed)}" if regressed else "no significant regression")
    return "\n".join(lines)


def format_json(comparisons: Sequence[TaskComparison], a_label: str, b_label: str, alpha: float,
                n_boot: int = 10_000, row_pairs: RowPairs | None = None) -> str:
    return json.dumps(json_document(comparisons, a_label, b_label, alpha, n_boot, row_pairs), indent=2)


def json_document(comparisons: Sequence[TaskComparison], a_label: str, b_label: str, alpha: float,
                  n_boot: int = 10_000, row_pairs: RowPairs | None = None) -> dict[str, Any]:
    tasks = [
        {"task": c.task, "metric": c.metric, "filter": c.filter, "a": c.a_value, "b": c.b_value,
         "diff": c.result.diff, "ci": [c.result.ci_low, c.result.ci_high], "ci_level": 1 - alpha,
         "p": c.result.p_value, "p_adjusted": c.p_adjusted, "test": c.result.test, "n": c.result.n,
         "only_a": c.only_a, "only_b": c.only_b, "significant": c.significant, "regressed": c.regressed,
         "a_evaluation_id": c.a_evaluation_id, "b_evaluation_id": c.b_evaluation_id}
        for c in comparisons if c.result is not None
    ]
    skipped = [{"task": c.task, "metric": c.metric, "filter": c.filter, "reason": c.reason}
               for c in comparisons if c.result is None]
    skipped += [{"task": task, "reason": reason} for task, reason in _one_sided(row_pairs)]
    document = {"a": a_label, "b": b_label, "alpha": alpha, "correction": "holm", "n_boot": n_boot,
                "regressed": any(c.regressed for c in comparisons), "tasks": tasks, "not_comparable": skipped}
    if row_pairs is not None:
        document["settings_differ"] = [vars(d) | {"tasks": list(d.tasks)} for d in _settings(row_pairs)]
    return document


def format_markdown(comparisons: Sequence[TaskComparison], a_label: str, b_label: str, alpha: float,
                    n_boot: int = 10_000, row_pairs: RowPairs | None = None) -> str:
    tested = [c for c in comparisons if c.result is not None]
    lines = [f"| Task | Metric | {a_label} (A) | {b_label} (B) | B − A | {_level(alpha)} CI | p | p (Holm) | n |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|"]
    for c in tested:
        mark = "*" if c.significant else ""
        lines.append(f"| {c.task} | {c.metric} | {c.a_value:.4f} | {c.b_value:.4f} | {c.result.diff:+.4f}{mark} | "
                     f"{_ci(c.result)} | {_p(c.result.p_value)} | {_p(c.p_adjusted)} | {c.result.n} |")
    lines += ["", f"\\* significant at alpha = {alpha:g} after Holm correction across {len(tested)} task(s). "
              f"Paired tests on per-document scores: {_tests_used(comparisons, n_boot)}; "
              f"CIs are paired-bootstrap percentile intervals ({n_boot} resamples), not multiplicity-adjusted."]
    lines += [f"Not comparable: {c.task} ({c.reason})." for c in comparisons if c.result is None]
    lines += [f"Not comparable: {task} ({reason})." for task, reason in _one_sided(row_pairs)]
    if differences := _settings(row_pairs):
        lines += ["", "Settings that differ between A's and B's evaluations:"]
        lines += [f"- {d.setting}: A {d.a}, B {d.b} ({d.where})" for d in differences]
    return "\n".join(lines)


FORMATS = {"text": format_text, "json": format_json, "markdown": format_markdown}
