"""`spin-bench compare A B` as text, JSON and markdown: the task rows, the Leaderboard Average row (or the one
line saying why it is absent), the footnotes that name the tests, and what could not be compared."""

from __future__ import annotations

import json
from typing import Any

from reports.compare import AverageComparison, LabelComparison, RowPairs, TaskComparison
from reports.provenance import SettingDifference, settings_diff
from reports.stats import BOOTSTRAP, MDE_POWER, STRATIFIED_BOOTSTRAP, PairedResult
from reports.table_model import AVERAGE


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if value >= 1e-3 else f"{value:.1e}"


def _mde(result: PairedResult) -> str:
    return "-" if result.mde is None else f"{result.mde:.4f}"


def _ci(result: PairedResult) -> str:
    return f"[{result.ci_low:+.4f}, {result.ci_high:+.4f}]"


def _level(alpha: float) -> str:
    return f"{100 * (1 - alpha):g}%"


def _outcome(c: TaskComparison | AverageComparison) -> str:
    if c.regressed:
        return "REGRESSED"
    return "improved" if c.significant else ""


def _tests_used(comparison: LabelComparison, n_boot: int) -> str:
    results = [c.result for c in comparison.tested()] + [comparison.average.result]
    tests = sorted({result.test for result in results if result is not None})
    named = [f"{t} ({n_boot} resamples)" if t in (BOOTSTRAP, STRATIFIED_BOOTSTRAP) else t for t in tests]
    return ", ".join(named) or "none"


def _family(comparison: LabelComparison) -> str:
    tasks = f"{len(comparison.tested())} task(s)"
    return f"{comparison.family} tests ({tasks} and the {AVERAGE})" if comparison.average.result else tasks


def _average_metric(average: AverageComparison) -> str:
    return f"mean of {len(average.tasks)}"


def average_note(comparison: LabelComparison) -> str:
    """The Average's footnote: what it is and how it was tested, or (one line) why it is absent."""
    average = comparison.average
    if average.result is None:
        return f"{AVERAGE}: not tested: {average.reason}."
    return (f"{AVERAGE}: the plain mean of the {len(average.tasks)} Open LLM Leaderboard tasks' scores "
            f"({', '.join(average.tasks)}), unrounded, in the rows' units; tested by a {STRATIFIED_BOOTSTRAP} "
            "(each task's paired documents resampled within that task) and Holm-corrected as one more hypothesis "
            "beside the task rows.")


def mde_note(alpha: float) -> str:
    return (f"MDE: the smallest true |B-A| each test detects with {MDE_POWER:.0%} power at two-sided alpha {alpha:g} "
            "before Holm; a normal approximation from the observed discordance (McNemar) or paired sd (bootstrap); "
            "'-': no spread to plan from.")


def _settings(rows: RowPairs | None) -> tuple[SettingDifference, ...]:
    return () if rows is None else settings_diff((a_row["task"], a_row, b_row) for a_row, b_row in rows.pairs)


def _one_sided(rows: RowPairs | None) -> list[tuple[str, str]]:
    """(task, why) for each task scored on one side only: listed, never dropped silently."""
    if rows is None:
        return []
    return [(task, "scored for A only") for task in rows.only_a] + [(task, "scored for B only") for task in rows.only_b]


def _text_rows(comparison: LabelComparison) -> list[tuple[str, ...]]:
    rows = [(c.task, c.metric, f"{c.a_value:.4f}", f"{c.b_value:.4f}", f"{c.result.diff:+.4f}", _ci(c.result),
             _mde(c.result), _p(c.result.p_value), _p(c.p_adjusted), str(c.result.n), c.result.test, _outcome(c))
            for c in comparison.tested()]
    if (average := comparison.average).result is not None:
        r = average.result
        rows.append((AVERAGE, _average_metric(average), f"{average.a_value:.4f}", f"{average.b_value:.4f}",
                     f"{r.diff:+.4f}", _ci(r), _mde(r), _p(r.p_value), _p(average.p_adjusted), str(r.n), r.test,
                     _outcome(average)))
    return rows


def format_text(comparison: LabelComparison, a_label: str, b_label: str, alpha: float, n_boot: int = 10_000,
                row_pairs: RowPairs | None = None) -> str:
    """The comparison table; with ``row_pairs`` (what it was compared from) also the settings that differ and the
    tasks scored on one side only."""
    header = ("task", "metric", "A", "B", "B-A", f"{_level(alpha)} CI", "MDE", "p", "p (Holm)", "n", "test", "")
    rows = [header, *_text_rows(comparison)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [(f"A = {a_label}, B = {b_label}: paired per document; Holm-adjusted across {_family(comparison)}, "
             f"alpha {alpha:g}; tests: {_tests_used(comparison, n_boot)}")]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines += [average_note(comparison), mde_note(alpha)]
    for c in comparison.tested():
        if c.only_a or c.only_b:
            lines.append(f"note: {c.task}: {c.only_a} document(s) only in A, {c.only_b} only in B (not paired)")
    skipped = [(c.task, c.reason) for c in comparison.tasks if c.result is None] + _one_sided(row_pairs)
    if skipped:
        lines.append("not comparable (not diffed):")
        lines += [f"  {task}: {reason}" for task, reason in skipped]
    if row_pairs is not None:
        differences = _settings(row_pairs)
        lines.append("settings that differ between A's and B's evaluations:" if differences
                     else "settings that differ between A's and B's evaluations: none")
        lines += [f"  {d.setting}: A {d.a}, B {d.b} ({d.where})" for d in differences]
    regressed = comparison.regressed
    lines.append(f"regressed significantly: {', '.join(regressed)}" if regressed else "no significant regression")
    return "\n".join(lines)


def format_json(comparison: LabelComparison, a_label: str, b_label: str, alpha: float, n_boot: int = 10_000,
                row_pairs: RowPairs | None = None) -> str:
    return json.dumps(json_document(comparison, a_label, b_label, alpha, n_boot, row_pairs), indent=2)


def _result_fields(result: PairedResult | None, alpha: float) -> dict[str, Any]:
    if result is None:
        return dict.fromkeys(("diff", "ci", "ci_level", "p", "test", "n", "mde"))
    return {"diff": result.diff, "ci": [result.ci_low, result.ci_high], "ci_level": 1 - alpha, "p": result.p_value,
            "test": result.test, "n": result.n, "mde": result.mde}


def _average_json(average: AverageComparison, alpha: float) -> dict[str, Any]:
    return {"task": AVERAGE, "tasks": list(average.tasks), "a": average.a_value, "b": average.b_value,
            **_result_fields(average.result, alpha), "p_adjusted": average.p_adjusted,
            "significant": average.significant, "regressed": average.regressed, "in_holm_family": True,
            "reason": average.reason}


def json_document(comparison: LabelComparison, a_label: str, b_label: str, alpha: float, n_boot: int = 10_000,
                  row_pairs: RowPairs | None = None) -> dict[str, Any]:
    tasks = [
        {"task": c.task, "metric": c.metric, "filter": c.filter, "a": c.a_value, "b": c.b_value,
         **_result_fields(c.result, alpha), "p_adjusted": c.p_adjusted, "only_a": c.only_a, "only_b": c.only_b,
         "significant": c.significant, "regressed": c.regressed, "a_evaluation_id": c.a_evaluation_id,
         "b_evaluation_id": c.b_evaluation_id}
        for c in comparison.tested()
    ]
    skipped = [{"task": c.task, "metric": c.metric, "filter": c.filter, "reason": c.reason}
               for c in comparison.tasks if c.result is None]
    skipped += [{"task": task, "reason": reason} for task, reason in _one_sided(row_pairs)]
    document = {"a": a_label, "b": b_label, "alpha": alpha, "correction": "holm", "holm_family": comparison.family,
                "n_boot": n_boot, "mde_power": MDE_POWER, "regressed": bool(comparison.regressed), "tasks": tasks,
                "average": _average_json(comparison.average, alpha), "not_comparable": skipped}
    if row_pairs is not None:
        document["settings_differ"] = [vars(d) | {"tasks": list(d.tasks)} for d in _settings(row_pairs)]
    return document


def _markdown_row(name: str, metric: str, a: float, b: float, result: PairedResult, p_adjusted: float | None,
                  significant: bool) -> str:
    mark = "*" if significant else ""
    return (f"| {name} | {metric} | {a:.4f} | {b:.4f} | {result.diff:+.4f}{mark} | {_ci(result)} | {_mde(result)} | "
            f"{_p(result.p_value)} | {_p(p_adjusted)} | {result.n} |")


def format_markdown(comparison: LabelComparison, a_label: str, b_label: str, alpha: float, n_boot: int = 10_000,
                    row_pairs: RowPairs | None = None) -> str:
    lines = [f"| Task | Metric | {a_label} (A) | {b_label} (B) | B − A | {_level(alpha)} CI | MDE | p | p (Holm) | n |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    lines += [_markdown_row(c.task, c.metric, c.a_value, c.b_value, c.result, c.p_adjusted, c.significant)
              for c in comparison.tested()]
    if (average := comparison.average).result is not None:
        lines.append(_markdown_row(f"**{AVERAGE}**", _average_metric(average), average.a_value, average.b_value,
                                   average.result, average.p_adjusted, average.significant))
    lines += ["", (f"\\* significant at alpha = {alpha:g} after Holm correction across {_family(comparison)}. "
              f"Paired tests on per-document scores: {_tests_used(comparison, n_boot)}; "
              f"CIs are paired-bootstrap percentile intervals ({n_boot} resamples), not multiplicity-adjusted."),
              "", average_note(comparison), "", mde_note(alpha)]
    lines += [f"Not comparable: {c.task} ({c.reason})." for c in comparison.tasks if c.result is None]
    lines += [f"Not comparable: {task} ({reason})." for task, reason in _one_sided(row_pairs)]
    if differences := _settings(row_pairs):
        lines += ["", "Settings that differ between A's and B's evaluations:"]
        lines += [f"- {d.setting}: A {d.a}, B {d.b} ({d.where})" for d in differences]
    return "\n".join(lines)


FORMATS = {"text": format_text, "json": format_json, "markdown": format_markdown}
