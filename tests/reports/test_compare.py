"""`spin-bench compare` on real results stores and real lm-eval-format samples files written here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from reports.compare import (
    TaskComparison,
    adjust,
    compare,
)
from reports.compare_format import format_markdown, format_text
from reports.samples import CorruptSampleLogs, NoSampleLogs, load_doc_scores
from reports.stats import BOOTSTRAP, MCNEMAR, NoSharedDocuments, PairedResult
from spin_bench.cli import main
from spin_bench.core.errors import UserError
from spin_bench.store import EvaluationRecord, ResultsStore, ScoreRecord

REPO = Path(__file__).resolve().parents[2]
STAMP = "2025-03-01T10-20-30.123456"


def write_samples(directory: Path, lmeval_task: str, values: Sequence[float], metric: str = "acc_norm",
                  filters: Sequence[str] = ("none",), stamp: str = STAMP, hash_prefix: str = "h") -> None:
    """One line per (document, filter), as lm-eval's EvaluationTracker writes them."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / f"samples_{lmeval_task}_{stamp}.jsonl").open("w", encoding="utf-8") as handle:
        for doc_id, value in enumerate(values):
            for filter_name in filters:
                row = {"doc_id": doc_id, "doc": {"question": f"q{doc_id}"}, "target": "0", "arguments": {},
                       "resps": [], "filtered_resps": [], "filter": filter_name, "metrics": [metric],
                       "doc_hash": f"{hash_prefix}{doc_id}", "prompt_hash": "p", "target_hash": "t",
                       metric: value if filter_name == filters[0] else 1.0 - value}
                handle.write(json.dumps(row) + "\n")


def add_evaluation(store: ResultsStore, label: str, samples: Path | None, scores: Sequence[dict], key: str) -> None:
    record = EvaluationRecord(
        eval_key=key, model_path=f"/runs/{label}", model_hash=f"hash-{label}", label=label, suite="leaderboard",
        backend="hf", dtype="float32", batch_size=8, add_bos=False, lm_eval_version="0.4.13",
        results_path=f"/runs/{label}/results.json", samples_path=None if samples is None else str(samples))
    rows = [ScoreRecord(**{"filter": "none", "value": 0.5, "stderr": None, "n": 100, "n_shot": 25,
                           "task_config_hash": "cfg", "data_source": "embedded", **score}) for score in scores]
    store.add(record, rows)


ARC = {"task": "arc_challenge", "metric": "acc_norm"}
WINOGRANDE = {"task": "winogrande", "metric": "acc", "n_shot": 5}


@pytest.fixture
def regression_store(tmp_path: Path) -> Path:
    """B gets 30 of A's 80 correct ARC items wrong; Winogrande is unchanged."""
    path = tmp_path / "store.db"
    a_arc = [1.0] * 80 + [0.0] * 20
    b_arc = [0.0] * 30 + [1.0] * 50 + [0.0] * 20
    winogrande = [1.0, 0.0] * 50
    with ResultsStore(path) as store:
        for label, arc in (("sft", a_arc), ("spin-iter1", b_arc)):
            samples = tmp_path / label
            write_samples(samples, "spin_arc_challenge", arc)
            write_samples(samples, "spin_winogrande", winogrande, metric="acc")
            add_evaluation(store, label, samples, [ARC, WINOGRANDE], key=label)
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spin_bench", "compare", *args], cwd=REPO, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def test_planted_regression_is_flagged_and_fails_the_cli(regression_store: Path):
    with ResultsStore(regression_store) as store:
        arc, winogrande = compare(store, "sft", "spin-iter1", n_boot=2000).tasks
    assert (arc.task, arc.result.test, arc.result.n) == ("arc_challenge", MCNEMAR, 100)
    assert arc.result.diff == pytest.approx(-0.3)
    assert arc.result.ci_high < 0
    assert arc.result.p_value == pytest.approx(2 * 0.5**30)  # 30 discordant pairs, all one way
    assert arc.p_adjusted == pytest.approx(2 * 2 * 0.5**30)  # Holm: smallest of two p-values times 2
    assert arc.regressed and not winogrande.regressed
    assert (winogrande.result.diff, winogrande.result.p_value, winogrande.p_adjusted) == (0.0, 1.0, 1.0)

    result = run_cli("sft", "spin-iter1", "--store", str(regression_store), "--n-boot", "2000")
    assert result.returncode == 1, result.stderr
    arc_line = next(line for line in result.stdout.splitlines() if line.startswith("arc_challenge"))
    assert "-0.3000" in arc_line and arc_line.endswith("REGRESSED")
    assert "regressed significantly: arc_challenge" in result.stdout


def test_json_output_holds_difference_ci_p_and_test(regression_store: Path):
    result = run_cli("sft", "spin-iter1", "--store", str(regression_store), "--format", "json", "--n-boot", "2000")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["regressed"] is True and document["correction"] == "holm"
    arc = next(task for task in document["tasks"] if task["task"] == "arc_challenge")
    assert arc["diff"] == pytest.approx(-0.3)
    assert len(arc["ci"]) == 2 and arc["ci"][0] <= -0.3 <= arc["ci"][1]
    assert arc["p"] == pytest.approx(2 * 0.5**30)
    assert arc["p_adjusted"] == pytest.approx(4 * 0.5**30)
    assert arc["test"] == MCNEMAR and arc["regressed"] is True


def test_same_results_under_two_labels_are_not_flagged(tmp_path: Path):
    path = tmp_path / "store.db"
    samples = tmp_path / "ckpt"
    write_samples(samples, "spin_arc_challenge", [1.0, 0.0, 1.0, 1.0] * 25)
    write_samples(samples, "spin_truthfulqa_mc2", [0.1 * (i % 10) for i in range(50)], metric="acc")
    mc2 = {"task": "truthfulqa_mc2", "metric": "acc", "n_shot": 0}
    with ResultsStore(path) as store:
        for label in ("run-1", "run-2"):
            add_evaluation(store, label, samples, [ARC, mc2], key=label)
    result = run_cli("run-1", "run-2", "--store", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    tasks = {task["task"]: task for task in json.loads(result.stdout)["tasks"]}
    assert tasks["truthfulqa_mc2"]["test"] == BOOTSTRAP
    for task in tasks.values():
        assert (task["diff"], task["ci"], task["p"], task["p_adjusted"]) == (0.0, [0.0, 0.0], 1.0, 1.0)
        assert not task["regressed"]


def test_incomparable_configs_are_reported_not_diffed(tmp_path: Path):
    path = tmp_path / "store.db"
    with ResultsStore(path) as store:
        for label, shots, config in (("a", 25, "cfg"), ("b", 10, "cfg-new")):
            samples = tmp_path / label
            write_samples(samples, "spin_winogrande", [1.0, 0.0] * 10, metric="acc")
            # No ARC samples at all: reading them would raise, so a diff would fail this test.
            add_evaluation(store, label, samples, [{**ARC, "n_shot": shots, "task_config_hash": config}, WINOGRANDE],
                           key=label)
        comparison = compare(store, "a", "b", n_boot=500)
    arc, winogrande = comparison.tasks
    assert arc.result is None and arc.p_adjusted is None and not arc.regressed
    assert arc.reason == "task_config_hash differs (A 'cfg', B 'cfg-new'); n_shot differs (A 25, B 10)"
    assert arc.setup_differences == ("task_config_hash", "n_shot")
    assert winogrande.result is not None and winogrande.result.n == 20
    text = format_text(comparison, "a", "b", 0.05, 500)
    assert "not comparable (not diffed):\n  arc_challenge: task_config_hash differs" in text
    assert "Not comparable: arc_challenge" in format_markdown(comparison, "a", "b", 0.05, 500)
    assert ("Average: not tested: needs all 6 leaderboard tasks compared (not comparable: arc_challenge; scored for "
            "neither: truthfulqa_mc2, gsm8k_v040, hellaswag, mmlu).\n") in text


def test_newest_evaluation_of_a_label_is_used(tmp_path: Path):
    path = tmp_path / "store.db"
    with ResultsStore(path) as store:
        for key, label, values in (("old", "a", [0.0] * 20), ("new", "a", [1.0] * 20), ("b", "b", [1.0] * 20)):
            write_samples(tmp_path / key, "spin_arc_challenge", values)
            add_evaluation(store, label, tmp_path / key, [ARC], key=key)
        newest_a = store.evaluations(label="a")["evaluation_id"].max()
        (arc,) = compare(store, "a", "b", n_boot=200).tasks
    assert arc.a_evaluation_id == newest_a
    assert arc.result.diff == 0.0


def test_only_identical_documents_are_paired(tmp_path: Path):
    path = tmp_path / "store.db"
    with ResultsStore(path) as store:
        write_samples(tmp_path / "a", "spin_arc_challenge", [1.0] * 10)
        write_samples(tmp_path / "b", "spin_arc_challenge", [1.0] * 12)  # two more docs (a larger --limit)
        write_samples(tmp_path / "b", "spin_arc_challenge", [0.0] * 3, hash_prefix="other", stamp="2024-01-01T00-00-00")
        add_evaluation(store, "a", tmp_path / "a", [ARC], key="a")
        add_evaluation(store, "b", tmp_path / "b", [ARC], key="b")
        comparison = compare(store, "a", "b", n_boot=200)
    (arc,) = comparison.tasks
    assert (arc.result.n, arc.only_a, arc.only_b) == (10, 0, 2)
    assert "2 only in B" in format_text(comparison, "a", "b", 0.05)


def test_adjust_holm_corrects_across_every_tested_cell_and_skips_the_rest():
    def cell(task: str, diff: float, p: float) -> TaskComparison:
        return TaskComparison(task=task, metric="acc", filter="none", a_evaluation_id=1, b_evaluation_id=2,
                              result=PairedResult(diff, diff - 0.01, diff + 0.01, p, MCNEMAR, 100))

    skipped = TaskComparison(task="x", metric="acc", filter="none", a_evaluation_id=1, b_evaluation_id=2,
                             reason="n_shot differs")
    cells = adjust([cell("a", -0.1, 0.01), skipped, cell("b", 0.0, 0.04), cell("c", 0.2, 0.03)], 0.05)
    assert [c.p_adjusted for c in cells] == pytest.approx([0.03, None, 0.06, 0.06])
    assert [(c.significant, c.regressed) for c in cells] == [(True, True)] + [(False, False)] * 3
    assert cells[1] is skipped


def test_disjoint_documents_name_the_task(tmp_path: Path):
    with ResultsStore(tmp_path / "store.db") as store:
        for label in ("a", "b"):
            write_samples(tmp_path / label, "spin_arc_challenge", [1.0] * 3, hash_prefix=label)
            add_evaluation(store, label, tmp_path / label, [ARC], key=label)
        with pytest.raises(NoSharedDocuments, match="task 'arc_challenge': the two evaluations share no documents"):
            compare(store, "a", "b")


def test_unknown_label_lists_known_labels(regression_store: Path):
    with ResultsStore(regression_store) as store, pytest.raises(UserError, match="known labels: sft, spin-iter1"):
        compare(store, "sft", "spin-iter9")


def test_cli_input_errors_are_one_line_exit_2(tmp_path: Path, regression_store: Path, capsys):
    assert main(["compare", "a", "b", "--store", str(tmp_path / "missing.db")]) == 2
    assert not (tmp_path / "missing.db").exists()
    assert main(["compare", "sft", "spin-iter1", "--store", str(regression_store), "--alpha", "1.5"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(":")[1].strip() for line in errors] == ["error", "error"]
    assert "does not exist" in errors[0] and "--alpha" in errors[1]


# ------------------------------------------------------------------ samples files


def test_gsm8k_reads_its_own_file_and_filter(tmp_path: Path):
    write_samples(tmp_path, "spin_gsm8k_v040", [1.0, 0.0, 1.0], metric="exact_match",
                  filters=("get-answer", "strict-match", "flexible-extract"))
    write_samples(tmp_path, "spin_gsm8k", [0.0] * 5, metric="exact_match", filters=("strict-match", "flexible-extract"))
    v040 = load_doc_scores(tmp_path, "gsm8k_v040", "exact_match", "get-answer")
    assert list(v040.values()) == [1.0, 0.0, 1.0]
    assert list(load_doc_scores(tmp_path, "gsm8k_v040", "exact_match", "strict-match").values()) == [0.0, 1.0, 0.0]
    assert len(load_doc_scores(tmp_path, "gsm8k", "exact_match", "strict-match")) == 5
    with pytest.raises(UserError, match="no lines with filter 'get-answer'.*flexible-extract, strict-match"):
        load_doc_scores(tmp_path, "gsm8k", "exact_match", "get-answer")


def test_mmlu_concatenates_subjects_and_newest_file_wins(tmp_path: Path):
    write_samples(tmp_path, "spin_mmlu_anatomy", [1.0, 1.0, 0.0], metric="acc")
    write_samples(tmp_path, "spin_mmlu_virology", [0.0, 1.0], metric="acc")
    write_samples(tmp_path, "spin_mmlu_virology", [0.0] * 7, metric="acc", stamp="2024-12-31T23-59-59.999999")
    scores = load_doc_scores(tmp_path, "mmlu", "acc", "none")
    assert scores == {("anatomy", 0, "h0"): 1.0, ("anatomy", 1, "h1"): 1.0, ("anatomy", 2, "h2"): 0.0,
                      ("virology", 0, "h0"): 0.0, ("virology", 1, "h1"): 1.0}


def test_missing_samples_raise_no_sample_logs(tmp_path: Path):
    cases = ((None, "arc_challenge", "recorded no samples_path"),
             (float("nan"), "arc_challenge", "recorded no samples_path"),
             (tmp_path / "gone", "arc_challenge", "does not exist"),
             (tmp_path, "arc_challenge", "expected samples_spin_arc_challenge_<timestamp>.jsonl"),
             (tmp_path, "mmlu", "no MMLU subject samples"))
    for samples_path, task, match in cases:
        with pytest.raises(NoSampleLogs, match=match):
            load_doc_scores(samples_path, task, "acc", "none")
    write_samples(tmp_path, "spin_arc_challenge", [1.0], metric="acc_norm")
    with pytest.raises(NoSampleLogs, match="no lines with filter 'other'"):
        load_doc_scores(tmp_path, "arc_challenge", "acc_norm", "other")


@pytest.mark.parametrize(("content", "match"), [
    ('{"doc_id": 0, "filter": "none", "acc": 1.0}\n{"doc_id": 1, "filter"', "line 2 is not JSON"),
    ('{"filter": "none", "acc": 1.0}\n', "not an lm-eval sample"),
    ('{"doc_id": 0, "filter": "none", "acc_norm": 1.0}\n', "no per-document 'acc'"),
    ('{"doc_id": 0, "filter": "none", "acc": NaN}\n', "not a finite number"),
    ('{"doc_id": 0, "filter": "none", "acc": 1}\n{"doc_id": 0, "filter": "none", "acc": 0}\n', "appears twice"),
])
def test_corrupt_samples_raise_corrupt_sample_logs(tmp_path: Path, content: str, match: str):
    (tmp_path / f"samples_spin_winogrande_{STAMP}.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(CorruptSampleLogs, match=match) as caught:
        load_doc_scores(tmp_path, "winogrande", "acc", "none")
    assert not isinstance(caught.value, NoSampleLogs) and isinstance(caught.value, UserError)


def test_a_samples_file_that_is_not_utf8_is_corrupt(tmp_path: Path):
    (tmp_path / f"samples_spin_winogrande_{STAMP}.jsonl").write_bytes(b'{"doc_id": 0, "acc": 1}\xff\n')
    with pytest.raises(CorruptSampleLogs, match="not UTF-8"):
        load_doc_scores(tmp_path, "winogrande", "acc", "none")


# ------------------------------------------------------------------ flips, settings diff, --baseline


def test_flips_are_the_discordant_pairs_mcnemar_counts(regression_store: Path):
    result = run_cli("sft", "spin-iter1", "--store", str(regression_store), "--flips", "--format", "json",
                     "--n-boot", "500")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    arc = next(task for task in document["flips"][0]["tasks"] if task["task"] == "arc_challenge")
    assert (arc["right_to_wrong"], arc["wrong_to_right"], arc["n"]) == (30, 0, 100)
    assert arc["mcnemar_p"] == pytest.approx(2 * 0.5**30)
    # The first ten flipped documents are shown (the default), and the count still covers all thirty.
    assert [item["doc"] for item in arc["items"]["right_to_wrong"]] == [str(i) for i in range(10)]
    text = run_cli("sft", "spin-iter1", "--store", str(regression_store), "--flips", "--n-boot", "500").stdout
    assert "arc_challenge (acc_norm): 30 right->wrong, 0 wrong->right" in text
    assert "... and 20 more (--max-flips 0 lists all)" in text


def test_two_label_form_lists_the_settings_that_differ(tmp_path: Path):
    path = tmp_path / "store.db"
    with ResultsStore(path) as store:
        for label, version in (("a", "0.4.13"), ("b", "0.4.14")):
            write_samples(tmp_path / label, "spin_arc_challenge", [1.0, 0.0] * 10)
            record = EvaluationRecord(
                eval_key=label, model_path=f"/runs/{label}", model_hash="same", label=label, suite="leaderboard",
                backend="hf", dtype="float32", batch_size=8, add_bos=False, lm_eval_version=version,
                results_path="/r.json", samples_path=str(tmp_path / label))
            store.add(record, [ScoreRecord(task="arc_challenge", metric="acc_norm", filter="none", value=0.5,
                                           stderr=None, n=20, n_shot=25, task_config_hash="cfg",
                                           data_source="embedded")])
    result = run_cli("a", "b", "--store", str(path), "--n-boot", "200")
    assert result.returncode == 0, result.stderr
    assert "harness version: A 0.4.13, B 0.4.14 (tasks: arc_challenge)" in result.stdout
    assert "model revision" not in result.stdout  # only what differs is shown
    document = json.loads(run_cli("a", "b", "--store", str(path), "--format", "json", "--n-boot", "200").stdout)
    assert document["settings_differ"] == [{"setting": "harness version", "a": "0.4.13", "b": "0.4.14",
                                            "tasks": ["arc_challenge"], "every_task": False}]


def test_label_count_errors_are_one_line_exit_2(regression_store: Path, capsys):
    assert main(["compare", "sft", "spin-iter1", "x", "--store", str(regression_store)]) == 2
    assert main(["compare", "--baseline", "sft", "--store", str(regression_store)]) == 2
    assert main(["compare", "--baseline", "sft", "sft", "--store", str(regression_store)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3
    assert "two labels A B, or --baseline" in errors[0] and "at least one other label" in errors[1]
    assert "given twice (or is the baseline itself)" in errors[2]


def test_text_and_markdown_neutralise_model_text():
    from reports.flips_format import markdown_text, one_line

    hostile = "<script>x</script>\x1b[2J\nline2 \u202e| *b*"
    line = one_line(hostile, None)
    assert line == "<script>x</script>\\u001b[2J\\nline2 \\u202e| *b*"
    assert one_line("x" * 300, 10) == "x" * 9 + "…" and one_line("ab" * 200, 5, keep_end=True) == "…abab"
    assert markdown_text(hostile, None) == ("\\<script\\>x\\<\\/script\\>\\\\u001b\\[2J\\\\nline2 \\\\u202e\\| \\*b\\*")


def test_mt_bench_moves_ranks_questions_by_rating_change(tmp_path: Path):
    from reports.mt_bench_moves import mt_bench_moves

    def results(path: Path, scores: dict[tuple[int, int], float]) -> Path:
        judgments = [{"question_id": q, "turn": t, "category": "c", "question": f"q{q}t{t}", "answer": f"{path.stem}{q}",
                      "score": s} for (q, t), s in scores.items()]
        path.write_text(json.dumps({"judge": {"model": "j", "mode": "single"}, "judgments": judgments}))
        return path

    a = results(tmp_path / "a.json", {(1, 1): 5, (1, 2): 7, (2, 1): 4, (2, 2): -1, (3, 1): 6, (3, 2): 6})
    b = results(tmp_path / "b.json", {(1, 1): 6, (1, 2): 6, (2, 1): 8, (2, 2): 2, (3, 1): 3, (3, 2): 5})
    moves = mt_bench_moves(a, b, count=2)
    # Question ratings (mean of rated turns): A 6, 4, 6; B 6, 5, 4 -> changes 0, +1, -2.
    assert [(q.question_id, q.change) for q in moves.questions] == [(3, -2.0), (2, 1.0)]
    assert moves.compared == 3 and moves.questions[1].turns[1].a_score is None  # the failed turn
    assert moves.questions[0].turns[0].b_answer == "b3"
