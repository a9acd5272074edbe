"""`spin-bench compare --baseline LABEL OTHER...`: every checkpoint against one baseline, task by task, in one
table with Holm's correction across the whole table.

Each OTHER is paired with the baseline per task exactly as the two-label form pairs A and B
(reports.compare.newest_pairs, then reports.significance.run_tests, the one planner), so the table is the
two-label comparison repeated, corrected once for all its cells. Nothing is dropped silently: a pair that
cannot be tested (no per-sample logs, a different setup, no shared documents) and a task scored on one
side only are listed with the reason, and the settings in which each OTHER's evaluations differ from the
baseline's come with the table (reports.provenance.settings_diff). Each OTHER also gets the Leaderboard
Average row of the two-label form (reports.compare.average_comparison), in the same Holm family as the cells.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reports.compare import (
    AverageComparison,
    RowPairs,
    TaskComparison,
    adjust,
    average_comparison,
    newest_pairs,
)
from reports.compare_format import mde_note
from reports.provenance import SettingDifference, settings_diff
from reports.significance import PlannedComparison, SignificanceOutcome, run_tests
from reports.stats import STRATIFIED_BOOTSTRAP
from reports.table_model import AVERAGE
from spin_bench.core.errors import UserError

if TYPE_CHECKING:
    from spin_bench.store import ResultsStore

Cell = tuple[str, str]  # (label, task)


@dataclass(frozen=True)
class BaselineTable:
    baseline: str
    labels: tuple[str, ...]  # the OTHERs, in the order given
    outcome: SignificanceOutcome[Cell]  # every tested cell, Holm-adjusted together
    rows: Mapping[str, RowPairs]  # label -> its row pairs with the baseline (for flips and the settings diff)
    differences: Mapping[str, tuple[SettingDifference, ...]]  # label -> settings that differ from the baseline
    averages: Mapping[str, AverageComparison]  # label -> its Average row (or why there is none), same Holm family

    @property
    def regressed(self) -> list[Cell]:
        return ([key for key, c in self.outcome.tested if c.regressed]
                + [(label, AVERAGE) for label in self.labels if self.averages[label].regressed])

    @property
    def family(self) -> int:
        """How many hypotheses Holm's correction covered: the tested cells and the tested Averages."""
        return len(self.outcome.tested) + sum(a.result is not None for a in self.averages.values())

    def tested(self, label: str) -> list[TaskComparison]:
        return [c for (name, _), c in self.outcome.tested if name == label]

    def one_sided(self) -> list[tuple[str, str, str]]:
        """(label, task, which side has it) for every task scored on one side only."""
        out = []
        for label in self.labels:
            out += [(label, task, "baseline only") for task in self.rows[label].only_a]
            out += [(label, task, f"{label} only") for task in self.rows[label].only_b]
        return out


def compare_to_baseline(store: ResultsStore, baseline: str, labels: Sequence[str], alpha: float = 0.05, *,
                        n_boot: int = 10_000, seed: int = 0) -> BaselineTable:
    """Each of ``labels`` against ``baseline`` on every paper task both were scored on."""
    if not labels:
        raise UserError("--baseline needs at least one label to compare with it")
    if duplicated := sorted({label for label in labels if list(labels).count(label) > 1 or label == baseline}):
        raise UserError(f"label {duplicated[0]!r} is given twice (or is the baseline itself): compare each once")
    rows = {label: newest_pairs(store, baseline, label) for label in labels}
    planned = [PlannedComparison((label, a_row["task"]), a_row, b_row)
               for label in labels for a_row, b_row in rows[label].pairs]
    if not planned:
        raise UserError(f"no label shares a benchmark task with baseline {baseline!r}: nothing to compare")
    outcome = run_tests(planned, alpha=alpha, n_boot=n_boot, seed=seed)
    averages = {label: _average(label, outcome, rows[label], alpha, n_boot, seed) for label in labels}
    outcome, averages = _adjust_together(outcome, averages, alpha)
    differences = {label: settings_diff((a_row["task"], a_row, b_row) for a_row, b_row in rows[label].pairs)
                   for label in labels}
    return BaselineTable(baseline, tuple(labels), outcome, rows, differences, averages)


def _average(label: str, outcome: SignificanceOutcome[Cell], rows: RowPairs, alpha: float, n_boot: int,
             seed: int) -> AverageComparison:
    """One OTHER's Average from its tested cells; an untested cell counts as "not comparable"."""
    tested = [c for (name, _), c in outcome.tested if name == label]
    by_task = {a_row["task"]: a_row for a_row, _ in rows.pairs}
    untested = [TaskComparison(task=task, metric="", filter="", a_evaluation_id=int(by_task[task]["evaluation_id"]),
                               b_evaluation_id=-1, reason=u.why)
                for (name, task), u in outcome.untested if name == label]
    return average_comparison(tested + untested, rows, alpha=alpha, n_boot=n_boot, seed=seed)


def _adjust_together(outcome: SignificanceOutcome[Cell], averages: dict[str, AverageComparison],
                     alpha: float) -> tuple[SignificanceOutcome[Cell], dict[str, AverageComparison]]:
    """Holm across every tested cell and every tested Average: all that the table flags (and the exit-1 gate
    fires on) is one family, as in the two-label form."""
    cells = [c for _, c in outcome.tested]
    adjusted = adjust([*cells, *averages.values()], alpha)
    tested = tuple((key, c) for (key, _), c in zip(outcome.tested, adjusted[:len(cells)], strict=True))
    return (replace(outcome, tested=tested),
            dict(zip(averages, adjusted[len(cells):], strict=True)))


# ------------------------------------------------------------------ output


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if value >= 1e-3 else f"{value:.1e}"


def _untested_lines(table: BaselineTable) -> list[str]:
    lines = [f"  {label} / {task}: {untested.why}" for (label, task), untested in table.outcome.untested]
    lines += [f"  {label} / {task}: scored for the {side} (no pair)" for label, task, side in table.one_sided()]
    return ["not compared (listed, not dropped):", *lines] if lines else []


def differences_text(differences: Sequence[SettingDifference], indent: str = "  ") -> list[str]:
    return [f"{indent}{d.setting}: baseline {d.a}, this {d.b} ({d.where})" for d in differences]


def _outcome_of(c: TaskComparison | AverageComparison) -> str:
    return "REGRESSED" if c.regressed else "improved" if c.significant else ""


def _mde(c: TaskComparison | AverageComparison) -> str:
    return "-" if c.result.mde is None else f"{c.result.mde:.4f}"


def _rows_of(table: BaselineTable, label: str) -> list[tuple[str, str, TaskComparison | AverageComparison]]:
    """(task, metric, comparison) of one OTHER: its tested cells in suite order, then its Average if tested."""
    rows: list[tuple[str, str, TaskComparison | AverageComparison]] = [
        (task, c.metric, c) for (name, task), c in table.outcome.tested if name == label]
    if (average := table.averages[label]).result is not None:
        rows.append((AVERAGE, f"mean of {len(average.tasks)}", average))
    return rows


def _average_lines(table: BaselineTable) -> list[str]:
    absent = [f"  {label}: {table.averages[label].reason}" for label in table.labels
              if table.averages[label].result is None]
    lines = [(f"{AVERAGE}: the plain mean of the Open LLM Leaderboard tasks' scores, tested by a {STRATIFIED_BOOTSTRAP} "
              "and Holm-corrected with the cells.")]
    return lines + ([f"{AVERAGE} not tested:", *absent] if absent else [])


def format_text(table: BaselineTable) -> str:
    o = table.outcome
    header = ("checkpoint", "task", "metric", "baseline", "value", "diff", f"{100 * (1 - o.alpha):g}% CI", "MDE",
              "p", "p (Holm)", "n", "test", "")
    rows = [header] + [
        (label, task, metric, f"{c.a_value:.4f}", f"{c.b_value:.4f}", f"{c.result.diff:+.4f}",
         f"[{c.result.ci_low:+.4f}, {c.result.ci_high:+.4f}]", _mde(c), _p(c.result.p_value), _p(c.p_adjusted),
         str(c.result.n), c.result.test, _outcome_of(c))
        for label in table.labels for task, metric, c in _rows_of(table, label)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [(f"baseline = {table.baseline}: each checkpoint minus the baseline, paired per document; Holm-adjusted "
              f"across all {table.family} tested row(s), alpha {o.alpha:g}")]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines += [*_average_lines(table), mde_note(o.alpha)]
    lines += _untested_lines(table)
    for label in table.labels:
        diffs = table.differences[label]
        lines.append(f"settings that differ, {table.baseline} vs {label}:" if diffs
                     else f"settings that differ, {table.baseline} vs {label}: none")
        lines += differences_text(diffs)
    regressed = [f"{label} / {task}" for label, task in table.regressed]
    lines.append(f"regressed significantly: {', '.join(regressed)}" if regressed else "no significant regression")
    return "\n".join(lines)


def _cell_document(label: str, task: str, c: TaskComparison | AverageComparison) -> dict[str, Any]:
    is_average = isinstance(c, AverageComparison)
    return {"label": label, "task": task, "metric": f"mean of {len(c.tasks)}" if is_average else c.metric,
            "filter": None if is_average else c.filter, "baseline_value": c.a_value, "value": c.b_value,
            "diff": c.result.diff, "ci": [c.result.ci_low, c.result.ci_high], "mde": c.result.mde,
            "p": c.result.p_value, "p_adjusted": c.p_adjusted, "test": c.result.test, "n": c.result.n,
            "significant": c.significant, "regressed": c.regressed, **({"tasks": list(c.tasks)} if is_average else {})}


def table_document(table: BaselineTable) -> dict[str, Any]:
    o = table.outcome
    cells = [_cell_document(label, task, c) for label in table.labels for task, _, c in _rows_of(table, label)]
    untested = [{"label": label, "task": task, "reason": u.why, "kind": str(u.kind)} for (label, task), u in o.untested]
    untested += [{"label": label, "task": task, "reason": f"scored for the {side}", "kind": "one_sided"}
                 for label, task, side in table.one_sided()]
    untested += [{"label": label, "task": AVERAGE, "reason": table.averages[label].reason, "kind": "average"}
                 for label in table.labels if table.averages[label].result is None]
    return {"baseline": table.baseline, "labels": list(table.labels), "alpha": o.alpha, "correction": "holm",
            "family": table.family, "n_boot": o.n_boot, "regressed": bool(table.regressed), "cells": cells,
            "not_compared": untested,
            "settings_differ": {label: [vars(d) | {"tasks": list(d.tasks)} for d in table.differences[label]]
                                for label in table.labels}}


def format_json(table: BaselineTable) -> str:
    return json.dumps(table_document(table), indent=2)


def format_markdown(table: BaselineTable) -> str:
    o = table.outcome
    lines = [(f"| Checkpoint | Task | Metric | {table.baseline} | Value | Δ | {100 * (1 - o.alpha):g}% CI | MDE | p "
              "| p (Holm) | n |"),
             "|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for label in table.labels:
        for task, metric, c in _rows_of(table, label):
            mark = "*" if c.significant else ""
            lines.append(f"| {label} | {task} | {metric} | {c.a_value:.4f} | {c.b_value:.4f} | "
                         f"{c.result.diff:+.4f}{mark} | [{c.result.ci_low:+.4f}, {c.result.ci_high:+.4f}] | {_mde(c)} | "
                         f"{_p(c.result.p_value)} | {_p(c.p_adjusted)} | {c.result.n} |")
    lines += ["", f"\\* significant at alpha = {o.alpha:g} after Holm correction across all {table.family} tested rows.",
              *_average_lines(table), mde_note(o.alpha)]
    lines += [line.strip() for line in _untested_lines(table)]
    for label in table.labels:
        if diffs := table.differences[label]:
            lines += ["", f"Settings that differ, {table.baseline} vs {label}:", *("- " + line.strip()
                                                                               for line in differences_text(diffs))]
    return "\n".join(lines)


FORMATS = {"text": format_text, "json": format_json, "markdown": format_markdown}
