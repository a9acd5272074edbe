"""`spin-bench compare`'s Open LLM Leaderboard Average row and MDE column, on real results stores and
lm-eval-format samples files written here for all six leaderboard tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.compare import compare
from reports.compare_format import format_markdown, format_text, json_document
from reports.stats import MCNEMAR, STRATIFIED_BOOTSTRAP, holm
from spin_bench.bench.suites import LEADERBOARD, LEADERBOARD_AVERAGE
from spin_bench.store import ResultsStore
from tests.reports.test_compare import add_evaluation, run_cli, write_samples

SPECS = {spec.name: spec for spec in LEADERBOARD}
N = 100  # documents per task


def _file_task(task: str) -> str:
    return "spin_mmlu_anatomy" if task == "mmlu" else f"spin_{task}"  # MMLU is read from its subject files


def _scores(task: str, fixed: int) -> list[float]:
    """A task's per-document scores: half right, plus the first ``fixed`` of the wrong ones made right.
    truthfulqa_mc2's per-document acc is a probability, so it gains 0.5 on those documents instead."""
    base = [0.2, 0.7] * (N // 2) if task == "truthfulqa_mc2" else [1.0, 0.0] * (N // 2)
    wrong = [i for i, value in enumerate(base) if value < 0.5][:fixed]
    return [value + (0.5 if task == "truthfulqa_mc2" else 1.0) if i in wrong else value
            for i, value in enumerate(base)]


def _store(tmp_path: Path, fixed: dict[str, int], tasks=LEADERBOARD_AVERAGE) -> Path:
    """Labels "a" and "b" on ``tasks``; B has ``fixed[task]`` more right answers than A (0: the same scores)."""
    path = tmp_path / "store.db"
    with ResultsStore(path) as store:
        for label in ("a", "b"):
            samples, rows = tmp_path / label, []
            for task in tasks if label == "b" else LEADERBOARD_AVERAGE:
                spec = SPECS[task]
                write_samples(samples, _file_task(task), _scores(task, fixed[task] if label == "b" else 0),
                              metric=spec.metric, filters=(spec.filter,))
                rows.append({"task": task, "metric": spec.metric, "filter": spec.filter, "n_shot": spec.shots})
            add_evaluation(store, label, samples, rows, key=label)
    return path


def test_a_planted_improvement_is_flagged_on_the_average_with_holm_across_tasks_and_average(tmp_path: Path):
    # Six documents fixed per task: each 0/1 task alone has McNemar p = 2 / 2**6, not significant after Holm
    # over 7 tests; pooled over six tasks the Average is. (truthfulqa_mc2's bootstrap, on a change this sparse,
    # finds p near 0.005 and is flagged: a resample misses all six changed documents only 0.94**100 of the time.)
    with ResultsStore(_store(tmp_path, dict.fromkeys(LEADERBOARD_AVERAGE, 6))) as store:
        comparison = compare(store, "a", "b", n_boot=2000)
    average = comparison.average
    assert (average.result.test, average.result.n, comparison.family) == (STRATIFIED_BOOTSTRAP, 6 * N, 7)
    # truthfulqa_mc2 gains 0.5 on its six documents, the others 1.
    assert average.result.diff == pytest.approx((5 * 0.06 + 0.03) / 6)
    assert average.b_value - average.a_value == pytest.approx(average.result.diff)
    assert average.result.ci_low > 0 and average.significant and not average.regressed
    raw = [c.result.p_value for c in comparison.tasks] + [average.result.p_value]
    assert [c.p_adjusted for c in comparison.tasks] + [average.p_adjusted] == pytest.approx(holm(raw))
    arc = comparison.tasks[0]
    assert (arc.task, arc.result.test, arc.result.p_value) == ("arc_challenge", MCNEMAR, pytest.approx(2 / 2**6))
    assert [c.task for c in comparison.tasks if c.significant] == ["truthfulqa_mc2"]
    # MDE from the observed discordance: 6 of 100 pairs, (z_.975 + z_.8) * sqrt(0.06 / 100).
    assert arc.result.mde == pytest.approx(2.801585 * (0.06 / N) ** 0.5, rel=1e-5)
    assert average.result.mde < average.result.diff < arc.result.mde

    text = format_text(comparison, "a", "b", 0.05, 2000)
    average_line = next(line for line in text.splitlines() if line.startswith("Average "))
    assert "mean of 6" in average_line and average_line.endswith("improved")
    assert "Holm-adjusted across 7 tests (6 task(s) and the Average)" in text
    assert "Holm-corrected as one more hypothesis beside the task rows" in text
    assert "| **Average** | mean of 6 |" in format_markdown(comparison, "a", "b", 0.05, 2000)
    document = json_document(comparison, "a", "b", 0.05, 2000)
    assert document["average"]["significant"] and document["average"]["in_holm_family"]
    assert document["holm_family"] == 7 and all(task["mde"] > 0 for task in document["tasks"])


def test_a_planted_improvement_on_most_tasks_passes_the_issue_bar(tmp_path: Path):
    # Issue 11's bar: flagged (Holm, alpha 0.05) on at least half of the six tasks and on the Average.
    fixed = dict(zip(LEADERBOARD_AVERAGE, (20, 20, 20, 2, 20, 2), strict=True))
    with ResultsStore(_store(tmp_path, fixed)) as store:
        comparison = compare(store, "a", "b", n_boot=2000)
    flagged = [c.task for c in comparison.tasks if c.significant]
    assert flagged == ["arc_challenge", "truthfulqa_mc2", "winogrande", "hellaswag"]
    assert comparison.average.significant


def test_the_same_scores_give_p_one_on_the_average_and_are_never_flagged(tmp_path: Path):
    with ResultsStore(_store(tmp_path, dict.fromkeys(LEADERBOARD_AVERAGE, 0))) as store:
        comparison = compare(store, "a", "b", n_boot=500)
    r = comparison.average.result
    assert (r.diff, r.ci_low, r.ci_high, r.p_value, r.mde) == (0.0, 0.0, 0.0, 1.0, None)
    assert comparison.average.p_adjusted == 1.0 and not comparison.average.significant
    assert not comparison.regressed
    assert json_document(comparison, "a", "b", 0.05, 500)["average"]["mde"] is None


def test_a_significant_drop_of_the_average_fails_the_cli_gate(tmp_path: Path):
    # Six documents per 0/1 task (truthfulqa_mc2 unchanged): no task's own drop survives Holm.
    path = _store(tmp_path, dict.fromkeys(LEADERBOARD_AVERAGE, 6) | {"truthfulqa_mc2": 0})
    result = run_cli("b", "a", "--store", str(path), "--format", "json", "--n-boot", "1000")  # B -> A: a drop
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["average"]["regressed"] and document["regressed"]
    assert not any(task["regressed"] for task in document["tasks"])  # only the Average, pooled, sees it
    assert document["average"]["ci"][1] < 0 and document["average"]["test"] == STRATIFIED_BOOTSTRAP


def test_without_all_six_tasks_the_average_says_why_in_one_line(tmp_path: Path):
    tasks = [task for task in LEADERBOARD_AVERAGE if task != "mmlu"]
    with ResultsStore(_store(tmp_path, dict.fromkeys(LEADERBOARD_AVERAGE, 6), tasks=tasks)) as store:
        comparison = compare(store, "a", "b", n_boot=500)
    assert comparison.average.result is None and comparison.family == 5
    reason = "needs all 6 leaderboard tasks compared (scored for A only: mmlu)"
    assert comparison.average.reason == reason
    text = format_text(comparison, "a", "b", 0.05, 500)
    assert f"Average: not tested: {reason}." in text.splitlines()
    assert not any(line.startswith("Average ") for line in text.splitlines())
    assert "**Average**" not in format_markdown(comparison, "a", "b", 0.05, 500)
    assert json_document(comparison, "a", "b", 0.05, 500)["average"]["reason"] == reason


def test_baseline_form_gives_each_checkpoint_an_average_row_in_one_holm_family(tmp_path: Path):
    """`compare --baseline a b c`: b has the planted improvement of the two-label test, c is a copy of a.
    Each gets an Average row; Holm covers every cell and both Averages; the copy's Average is 0 and unflagged."""
    from reports.baseline import (
        compare_to_baseline,
        format_markdown,
        format_text,
        table_document,
    )

    path = _store(tmp_path, dict.fromkeys(LEADERBOARD_AVERAGE, 6))
    with ResultsStore(path) as store:
        copy = tmp_path / "c"
        rows = []
        for task in LEADERBOARD_AVERAGE:
            spec = SPECS[task]
            write_samples(copy, _file_task(task), _scores(task, 0), metric=spec.metric, filters=(spec.filter,))
            rows.append({"task": task, "metric": spec.metric, "filter": spec.filter, "n_shot": spec.shots})
        add_evaluation(store, "c", copy, rows, key="c")
        table = compare_to_baseline(store, "a", ["b", "c"], n_boot=2000)
    assert table.family == 2 * 6 + 2
    improved, copied = table.averages["b"], table.averages["c"]
    assert improved.significant and not improved.regressed
    assert improved.result.diff == pytest.approx((5 * 0.06 + 0.03) / 6)
    assert copied.result.diff == 0 and not copied.significant and copied.p_adjusted == 1.0
    raw = [c.result.p_value for _, c in table.outcome.tested] + [improved.result.p_value, copied.result.p_value]
    adjusted = [c.p_adjusted for _, c in table.outcome.tested] + [improved.p_adjusted, copied.p_adjusted]
    assert adjusted == pytest.approx(holm(raw))
    assert table.regressed == []

    text = format_text(table)
    assert "Holm-adjusted across all 14 tested row(s)" in text and "MDE" in text.splitlines()[1]
    b_average = next(line for line in text.splitlines() if line.startswith("b ") and " Average " in line)
    assert "mean of 6" in b_average and b_average.endswith("improved")
    assert "| b | Average | mean of 6 |" in format_markdown(table)
    cells = {(cell["label"], cell["task"]): cell for cell in table_document(table)["cells"]}
    assert cells[("b", "Average")]["significant"] and cells[("c", "Average")]["diff"] == 0
    assert all(cell["mde"] is None or cell["mde"] >= 0 for cell in cells.values())


def test_baseline_form_says_why_an_average_is_absent(tmp_path: Path):
    from reports.baseline import compare_to_baseline, format_text, table_document

    path = _store(tmp_path, dict.fromkeys(LEADERBOARD_AVERAGE, 0), tasks=LEADERBOARD_AVERAGE[:5])
    with ResultsStore(path) as store:
        table = compare_to_baseline(store, "a", ["b"], n_boot=500)
    assert table.averages["b"].result is None and table.family == 5
    assert f"scored for A only: {LEADERBOARD_AVERAGE[5]}" in table.averages["b"].reason
    assert "Average not tested:\n  b: needs all 6 leaderboard tasks compared" in format_text(table)
    [entry] = [e for e in table_document(table)["not_compared"] if e["kind"] == "average"]
    assert entry["label"] == "b" and entry["task"] == "Average"
