"""Bad input to `spin-bench eval`: one line naming what is wrong, exit 2, nothing written to the store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[2]


def _eval(tmp_path, *arguments):
    store = tmp_path / "store.db"
    result = subprocess.run([sys.executable, "-m", "spin_bench", "eval", "--store", str(store),
                             "--out", str(tmp_path / "out"), *arguments],
                            cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=300)
    return result, store


def _assert_clean_failure(result, store, *needles):
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("spin-bench: error:"), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[-1], lines[-1]
    if store.exists():
        from spin_bench.store import ResultsStore

        assert ResultsStore(store).evaluations().empty


def test_missing_data_directory(tmp_path, tiny_sft_model):
    missing = tmp_path / "nowhere"
    result, store = _eval(tmp_path, "--model", str(tiny_sft_model), "--data", str(missing))
    _assert_clean_failure(result, store, str(missing), "data pull")


def test_data_file_in_the_wrong_schema(tmp_path, tiny_sft_model, embedded_data_dir):
    broken = tmp_path / "data"
    shutil.copytree(embedded_data_dir, broken)
    path = broken / "openbookqa" / "test.parquet"
    pq.write_table(pq.read_table(path).drop(["question_stem"]), path)
    result, store = _eval(tmp_path, "--model", str(tiny_sft_model), "--suite", "openbookqa", "--data", str(broken))
    _assert_clean_failure(result, store, str(path), "question_stem")


@pytest.mark.parametrize(("flag", "value", "needle"), [("--suite", "leaderbord", "leaderbord"),
                                                       ("--tasks", "arc_challange", "arc_challange")])
def test_unknown_suite_or_task(tmp_path, tiny_sft_model, flag, value, needle):
    result, store = _eval(tmp_path, "--model", str(tiny_sft_model), flag, value, "--data", "embedded")
    _assert_clean_failure(result, store, needle)


def test_model_path_that_is_not_a_model(tmp_path):
    not_a_model = tmp_path / "empty-dir"
    not_a_model.mkdir()
    result, store = _eval(tmp_path, "--model", str(not_a_model), "--data", "embedded")
    _assert_clean_failure(result, store, str(not_a_model), "not a model")


@pytest.mark.parametrize(("text", "needle"), [("{not json", "not valid JSON"), ("[1]", "expected a JSON object"),
                                              ('{"recipe": "r"}', "no 'checkpoints'")])
def test_run_directory_with_a_bad_run_json(tmp_path, text, needle):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(text, encoding="utf-8")
    result, store = _eval(tmp_path, "--model", str(run), "--data", "embedded")
    _assert_clean_failure(result, store, str(run / "run.json"), needle)
    assert not store.exists()
