"""The results store as a cache: an identical request does no model work; a changed checkpoint or config
is evaluated again; two evaluations writing to one store at once lose nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

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
