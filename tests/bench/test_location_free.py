"""Task configs as cache keys and stored task config hashes: the same tasks on the same data hash the same
wherever the files live, and differently when what a task is changes."""

from __future__ import annotations

from pathlib import Path

from spin_bench.bench.scores import _config_hash
from spin_bench.bench.taskdir import BenchData, lm_eval_tasks_dir, location_free

MANIFEST = {"sources": {"embedded": {"world_seed": 0}},
            "tasks": {"arc_challenge": {"files": {"test.parquet": {"rows": 2, "sha256": "ab"}}}}}


def _lm_eval_echo(data_root: Path, task_root: Path, test_file: str = "test.parquet") -> dict:
    """What lm-eval writes under results["configs"] for one of our tasks (abridged)."""
    return {"task": "spin_arc_challenge", "dataset_path": "parquet", "num_fewshot": 25,
            "dataset_kwargs": {"data_files": {"test": str(data_root / "arc_challenge" / test_file)}},
            "metadata": {"version": 1.0, "config_source": str(task_root / "spin_arc_challenge.yaml")}}


def test_the_same_task_hashes_the_same_under_other_cache_roots_and_task_folders(tmp_path: Path):
    here = BenchData(tmp_path / "a" / "embedded-bench" / "k1", MANIFEST)
    there = BenchData(tmp_path / "b" / "cache" / "embedded-bench" / "k1", MANIFEST)
    echo_here = _lm_eval_echo(here.directory, tmp_path / "a" / "lm-eval-tasks" / "suites-1")
    echo_there = _lm_eval_echo(there.directory, tmp_path / "b" / "lm-eval-tasks" / "suites-2")
    assert echo_here != echo_there
    assert _config_hash(echo_here, here) == _config_hash(echo_there, there)
    assert here.identity == there.identity == f"embedded@{here.content_hash()}"
    # What a task is still counts: another file of the data directory is another task.
    other = _lm_eval_echo(here.directory, tmp_path / "a" / "lm-eval-tasks" / "suites-1", "validation.parquet")
    assert _config_hash(other, here) != _config_hash(echo_here, here)


def test_our_configs_name_lm_eval_yaml_relative_to_its_task_folder(tmp_path: Path):
    data = BenchData(tmp_path / "data", MANIFEST)
    include = lm_eval_tasks_dir() / "arc" / "arc_challenge.yaml"
    config = {"include": str(include), "dataset_kwargs": {"data_files": {"test": str(data.directory / "x.parquet")}}}
    assert location_free(config, data) == {"include": "<lm_eval>/tasks/arc/arc_challenge.yaml",
                                           "dataset_kwargs": {"data_files": {"test": "<data>/x.parquet"}}}
    # A path outside both roots (a user's own data file given to a task) is kept as it is.
    assert location_free({"x": "/elsewhere/file.parquet"}, data) == {"x": "/elsewhere/file.parquet"}


def test_data_identity_changes_with_the_data(tmp_path: Path):
    changed = {**MANIFEST, "tasks": {"arc_challenge": {"files": {"test.parquet": {"rows": 2, "sha256": "cd"}}}}}
    assert BenchData(tmp_path, MANIFEST).identity != BenchData(tmp_path, changed).identity
    assert BenchData(None, None).identity == "hub"
