"""The one significance runner: every planned comparison tested or given a typed reason, Holm across all."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.significance import (
    PlannedComparison,
    Untestable,
    Untested,
    run_tests,
    try_comparison,
)
from reports.stats import MCNEMAR
from spin_bench.core.errors import UserError
from tests.reports.test_compare import STAMP, write_samples


def row(samples: Path | None, evaluation_id: int, **setup) -> dict:
    """A ResultsStore.scores() record of ARC, as the runner reads it."""
    return {"task": "arc_challenge", "metric": "acc_norm", "filter": "none", "evaluation_id": evaluation_id,
            "samples_path": None if samples is None else str(samples), "task_config_hash": "cfg", "n_shot": 25,
            "data_source": "embedded", **setup}


@pytest.fixture
def logs(tmp_path: Path) -> dict[str, Path]:
    """Per-sample logs: a (80% right), b (50% right, on the same 100 documents), c (different documents)."""
    write_samples(tmp_path / "a", "spin_arc_challenge", [1.0] * 80 + [0.0] * 20)
    write_samples(tmp_path / "b", "spin_arc_challenge", [0.0] * 30 + [1.0] * 50 + [0.0] * 20)
    write_samples(tmp_path / "c", "spin_arc_challenge", [1.0] * 10, hash_prefix="other")
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / f"samples_spin_arc_challenge_{STAMP}.jsonl").write_text("{oops\n", encoding="utf-8")
    return {name: tmp_path / name for name in ("a", "b", "c", "corrupt")} | {"gone": tmp_path / "gone"}


def test_each_failure_has_its_own_typed_reason(logs):
    a = row(logs["a"], 1)
    cases = {
        "no logs recorded": (row(None, 2), Untestable.NO_SAMPLE_LOGS),
        "logs moved": (row(logs["gone"], 2), Untestable.NO_SAMPLE_LOGS),
        "corrupt logs": (row(logs["corrupt"], 2), Untestable.CORRUPT_SAMPLE_LOGS),
        "other documents": (row(logs["c"], 2), Untestable.NO_SHARED_DOCUMENTS),
        "other shots": (row(logs["b"], 2, n_shot=5), Untestable.SETUP_DIFFERS),
    }
    for name, (b, kind) in cases.items():
        outcome = try_comparison(a, b, alpha=0.05, n_boot=100)
        assert isinstance(outcome, Untested) and outcome.kind is kind, name
    assert try_comparison(a, row(logs["b"], 2, n_shot=5), alpha=0.05, n_boot=100).why == \
        "the evaluation setup differs from the compared stage's (n_shot)"
    assert try_comparison(a, row(None, 2), alpha=0.05, n_boot=100).why == "no per-sample logs"
    corrupt = try_comparison(a, row(logs["corrupt"], 2), alpha=0.05, n_boot=100)
    assert corrupt.why.startswith("unreadable per-sample logs (") and "line 1 is not JSON" in corrupt.why
    assert "share no documents" in try_comparison(a, row(logs["c"], 2), alpha=0.05, n_boot=100).why


def test_run_tests_holm_corrects_the_tested_and_groups_the_rest_by_reason(logs):
    a, b = row(logs["a"], 1), row(logs["b"], 2)
    planned = [PlannedComparison("tested-1", a, b), PlannedComparison("missing-1", a, row(None, 3)),
               PlannedComparison("tested-2", b, a), PlannedComparison("corrupt", a, row(logs["corrupt"], 4)),
               PlannedComparison("missing-2", row(logs["gone"], 5), b)]
    outcome = run_tests(planned, alpha=0.05, n_boot=200)
    assert [key for key, _ in outcome.tested] == ["tested-1", "tested-2"]
    first, second = (comparison for _, comparison in outcome.tested)
    assert first.result.test == MCNEMAR and first.p_adjusted == pytest.approx(2 * first.result.p_value)
    assert first.significant and first.regressed and second.significant and not second.regressed
    grouped = outcome.untested_by_reason()
    assert list(grouped)[0] == "no per-sample logs" and grouped["no per-sample logs"] == ["missing-1", "missing-2"]
    assert [keys for why, keys in grouped.items() if why.startswith("unreadable")] == [["corrupt"]]
    assert outcome.tests_used() == [MCNEMAR] and "200 resamples" in outcome.method()


def test_other_errors_are_not_swallowed(logs):
    """Only the typed failures mean "not tested"; anything else is a bug and must surface."""
    with pytest.raises(KeyError):
        try_comparison(row(logs["a"], 1), {"task": "arc_challenge"}, alpha=0.05, n_boot=10)
    assert not issubclass(KeyError, UserError)
    assert run_tests([], alpha=0.05, n_boot=10).tested == ()
