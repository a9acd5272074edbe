"""The store's pairwise verdict table: written with its evaluation in one transaction, checked before any
write, removed with its evaluation, and added to a store made before it existed."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from spin_bench.core.errors import UserError
from spin_bench.store import EvaluationRecord, ResultsStore, ScoreRecord
from spin_bench.store.pairwise import PairwiseVerdict

EVALUATION = EvaluationRecord(
    eval_key="pair-1", model_path="/m/iter2", model_hash="h2", label="run/iter2", suite="mt_bench_pairwise",
    backend="hf", dtype="fp32", batch_size=1, add_bos=False, lm_eval_version="spin-bench", results_path="/r.json",
    judge={"model": "gpt-4", "mode": "faithful"}, extra={"baseline": "run/sft"})
SCORE = ScoreRecord(task="mt_bench_pairwise", metric="win_rate", filter="none", value=0.75, stderr=None, n=2,
                    n_shot=0, task_config_hash="p", data_source="test")
WIN = PairwiseVerdict(question_id=1, turn=1, category="writing", judge_prompt="pair-v2", verdict_model_first="A",
                      verdict_baseline_first="B", outcome="win", p_win=1.0, p_tie=0.0, p_loss=0.0, model_length=10,
                      baseline_length=8)
DROPPED = dataclasses.replace(WIN, turn=2, judge_prompt="pair-v2-multi-turn", verdict_baseline_first="error",
                              outcome="error", p_win=None, p_tie=None, p_loss=None)


def test_verdicts_round_trip_and_go_with_their_evaluation(tmp_path):
    with ResultsStore(tmp_path / "s.db") as store:
        assert store.add(EVALUATION, [SCORE], [WIN, DROPPED])
        frame = store.pairwise_verdicts()
        assert list(frame["turn"]) == [1, 2] and list(frame["outcome"]) == ["win", "error"]
        assert set(frame["judge_model"]) == {"gpt-4"} and set(frame["judge_mode"]) == {"faithful"}
        assert set(frame["baseline"]) == {"run/sft"} and frame["p_win"].isna().tolist() == [False, True]
        assert store.delete("pair-1") and store.pairwise_verdicts().empty


@pytest.mark.parametrize(("change", "message"), [
    ({"outcome": "won"}, "outcome must be one of"),
    ({"verdict_model_first": "[[A]]"}, "verdicts must be one of"),
    ({"p_tie": 0.5}, "must be 1"),
    ({"turn": 0}, "turn must be an integer >= 1"),
])
def test_bad_verdicts_write_nothing(tmp_path, change, message):
    with ResultsStore(tmp_path / "s.db") as store:
        with pytest.raises(UserError, match=message):
            store.add(EVALUATION, [SCORE], [dataclasses.replace(WIN, **change)])
        with pytest.raises(UserError, match="no probabilities"):
            store.add(EVALUATION, [SCORE], [dataclasses.replace(DROPPED, p_win=0.0)])
        with pytest.raises(UserError, match="question 1 turn 1 twice"):
            store.add(EVALUATION, [SCORE], [WIN, WIN])
        assert store.evaluations().empty


def test_a_store_made_before_the_table_gains_it(tmp_path):
    path = tmp_path / "old.db"
    with ResultsStore(path) as store:
        store.add(dataclasses.replace(EVALUATION, eval_key="old", suite="mt_bench"), [SCORE])
    with sqlite3.connect(path) as db:  # as a store written before pairwise judging existed
        db.execute("DROP TABLE pairwise_verdicts")
    with ResultsStore(path) as store:
        assert len(store.evaluations()) == 1 and store.pairwise_verdicts().empty
        assert store.add(EVALUATION, [SCORE], [WIN]) and len(store.pairwise_verdicts()) == 1
