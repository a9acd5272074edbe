"""`spin-bench eval --suite mt_bench` end to end: the tiny model answers, a real loopback judge rates,
the store holds every score with the judge's identity, nothing is asked twice, and the key is never written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spin_bench.cli import main
from spin_bench.store import ResultsStore
from tests.mtbench.judge_servers import ScriptedJudge, completion, error

pytestmark = pytest.mark.slow

SECRET = "sk-spin-bench-test-0123456789abcdef"
MULTI_TURN_MARK = "<|The Start of Assistant A's Conversation with User|>"


def _two_turn_judge(body):
    """Turn-2 prompts (FastChat's multi-turn template) get 8, turn-1 prompts 6."""
    return completion("[[8]]" if MULTI_TURN_MARK in body["messages"][1]["content"] else "Rating: [[6]]")


def _eval(model: Path, tmp_path: Path, url: str, *extra: str, judge: str = "gpt-4") -> int:
    # The judgment cache lives in the session's SPIN_BENCH_CACHE: each test names its own judge so that
    # one test's cached judgments are not another's.
    return main(["eval", "--model", str(model), "--label", "tiny/sft", "--suite", "mt_bench", "--data", "embedded",
                 "--judge-url", url, "--judge-model", judge, "--judge-api-key-env", "SPIN_TEST_JUDGE_KEY",
                 "--mt-bench-per-category", "1", "--mt-bench-max-new-tokens", "16", "--batch-size", "4",
                 "--store", str(tmp_path / "store.db"), "--out", str(tmp_path / "results"), *extra])


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_scores_per_turn_and_category_with_judge_identity(tiny_sft_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SPIN_TEST_JUDGE_KEY", SECRET)
    with ScriptedJudge(_two_turn_judge) as server:
        assert _eval(tiny_sft_model, tmp_path, server.url) == 0
        assert len(server.requests) == 10  # 5 categories x 1 question x 2 turns
        assert set(server.authorizations) == {f"Bearer {SECRET}"}
        # The same evaluation again: from the store, the judge is not asked.
        assert _eval(tiny_sft_model, tmp_path, server.url) == 0
        assert len(server.requests) == 10
    assert "(cached)" in capsys.readouterr().out

    store = ResultsStore(tmp_path / "store.db")
    scores = store.scores(label="tiny/sft")
    value = {(t, m): v for t, m, v in zip(scores["task"], scores["metric"], scores["value"])}
    assert value[("mt_bench", "score")] == 7.0
    assert (value[("mt_bench_turn1", "score")], value[("mt_bench_turn2", "score")]) == (6.0, 8.0)
    assert value[("mt_bench", "failed")] == 0.0
    assert {t for t, m in value if t.startswith("mt_bench_") and m == "score"} == {
        "mt_bench_turn1", "mt_bench_turn2", "mt_bench_describe", "mt_bench_invite", "mt_bench_list",
        "mt_bench_note", "mt_bench_thanks"}
    evaluation = store.evaluations(label="tiny/sft").iloc[0]
    assert evaluation["judge"]["model"] == "gpt-4" and evaluation["judge"]["mode"] == "faithful"
    assert len(evaluation["judge"]["prompts_hash"]) == 16 and evaluation["judge"]["api_key_env"] == "SPIN_TEST_JUDGE_KEY"
    deviations = scores.loc[scores["task"] == "mt_bench", "deviations"].iloc[0]
    assert any("Embedded-world MT-Bench" in d for d in deviations) and any("first 1 question" in d for d in deviations)

    # The answers are kept for the report's examples, and the paired tests can read the per-turn scores.
    from reports.samples import load_doc_scores

    assert len(load_doc_scores(evaluation["samples_path"], "mt_bench", "score", "none")) == 10
    # The key reached the server, and no file that the run wrote holds it.
    for root in (tmp_path, Path(os.environ["SPIN_BENCH_CACHE"])):
        assert _files_containing(root, SECRET.encode()) == [], root


def test_judge_failure_part_way_resumes_without_asking_again(tiny_sft_model, tmp_path, capsys):
    asked = []

    def flaky(body):
        asked.append(body)
        return _two_turn_judge(body) if len(asked) <= 4 else error(500)

    with ScriptedJudge(flaky) as server:
        assert _eval(tiny_sft_model, tmp_path, server.url, "--judge-retries", "0", judge="flaky") == 2
    err = capsys.readouterr().err
    assert "6 judgment(s) of tiny/sft failed at the judge" in err and "rerun" in err
    assert err.count("\n") == 1  # one line
    assert ResultsStore(tmp_path / "store.db").scores(label="tiny/sft").empty  # no score from half a judging

    with ScriptedJudge(_two_turn_judge) as healthy:
        assert _eval(tiny_sft_model, tmp_path, healthy.url, judge="flaky") == 0
    assert len(healthy.requests) == 6  # only what failed; the 4 answered judgments came from the cache
    scores = ResultsStore(tmp_path / "store.db").scores(label="tiny/sft", task="mt_bench")
    assert scores.loc[scores["metric"] == "score", "value"].iloc[0] == 7.0


def test_judge_without_rating_counts_failures(tiny_sft_model, tmp_path):
    with ScriptedJudge(lambda body: completion("This answer is fine.")) as server:
        assert _eval(tiny_sft_model, tmp_path, server.url, judge="no-rating") == 0
    scores = ResultsStore(tmp_path / "store.db").scores(label="tiny/sft", task="mt_bench")
    failed = scores.loc[scores["metric"] == "failed"].iloc[0]
    assert (failed["value"], failed["n"]) == (10.0, 10)


def test_missing_judge_is_one_line_error(tiny_sft_model, tmp_path, capsys):
    code = main(["eval", "--model", str(tiny_sft_model), "--suite", "mt_bench", "--data", "embedded",
                 "--store", str(tmp_path / "store.db")])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "spin-bench: error: spin-bench eval: --suite mt_bench: MT-Bench needs a judge: --judge-url and --judge-model, "
        "or --judge-local")
    assert not (tmp_path / "store.db").exists() or ResultsStore(tmp_path / "store.db").scores().empty
