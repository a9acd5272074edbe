"""The results store on real SQLite files: round trips, the eval cache, atomic adds, reading for reports,
several processes writing at once, and one-line errors for stores that cannot be used."""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import make_url

from spin_bench.core.errors import UserError
from spin_bench.store import SCHEMA_VERSION, EvaluationRecord, ResultsStore, ScoreRecord
from spin_bench.store.engine import shown
from spin_bench.store.results_store import ResultsStore as _StoreClass


def evaluation_record(eval_key: str = "key-1", **overrides) -> EvaluationRecord:
    fields = dict(
        eval_key=eval_key,
        model_path="/runs/spin/iter1",
        model_hash="abc123",
        label="spin-iter1",
        iteration=1,
        suite="paper",
        backend="hf",
        dtype="float32",
        batch_size=8,
        limit=None,
        add_bos=False,
        chat_template_hash="tpl42",
        lm_eval_version="0.4.13",
        judge=None,
        results_path="/runs/bench/results.json",
        samples_path="/runs/bench/samples",
        extra={"seed": 7, "argv": ["spin-bench", "bench"]},
    )
    fields.update(overrides)
    return EvaluationRecord(**fields)


def score_record(task: str = "arc_challenge", metric: str = "acc", filter: str = "none", **overrides) -> ScoreRecord:
    fields = dict(
        task=task,
        metric=metric,
        filter=filter,
        value=0.5,
        stderr=0.01,
        n=100,
        n_shot=25,
        task_config_hash="cfg" + task,
        data_source="hub:allenai/ai2_arc",
        deviations=(),
    )
    fields.update(overrides)
    return ScoreRecord(**fields)


def score_records(count: int) -> list[ScoreRecord]:
    return [score_record(task=f"task{i}", value=i / count) for i in range(count)]


def _count(path: Path, table: str) -> int:
    # Counted with the sqlite3 module directly, so the check does not trust the code under test.
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "store" / "results.db"


@pytest.fixture
def store(db):
    with ResultsStore(db) as opened:
        yield opened


# ------------------------------------------------------------------ round trip and cache


def test_round_trip_of_records_and_path_normalisation(store, tmp_path):
    evaluation = evaluation_record(
        model_path=tmp_path / "model",  # a Path is stored as its string
        limit=0.25,
        judge={"model": "gpt-4", "prompt_hash": "p1"},
        iteration=None,
        chat_template_hash=None,
        samples_path=None,
    )
    scores = [score_record(deviations=["fewer shots"]), score_record(metric="acc_norm", stderr=None)]
    assert evaluation.model_path == str(tmp_path / "model")
    assert store.add(evaluation, scores) is True
    stored, stored_scores = store.lookup("key-1")
    assert stored == evaluation
    assert stored_scores == scores
    assert stored_scores[0].deviations == ("fewer shots",)


def test_lookup_miss_then_hit(store):
    assert store.lookup("key-1") is None
    store.add(evaluation_record(), [score_record()])
    assert store.lookup("key-1") is not None
    assert store.lookup("key-2") is None


def test_adding_the_same_key_twice_keeps_the_first_and_writes_nothing(store, db):
    assert store.add(evaluation_record(), score_records(3)) is True
    assert store.add(evaluation_record(label="someone-else"), score_records(5)) is False
    assert _count(db, "evaluations") == 1
    assert _count(db, "scores") == 3
    assert store.lookup("key-1")[0].label == "spin-iter1"


def test_an_in_memory_store_works_for_throwaway_use():
    with ResultsStore("sqlite://") as store:
        assert store.add(evaluation_record(), score_records(2)) is True
        assert len(store.scores()) == 2


def test_reopening_an_existing_store_sees_its_rows_in_wal_mode(db):
    with ResultsStore(db) as first:
        first.add(evaluation_record(), score_records(2))
    with ResultsStore(str(db)) as again, ResultsStore(f"sqlite:///{db}") as by_url:
        assert again.lookup("key-1") == by_url.lookup("key-1")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "1"


def test_delete_removes_the_evaluation_and_its_scores(store, db):
    store.add(evaluation_record(), score_records(4))
    store.add(evaluation_record("key-2"), score_records(2))
    assert store.delete("key-1") is True
    assert store.delete("key-1") is False
    assert store.lookup("key-1") is None
    assert _count(db, "scores") == 2
    assert store.add(evaluation_record(), score_records(1)) is True  # evaluated again on demand


# ------------------------------------------------------------------ atomicity and bad input


def test_failure_after_the_evaluation_insert_leaves_nothing(store, db, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(_StoreClass, "_insert_scores", staticmethod(explode))
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.add(evaluation_record(), score_records(3))
    monkeypatch.undo()
    assert store.lookup("key-1") is None
    assert _count(db, "evaluations") == 0
    assert store.add(evaluation_record(), score_records(3)) is True  # the failed attempt left no lock and no key


def test_database_error_inside_the_transaction_leaves_nothing(store, db, monkeypatch):
    # Skip validation so the duplicate (task, metric, filter) reaches the database's unique constraint,
    # which fails after the evaluation row was already inserted in the same transaction.
    monkeypatch.setattr("spin_bench.store.results_store.validate", lambda *args: None)
    with pytest.raises(Exception, match="UNIQUE"):
        store.add(evaluation_record(), [score_record(), score_record()])
    assert _count(db, "evaluations") == 0
    assert _count(db, "scores") == 0


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([], "no scores"),
        ([score_record(task="")], "task must be a non-empty string"),
        ([score_record(metric="  ")], "metric must be a non-empty string"),
        ([score_record(value="0.5")], "value must be a number"),
        ([score_record(stderr="N/A")], "pass None"),
        ([score_record(n=-1)], "n must be an integer"),
        ([score_record(n_shot=True)], "n_shot must be an integer"),
        ([score_record(), score_record(value=0.7)], "twice"),
        ([score_record(deviations=(3,))], "deviations must be strings"),
    ],
)
def test_bad_scores_raise_and_write_nothing(store, db, scores, message):
    with pytest.raises(UserError, match=message) as caught:
        store.add(evaluation_record(), scores)
    assert "key-1" in str(caught.value)
    assert _count(db, "evaluations") == 0 and _count(db, "scores") == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"eval_key": ""}, "eval_key must be a non-empty string"),
        ({"label": "x" * 256}, "label is 256 characters long"),
        ({"model_path": None}, "model_path must be"),
        ({"batch_size": 0}, "batch_size"),
        ({"limit": -1}, "limit"),
        ({"limit": math.nan}, "limit"),
        ({"add_bos": "yes"}, "add_bos"),
        ({"extra": {"when": object()}}, "extra is not JSON"),
        ({"judge": {"score": math.inf}}, "judge is not JSON"),
    ],
)
def test_bad_evaluations_raise_and_write_nothing(store, db, overrides, message):
    with pytest.raises(UserError, match=message):
        store.add(evaluation_record(**overrides), [score_record()])
    assert _count(db, "evaluations") == 0


def test_nan_is_stored_as_null_and_read_back_consistently(store, db):
    store.add(evaluation_record(), [score_record(stderr=math.nan), score_record(metric="mcc", value=math.nan, stderr=None)])
    with sqlite3.connect(db) as conn:
        raw = conn.execute("SELECT value, stderr FROM scores ORDER BY id").fetchall()
    assert raw == [(0.5, None), (None, None)]
    _, (first, second) = store.lookup("key-1")
    assert first.stderr is None and second.stderr is None
    assert math.isnan(second.value)
    frame = store.scores()
    assert frame["stderr"].isna().all() and frame["value"].isna().tolist() == [False, True]


# ------------------------------------------------------------------ reading for reports


def fill_for_reports(store: ResultsStore) -> None:
    store.add(evaluation_record("sft", label="sft", iteration=0), [score_record(value=0.40), score_record("gsm8k", value=0.10)])
    store.add(evaluation_record("it1", label="spin-iter1", iteration=1), [score_record(value=0.45), score_record("gsm8k")])
    store.add(evaluation_record("mini", label="spin-iter1", suite="mini", iteration=None), [score_record(value=0.9)])


def test_scores_join_evaluation_columns_and_filter(store):
    fill_for_reports(store)
    frame = store.scores()
    assert len(frame) == 5
    first = frame.iloc[0]
    assert (first["label"], first["eval_key"], first["task"], first["value"]) == ("sft", "sft", "arc_challenge", 0.40)
    assert first["samples_path"] == "/runs/bench/samples" and first["model_hash"] == "abc123"
    assert first["deviations"] == [] and first["extra"] == {"argv": ["spin-bench", "bench"], "seed": 7}
    assert str(frame["iteration"].dtype) == "Int64" and pd.isna(frame["iteration"].iloc[-1])
    assert frame["created_at"].dt.tz is not None

    assert set(store.scores(label="sft")["eval_key"]) == {"sft"}
    assert set(store.scores(labels=["sft", "spin-iter1"])["eval_key"]) == {"sft", "it1", "mini"}
    assert set(store.scores(label="sft", labels=["spin-iter1"], suite="paper")["eval_key"]) == {"sft", "it1"}
    assert store.scores(labels=[]).empty
    gsm = store.scores(suite="paper", task="gsm8k")
    assert gsm["label"].tolist() == ["sft", "spin-iter1"]


def test_frames_keep_their_columns_when_nothing_matches(store):
    fill_for_reports(store)
    assert list(store.scores(task="nope").columns) == list(store.scores().columns)
    assert list(store.evaluations(label="nope").columns) == list(store.evaluations().columns)


def test_evaluations_filter_and_decode(store):
    fill_for_reports(store)
    frame = store.evaluations()
    assert frame["eval_key"].tolist() == ["sft", "it1", "mini"]
    assert frame["add_bos"].dtype == bool and frame["batch_size"].tolist() == [8, 8, 8]
    assert store.evaluations(label="spin-iter1", suite="mini")["eval_key"].tolist() == ["mini"]
    assert str(frame["created_at"].dt.tz) == "UTC"


# ------------------------------------------------------------------ several processes at once


def add_many(path: str, worker: int, barrier) -> None:
    barrier.wait()  # all workers open the (new) store and start writing at the same moment
    with ResultsStore(path) as store:
        for i in range(25):
            assert store.add(evaluation_record(f"w{worker}-e{i}", label=f"w{worker}"), score_records(10))


def add_same(path: str, barrier, outcomes) -> None:
    barrier.wait()
    with ResultsStore(path) as store:
        outcomes.put(store.add(evaluation_record("shared"), score_records(10)))


def run_workers(target, args_for) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    workers = [context.Process(target=target, args=args_for(i, barrier)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]


def test_concurrent_writers_lose_no_row(db):
    run_workers(add_many, lambda i, barrier: (str(db), i, barrier))
    assert _count(db, "evaluations") == 100
    assert _count(db, "scores") == 1000
    with ResultsStore(db) as store:
        assert store.scores(label="w3").groupby("eval_key").size().tolist() == [10] * 25


def test_concurrent_writers_of_one_key_store_it_once(db):
    outcomes = multiprocessing.get_context("spawn").Queue()
    run_workers(add_same, lambda i, barrier: (str(db), barrier, outcomes))
    results = sorted(outcomes.get(timeout=10) for _ in range(4))
    assert results == [False, False, False, True]
    assert _count(db, "evaluations") == 1
    assert _count(db, "scores") == 10


# ------------------------------------------------------------------ stores that cannot be used


def test_a_text_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 20, encoding="utf-8")
    with pytest.raises(UserError, match=r"results store sqlite:///.*notes\.txt: file is not a database") as caught:
        ResultsStore(path)
    assert "\n" not in str(caught.value)
    assert path.read_text(encoding="utf-8") == "not a database\n" * 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(("version", "message"), [(SCHEMA_VERSION + 1, "upgrade spin-bench"), ("x", "not a known")])
def test_an_unknown_schema_version_is_refused(db, version, message):
    ResultsStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    with pytest.raises(UserError, match=f"{db.name}.*schema version '{version}'.*{message}"):
        ResultsStore(db)


def test_a_database_with_our_table_names_but_no_version_is_refused(db):
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE evaluations (whatever TEXT)")
    with pytest.raises(UserError, match="not written by spin-bench"):
        ResultsStore(db)


def test_passwords_never_appear(tmp_path):
    assert shown(make_url("postgresql+psycopg://ann:hunter2@db.example/bench")) == (
        "postgresql+psycopg://ann:***@db.example/bench"
    )
    for url in ("postgresql+nosuchdriver://ann:hunter2@db.example/bench", "nosuch://ann:hunter2@h/d"):
        with pytest.raises(UserError) as caught:
            ResultsStore(url)
        assert "hunter2" not in str(caught.value) and "ann:***@" in str(caught.value)
    with ResultsStore(tmp_path / "x.db") as store:
        assert store.url == f"sqlite:///{tmp_path / 'x.db'}"


@pytest.mark.parametrize("make_target", [lambda tmp: tmp, lambda tmp: tmp / "file.txt" / "results.db"])
def test_an_unopenable_path_is_a_user_error(tmp_path, make_target):
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(UserError, match="cannot open results store sqlite:///"):
        ResultsStore(make_target(tmp_path))
