"""Bad input through the real `spin-bench train` command: exit 2, one `spin-bench: error:` line, no traceback,
and no model, pairs or baseline outputs left in the run directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from spin_bench.recipe import builtin_recipes
from tests.conftest import TINY_OVERRIDES

TIMEOUT = 300


def _train(tmp_path: Path, recipe: str, *overrides: str, out: Path | None = None) -> tuple[subprocess.CompletedProcess,
                                                                                            Path]:
    out = out or tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "spin_bench", "train", "--recipe", recipe, "--out", str(out), *overrides],
        capture_output=True, text=True, env=os.environ.copy(), cwd=tmp_path, timeout=TIMEOUT,
    )
    return result, out


def _error_line(result: subprocess.CompletedProcess) -> str:
    """Check the failure contract and return the error line."""
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 2, output
    assert "Traceback" not in result.stderr, output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, output
    last = lines[-1]
    assert last.startswith("spin-bench: error: "), output
    return last


def _assert_no_outputs(out: Path) -> None:
    """No model directories, pairs or baselines; a recipe.yaml (and empty bookkeeping folders) is fine."""
    if not out.exists():
        return
    assert not [p.name for p in out.glob("iter*")]
    assert not (out / "run.json").exists()
    assert not (out / "monitor").exists()
    if (out / "pairs").exists():
        assert not list((out / "pairs").glob("iter*"))
    if (out / "baselines").exists():
        assert not list((out / "baselines").iterdir())


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _good_row(i: int) -> dict:
    prompt = f"Question {i}?"
    return {"prompt": prompt, "prompt_id": f"q{i}",
            "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": f"Answer {i}."}]}


# ------------------------------------------------------------------ recipe errors


def test_recipe_file_with_an_unknown_key(tmp_path):
    raw = yaml.safe_load(builtin_recipes()["embedded"].read_text(encoding="utf-8"))
    raw["generation"]["max_new_tokenz"] = 12
    recipe = tmp_path / "typo.yaml"
    recipe.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    result, out = _train(tmp_path, str(recipe))
    line = _error_line(result)
    assert str(recipe) in line
    assert "generation.max_new_tokenz" in line
    _assert_no_outputs(out)


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("training.epochs=-1", ("training", "epochs must be > 0")),
        ("generation.do_sample=3", ("generation.do_sample",)),
        ("spin.loss=sigmoid", ("spin.loss", "logistic")),
        ("spin.iterations.0.betta=1", ("spin.iterations.0.betta",)),
        ("spin.iterations.9.beta=1", ("spin.iterations.9",)),
        ("training.epochs", ("'training.epochs'", "key.sub=value")),
    ],
)
def test_bad_override(tmp_path, override, words):
    result, out = _train(tmp_path, "embedded", override)
    line = _error_line(result)
    for word in words:
        assert word in line
    _assert_no_outputs(out)


def test_nonexistent_recipe_name(tmp_path):
    result, out = _train(tmp_path, "no-such-recipe")
    line = _error_line(result)
    assert "no-such-recipe" in line
    _assert_no_outputs(out)


def test_nonexistent_recipe_file(tmp_path):
    missing = tmp_path / "missing.yaml"
    result, out = _train(tmp_path, str(missing))
    assert str(missing) in _error_line(result)
    _assert_no_outputs(out)


def test_override_value_that_is_not_yaml(tmp_path):
    result, out = _train(tmp_path, "embedded", "generation.max_new_tokens=[1, 2")
    assert "generation.max_new_tokens" in _error_line(result)
    _assert_no_outputs(out)


# ------------------------------------------------------------------ data errors (before any model work)


def test_spin_data_path_that_does_not_exist(tmp_path):
    missing = tmp_path / "path" / "missing.jsonl"
    result, out = _train(tmp_path, "embedded", f"spin_data.source={missing}")
    line = _error_line(result)
    assert str(missing) in line and "no such file" in line
    _assert_no_outputs(out)


def test_sft_data_path_that_does_not_exist(tmp_path):
    missing = tmp_path / "missing.parquet"
    result, out = _train(tmp_path, "embedded", f"sft_data.source={missing}")
    assert str(missing) in _error_line(result)
    _assert_no_outputs(out)


def test_jsonl_with_a_missing_column(tmp_path):
    data = _write_jsonl(tmp_path / "nocol.jsonl", [_good_row(0), _good_row(1), {"prompt": "Question 2?"}])
    result, out = _train(tmp_path, "embedded", f"spin_data.source={data}", "spin_data.num_samples=null")
    line = _error_line(result)
    assert str(data) in line and "row 3" in line and "missing column(s) messages" in line
    _assert_no_outputs(out)


def test_jsonl_with_non_utf8_bytes(tmp_path):
    data = tmp_path / "latin1.jsonl"
    good = json.dumps(_good_row(0)).encode()
    bad = json.dumps(_good_row(1)).encode().replace(b"Answer 1.", b"R\xe9ponse")
    data.write_bytes(good + b"\n" + bad + b"\n")
    result, out = _train(tmp_path, "embedded", f"spin_data.source={data}", "spin_data.num_samples=null")
    line = _error_line(result)
    assert str(data) in line and "line 2" in line and "UTF-8" in line
    _assert_no_outputs(out)


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.parquet"])
def test_empty_file(tmp_path, name):
    data = tmp_path / name
    data.write_bytes(b"")
    result, out = _train(tmp_path, "embedded", f"spin_data.source={data}")
    line = _error_line(result)
    assert str(data) in line
    _assert_no_outputs(out)


def test_num_samples_larger_than_the_data(tmp_path):
    data = _write_jsonl(tmp_path / "two.jsonl", [_good_row(0), _good_row(1)])
    result, out = _train(tmp_path, "embedded", f"spin_data.source={data}", "spin_data.num_samples=5")
    line = _error_line(result)
    assert str(data) in line and "num_samples=5" in line
    _assert_no_outputs(out)


def test_preference_data_with_a_missing_column(tmp_path):
    data = _write_jsonl(tmp_path / "prefs.jsonl", [{"prompt": "Q?", "chosen": "a", "rejected": "b"},
                                                   {"prompt": "R?", "chosen": "c"}])
    result, out = _train(tmp_path, "embedded", f"baselines.dpo.data.source={data}", "baselines.dpo.data.num_samples=1")
    line = _error_line(result)
    assert str(data) in line and "row 2" in line and "missing column(s) rejected" in line
    _assert_no_outputs(out)


def test_heldout_prompt_mismatch(tmp_path):
    row = _good_row(0)
    row["prompt"] = "Something else?"
    data = _write_jsonl(tmp_path / "heldout.jsonl", [_good_row(1), row])
    result, out = _train(tmp_path, "embedded", f"heldout_data.source={data}", "heldout_data.num_samples=1")
    line = _error_line(result)
    assert str(data) in line and "row 2" in line and "prompt does not match" in line
    _assert_no_outputs(out)


# ------------------------------------------------------------------ prompt longer than max_length (needs the model)


@pytest.fixture(scope="module")
def max_length_run(tiny_sft_model, tmp_path_factory):
    """One `train` with a max_length no prompt fits, on the cached tiny model (the cache key must match)."""
    assert tiny_sft_model.is_dir()
    tmp_path = tmp_path_factory.mktemp("max-length")
    return _train(tmp_path, "embedded", *TINY_OVERRIDES, "training.max_length=8")


@pytest.mark.slow
def test_prompt_longer_than_max_length(max_length_run):
    result, out = max_length_run
    line = _error_line(result)
    assert "Building the embedded model" not in result.stdout  # the fixture's model was reused
    assert "embedded:spin" in line and "row " in line
    assert "training.max_length=8" in line
    # The check runs before the opponent generates anything: no pairs, no models.
    _assert_no_outputs(out)


# ------------------------------------------------------------------ the run directory


@pytest.mark.parametrize("command", ["train", "run", "ablate"])
def test_out_that_is_a_file_fails_before_any_work(tmp_path, command):
    """An existing regular file as --out: one line naming it, before the SFT model is built."""
    file = tmp_path / "not-a-dir"
    file.write_text("keep me", encoding="utf-8")
    cache = tmp_path / "cache"
    extra = ["--study", "loss"] if command == "ablate" else []
    result = subprocess.run(
        [sys.executable, "-m", "spin_bench", command, "--recipe", "embedded", "--out", str(file), *extra,
         *TINY_OVERRIDES], capture_output=True, text=True, env={**os.environ, "SPIN_BENCH_CACHE": str(cache)},
        cwd=tmp_path, timeout=TIMEOUT)
    line = _error_line(result)
    assert str(file) in line and "not a directory" in line
    assert file.read_text(encoding="utf-8") == "keep me"
    assert not cache.exists()  # no embedded model was built: nothing was done
