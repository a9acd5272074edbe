"""`spin-bench compare --baseline LABEL OTHER...`: every checkpoint against one baseline, task by task, in one
table with Holm's correction across the whole table.

Each OTHER is paired with the baseline per task exactly as the two-label form pairs A and B
(reports.compare.newest_pairs, then reports.significance.run_tests, the one planner), so the table is the
two-label comparison repeated, corrected once for all its cells. Nothing is dropped silently: a pair that
cannot be tested (no per-sample logs, a different setup, no shared documents) and a task scored on one
side only are listed with the reason, and the settings in which each OTHER's evaluations differ from the
baseline's come with the table (reports.provenance.settings_diff).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reports.compare import RowPairs, TaskComparison, newest_pairs
from reports.provenance import SettingDifference, settings_diff
from reports.significance import PlannedComparison, SignificanceOutcome, run_tests
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

    @property
    def regressed(self) -> list[Cell]:
        return [key for key, c in self.outcome.tested if c.regressed]

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
    differences = {label: settings_diff((a_row["task"], a_row, b_row) for a_row, b_row in rows[label].pairs)
                   for label in labels}
    return BaselineTable(baseline, tuple(labels), outcome, rows, differences)


# ------------------------------------------------------------------ output


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if value >= 1e-3 else f"{value:.1e}"


def _outcome(c: TaskComparison) -> str:
    return "REGRESSED" if c.regressed else "improved" if c.significant else ""


def _untested_lines(table: BaselineTable) -> list[str]:
    lines = [f"  {label} / {task}: {untested.why}" for (label, task), untested in table.outcome.untested]
    lines += [f"  {label} / {task}: scored for the {side} (no pair)" for label, task, side in table.one_sided()]
    return ["not compared (listed, not dropped):", *lines] if lines else []


def differences_text(differences: Sequence[SettingDifference], indent: str = "  ") -> list[str]:
    return [f"{indent}{d.setting}: baseline {d.a}, this {d.b} ({d.where})" for d in differences]


def format_text(table: BaselineTable) -> str:
    o = table.outcome
    header = ("checkpoint", "task", "metric", "baseline", "value", "diff", f"{100 * (1 - o.alpha):g}% CI", "p",
              "p (Holm)", "n", "test", "")
    rows = [header] + [
        (label, task, c.metric, f"{c.a_value:.4f}", f"{c.b_value:.4f}", f"{c.result.diff:+.4f}",
         f"[{c.result.ci_low:+.4f}, {c.result.ci_high:+.4f}]", _p(c.result.p_value), _p(c.p_adjusted),
         str(c.result.n), c.result.test, _outcome(c))
        for (label, task), c in o.tested
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [f"baseline = {table.baseline}: each checkpoint minus the baseline, paired per document; Holm-adjusted "
             f"across all {len(o.tested)} tested cell(s), alpha {o.alpha:g}"]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines += _untested_lines(table)
    for label in table.labels:
        diffs = table.differences[label]
        lines.append(f"settings that differ, {table.baseline} vs {label}:" if diffs
                     else f"settings that differ, {table.baseline} vs {label}: none")
        lines += differences_text(diffs)
    regressed = [f"{label} / {task}" for label, task in table.regressed]
    lines.append(f"regressed significantly: {', '.join(regressed)}" if regressed else "no significant regression")
    return "\n".join(lines)


def table_document(table: BaselineTable) -> dict[str, Any]:
    o = table.outcome
    cells = [{"label": label, "task": task, "metric": c.metric, "filter": c.filter, "baseline_value": c.a_value,
              "value": c.b_value, "diff": c.result.diff, "ci": [c.result.ci_low, c.result.ci_high],
              "p": c.result.p_value, "p_adjusted": c.p_adjusted, "test": c.result.test, "n": c.result.n,
              "significant": c.significant, "regressed": c.regressed}
             for (label, task), c in o.tested]
    untested = [{"label": label, "task": task, "reason": u.why, "kind": str(u.kind)} for (label, task), u in o.untested]
    untested += [{"label": label, "task": task, "reason": f"scored for the {side}", "kind": "one_sided"}
                 for label, task, side in table.one_sided()]
    return {"baseline": table.baseline, "labels": list(table.labels), "alpha": o.alpha, "correction": "holm",
            "n_boot": o.n_boot, "regressed": bool(table.regressed), "cells": cells, "not_compared": untested,
            "settings_differ": {label: [vars(d) | {"tasks": list(d.tasks)} for d in table.differences[label]]
                                for label in table.labels}}


def format_json(table: BaselineTable) -> str:
    return json.dumps(table_document(table), indent=2)


def format_markdown(table: BaselineTable) -> str:
    o = table.outcome
    lines = [f"| Checkpoint | Task | Metric | {table.baseline} | Value | Δ | {100 * (1 - o.alpha):g}% CI | p | p (Holm) | n |",
             "|---|---|---|---:|---:|---:|---|---:|---:|---:|"]
    for (label, task), c in o.tested:
        mark = "*" if c.significant else ""
        lines.append(f"| {label} | {task} | {c.metric} | {c.a_value:.4f} | {c.b_value:.4f} | {c.result.diff:+.4f}{mark} "
                     f"| [{c.result.ci_low:+.4f}, {c.result.ci_high:+.4f}] | {_p(c.result.p_value)} | "
                     f"{_p(c.p_adjusted)} | {c.result.n} |")
    lines += ["", f"\\* significant at alpha = {o.alpha:g} after Holm correction across all {len(o.tested)} cells."]
    lines += [line.strip() for line in _untested_lines(table)]
    for label in table.labels:
        if diffs := table.differences[label]:
            lines += ["", f"Settings that differ, {table.baseline} vs {label}:", *("- " + line.strip()
                                                                               for line in differences_text(diffs))]
    return "\n".join(lines)


FORMATS = {"text": format_text, "json": format_json, "markdown": format_markdown}
