"""The results store as a cache: an identical request does no model work; a changed checkpoint or config
is evaluated again; two evaluations writing to one store at once lose nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.conftest import evaluate

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_second_identical_call_comes_from_the_store(tiny_sft_model, tmp_path, monkeypatch):
    store = tmp_path / "store.db"
    first = evaluate([tiny_sft_model], ("openbookqa", None), store, tmp_path, limit=4)
    assert [o.cached for o in first] == [False]

    import spin_bench.bench.evaluate as evaluate_module

    def no_model_work(*args, **kwargs):
        raise AssertionError("a cached evaluation must not load the model")

    monkeypatch.setattr(evaluate_module, "build_lm", no_model_work)
    second = evaluate([tiny_sft_model], ("openbookqa", None), store, tmp_path, limit=4)
    assert [o.cached for o in second] == [True]
    assert [(s.task, s.metric, s.value) for s in second[0].scores] == [(s.task, s.metric, s.value) for s in first[0].scores]


def test_changed_checkpoint_or_settings_are_evaluated_again(tiny_sft_model, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from spin_bench.store import ResultsStore

    store = tmp_path / "store.db"
    evaluate([tiny_sft_model], ("openbookqa", None), store, tmp_path, limit=4)
    changed_limit = evaluate([tiny_sft_model], ("openbookqa", None), store, tmp_path, limit=3)
    assert [o.cached for o in changed_limit] == [False]

    edited = tmp_path / "edited"
    shutil.copytree(tiny_sft_model, edited)
    weights = load_file(str(edited / "model.safetensors"))
    name = next(iter(weights))
    weights[name] = weights[name] + 0.01 * torch.ones_like(weights[name])
    save_file(weights, str(edited / "model.safetensors"), metadata={"format": "pt"})
    changed_model = evaluate([edited], ("openbookqa", None), store, tmp_path, limit=4)
    assert [o.cached for o in changed_model] == [False]
    assert len(ResultsStore(store).evaluations()) == 3


def test_concurrent_evaluations_into_one_store_lose_no_row(tiny_sft_model, tmp_path):
    from spin_bench.store import ResultsStore

    store = tmp_path / "store.db"
    procs = [
        subprocess.Popen([sys.executable, "-m", "spin_bench", "eval", "--model", str(tiny_sft_model), "--label",
                          f"copy{i}", "--suite", "openbookqa", "--data", "embedded", "--limit", str(3 + i),
                          "--store", str(store), "--out", str(tmp_path / f"out{i}")],
                         cwd=REPO, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
    evaluations = ResultsStore(store).evaluations()
    assert sorted(evaluations["label"]) == ["copy0", "copy1", "copy2"]
    assert len(ResultsStore(store).scores()) == 3 * len(ResultsStore(store).scores(label="copy0"))


def test_a_new_label_for_stored_content_gets_rows_without_model_work(tiny_sft_model, tmp_path, monkeypatch):
    from spin_bench.store import ResultsStore

    store = tmp_path / "store.db"
    first = evaluate([tiny_sft_model], ("openbookqa", None), store, tmp_path, limit=4)

    import spin_bench.bench.evaluate as evaluate_module

    monkeypatch.setattr(evaluate_module, "build_lm", lambda *a, **k: pytest.fail("no model work for a new label"))
    nightly = evaluate([tiny_sft_model], ("openbookqa", None), store, tmp_path, limit=4, label="nightly-2026-11-22")
    assert [o.cached for o in nightly] == [True]
    scores = ResultsStore(store).scores()
    assert set(scores["label"]) == {"sft", "nightly-2026-11-22"}
    by_label = {label: sorted(frame["value"]) for label, frame in scores.groupby("label")}
    assert by_label["sft"] == by_label["nightly-2026-11-22"] == sorted(s.value for s in first[0].scores)


def _perturbed_copy(model, directory):
    import torch
    from safetensors.torch import load_file, save_file

    shutil.copytree(model, directory)
    weights = load_file(str(directory / "model.safetensors"))
    name = next(iter(weights))
    weights[name] = weights[name] + 0.01 * torch.ones_like(weights[name])
    save_file(weights, str(directory / "model.safetensors"), metadata={"format": "pt"})
    return directory


def test_a_model_after_another_scores_as_it_does_alone(tiny_sft_model, tmp_path, caplog):
    """Tasks loaded once per call, and the requests (few-shot contexts) the first model built reused by the
    second: the second model's stored scores and per-document logs equal those of a call that scores it
    alone. Without a limit, so lm-eval's request cache is on; 25-shot ARC, a generation task and a group."""
    import logging

    from spin_bench.store import ResultsStore

    other = _perturbed_copy(tiny_sft_model, tmp_path / "other")
    suites = ("leaderboard", "arc_challenge,gsm8k_v040,mmlu")
    with caplog.at_level(logging.INFO, logger="lm_eval.api.task"):
        evaluate([tiny_sft_model, other], suites, tmp_path / "pair.db", tmp_path / "pair", max_gen_toks=4)
    built = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Building contexts for")]
    assert len(built) == len(set(built)) > 0, built  # each task's requests were built once, for the first model
    evaluate([other], suites, tmp_path / "alone.db", tmp_path / "alone", max_gen_toks=4)

    def logs_and_scores(store):
        scores = ResultsStore(store).scores(label="other")
        [samples] = ResultsStore(store).evaluations(label="other")["samples_path"].unique()
        # samples_<task>_<date>.jsonl: keyed by the task, the date differs between the calls
        files = {p.name.rsplit("_", 1)[0]: p.read_text() for p in sorted(Path(samples).glob("samples_*.jsonl"))}
        rows = zip(scores.task, scores.metric, scores["filter"], map(repr, scores.value), strict=True)  # NaN == NaN
        return sorted(rows), files

    pair_scores, pair_files = logs_and_scores(tmp_path / "pair.db")
    alone_scores, alone_files = logs_and_scores(tmp_path / "alone.db")
    assert pair_scores == alone_scores and len(pair_scores) > 0
    assert pair_files.keys() == alone_files.keys() and len(pair_files) >= 3
    for name, text in pair_files.items():
        assert text == alone_files[name], name


def test_stored_scores_do_not_depend_on_where_files_live_or_what_was_scored_beside(
        tiny_sft_model, tmp_path, monkeypatch):
    """The same model on the same data, evaluated once with another suite beside it under one cache root and
    again alone under another (the data and task files at other paths): the second call is served from the
    store, and a forced re-evaluation stores the same task config hash and data identity, so `compare`
    finds the two comparable. Both used to hash absolute paths."""
    from spin_bench.store import ResultsStore

    store = tmp_path / "store.db"
    monkeypatch.setenv("SPIN_BENCH_CACHE", str(tmp_path / "cache-a"))
    first = evaluate([tiny_sft_model], ("leaderboard,openbookqa", "arc_challenge,openbookqa"), store, tmp_path,
                     limit=4)
    assert [o.cached for o in first] == [False, False]
    monkeypatch.setenv("SPIN_BENCH_CACHE", str(tmp_path / "cache-b"))
    alone = ("leaderboard", "arc_challenge")
    import spin_bench.bench.evaluate as evaluate_module

    real_build_lm = evaluate_module.build_lm
    monkeypatch.setattr(evaluate_module, "build_lm", lambda *a, **k: pytest.fail("no model work for stored scores"))
    assert [o.cached for o in evaluate([tiny_sft_model], alone, store, tmp_path, limit=4)] == [True]
    monkeypatch.setattr(evaluate_module, "build_lm", real_build_lm)
    forced = evaluate([tiny_sft_model], alone, store, tmp_path, limit=4, label="again", force=True)
    assert [o.cached for o in forced] == [False]
    scores = ResultsStore(store).scores()
    arc = scores[scores.task == "arc_challenge"]
    assert set(arc.label) == {"sft", "again"}
    assert arc.task_config_hash.nunique() == 1 and arc.data_source.nunique() == 1
    assert arc.data_source.iloc[0].startswith("embedded@")
    assert str(tmp_path) not in arc.data_source.iloc[0]
