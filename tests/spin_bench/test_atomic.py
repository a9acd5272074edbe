"""Atomic files and directories, leftovers cleanup, and the content hashes that key the stage cache."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spin_bench.core.atomic import (
    atomic_directory,
    clean_partials,
    write_bytes_atomic,
    write_json_atomic,
    write_parquet_atomic,
    write_text_atomic,
)
from spin_bench.core.hashing import directory_hash, file_sha256, jsonable, stable_hash


def _hidden(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------ files


def test_write_json_atomic_creates_parents_and_leaves_no_partial(tmp_path):
    path = tmp_path / "a" / "b" / "out.json"
    write_json_atomic(path, {"b": 2, "a": [1, Path("x/y")]})
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": [1, "x/y"], "b": 2}
    assert path.read_text(encoding="utf-8").endswith("\n")
    assert list(path.parent.iterdir()) == [path]


def test_write_json_atomic_replaces_an_existing_file(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old contents that are longer than the new ones" * 10, encoding="utf-8")
    write_json_atomic(path, {"new": True})
    assert json.loads(path.read_text(encoding="utf-8")) == {"new": True}
    assert list(tmp_path.iterdir()) == [path]


def test_failed_json_write_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    path = tmp_path / "out.json"
    write_json_atomic(path, {"v": 1})
    with pytest.raises(RuntimeError, match="boom"):
        write_json_atomic(path, {"v": Unprintable()})
    assert json.loads(path.read_text(encoding="utf-8")) == {"v": 1}
    assert list(tmp_path.iterdir()) == [path]


def test_write_text_and_bytes_atomic(tmp_path):
    text_path = tmp_path / "t.txt"
    write_text_atomic(text_path, "héllo\n")
    assert text_path.read_bytes() == "héllo\n".encode()
    bytes_path = tmp_path / "b.bin"
    write_bytes_atomic(bytes_path, b"\x00\xff")
    write_bytes_atomic(bytes_path, b"\x01")
    assert bytes_path.read_bytes() == b"\x01"
    assert _hidden(tmp_path) == []


def test_write_parquet_atomic_from_pandas_replaces_and_leaves_no_partial(tmp_path):
    path = tmp_path / "sub" / "t.parquet"
    write_parquet_atomic(path, pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]}))
    write_parquet_atomic(path, pd.DataFrame({"x": [9], "y": ["z"]}, index=[42]))
    back = pq.read_table(path)
    assert back.to_pylist() == [{"x": 9, "y": "z"}]
    assert back.column_names == ["x", "y"]  # no index column
    assert list(path.parent.iterdir()) == [path]


def test_write_parquet_atomic_from_arrow_keeps_metadata(tmp_path):
    path = tmp_path / "t.parquet"
    table = pa.table({"v": [1.5]}).replace_schema_metadata({b"seconds": b"3.5"})
    write_parquet_atomic(path, table)
    back = pq.read_table(path)
    assert back.to_pylist() == [{"v": 1.5}]
    assert back.schema.metadata[b"seconds"] == b"3.5"
    assert list(tmp_path.iterdir()) == [path]


def test_failed_parquet_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "t.parquet"
    write_parquet_atomic(path, pd.DataFrame({"x": [1]}))
    with pytest.raises(Exception):
        write_parquet_atomic(path, pd.DataFrame({"x": [object()]}))  # not convertible to Arrow
    assert pq.read_table(path).to_pylist() == [{"x": 1}]
    assert list(tmp_path.iterdir()) == [path]


# ------------------------------------------------------------------ directories


def test_atomic_directory_publishes_on_success(tmp_path):
    final = tmp_path / "model"
    with atomic_directory(final) as scratch:
        assert scratch.parent == tmp_path and scratch.name.startswith(".") and scratch.name.endswith(".partial")
        assert not final.exists()  # nothing is visible until the block finishes
        (scratch / "weights.bin").write_bytes(b"w")
        (scratch / "nested").mkdir()
        (scratch / "nested" / "f.txt").write_text("n")
    assert (final / "weights.bin").read_bytes() == b"w"
    assert (final / "nested" / "f.txt").read_text() == "n"
    assert not scratch.exists()
    assert _hidden(tmp_path) == []


def test_atomic_directory_replaces_an_old_directory(tmp_path):
    final = tmp_path / "model"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with atomic_directory(final) as scratch:
        (scratch / "new.txt").write_text("new")
        assert (final / "old.txt").read_text() == "old"  # the old one stays until the swap
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert _hidden(tmp_path) == []  # neither scratch nor the retired old copy is left


def test_atomic_directory_failure_keeps_the_old_directory(tmp_path):
    final = tmp_path / "model"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(RuntimeError, match="inside"):
        with atomic_directory(final) as scratch:
            (scratch / "half.txt").write_text("half")
            raise RuntimeError("inside the block")
    assert sorted(p.name for p in final.iterdir()) == ["old.txt"]
    assert (final / "old.txt").read_text() == "old"
    assert not scratch.exists()
    assert _hidden(tmp_path) == []


def test_atomic_directory_failure_without_an_old_directory(tmp_path):
    final = tmp_path / "deep" / "model"
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(final) as scratch:
            (scratch / "x").write_text("x")
            raise KeyboardInterrupt
    assert not final.exists()
    assert list(final.parent.iterdir()) == []


# ------------------------------------------------------------------ leftovers


def test_clean_partials_removes_leftovers_only(tmp_path):
    (tmp_path / ".pairs.parquet.1a2b3c4d.partial").write_bytes(b"half")
    scratch = tmp_path / ".iter0.deadbeef.partial"
    scratch.mkdir()
    (scratch / "model.safetensors").write_bytes(b"half")
    retired = tmp_path / ".iter1.cafebabe.retired"
    retired.mkdir()
    (retired / "old").write_text("old")
    keep = ["keep.json", "partial", "x.partial", ".hidden", "iter0"]
    for name in keep[:-1]:
        (tmp_path / name).write_text("k")
    (tmp_path / "iter0").mkdir()
    nested = tmp_path / "iter0" / ".inner.12345678.partial"  # only the given directory is cleaned
    nested.write_text("n")

    clean_partials(tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)
    assert nested.exists()


def test_clean_partials_on_a_missing_directory_is_a_no_op(tmp_path):
    clean_partials(tmp_path / "absent")
    assert not (tmp_path / "absent").exists()


def test_clean_partials_after_a_killed_atomic_directory(tmp_path):
    final = tmp_path / "out"
    context = atomic_directory(final)
    scratch = context.__enter__()  # simulate a kill: the block never exits
    (scratch / "f").write_text("x")
    assert scratch.exists()
    clean_partials(tmp_path)
    assert not scratch.exists()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ hashes


class Mode(enum.Enum):
    A = "a"
    B = "b"


@dataclass(frozen=True)
class Config:
    lr: float
    mode: Mode
    where: Path


def test_stable_hash_ignores_dict_ordering():
    one = {"a": 1, "b": {"x": [1, 2], "y": None}, "c": "s"}
    two = {"c": "s", "b": {"y": None, "x": [1, 2]}, "a": 1}
    assert stable_hash(one) == stable_hash(two)
    assert len(stable_hash(one)) == 16
    assert len(stable_hash(one, length=64)) == 64
    assert stable_hash(one, length=64).startswith(stable_hash(one))


def test_stable_hash_is_a_fixed_function():
    # sha256 of the canonical JSON '{"a":1}' (a fixed value, so the cache keys survive across processes).
    assert stable_hash({"a": 1}, length=64) == "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ({"a": 1}, {"a": 2}),
        ({"a": 1}, {"b": 1}),
        ({"a": [1, 2]}, {"a": [2, 1]}),
        ({"a": 1}, {"a": "1"}),
        ({"a": 1.0}, {"a": 1.5}),
        ({"a": None}, {}),
        ([1, 2], [1, 2, 3]),
    ],
)
def test_stable_hash_differs_for_different_values(left, right):
    assert stable_hash(left) != stable_hash(right)


def test_stable_hash_of_dataclasses_enums_and_paths():
    config = Config(lr=0.1, mode=Mode.A, where=Path("a/b"))
    assert jsonable(config) == {"lr": 0.1, "mode": "a", "where": "a/b"}
    assert stable_hash(config) == stable_hash({"where": "a/b", "mode": "a", "lr": 0.1})
    assert stable_hash(config) != stable_hash(Config(lr=0.1, mode=Mode.B, where=Path("a/b")))
    assert stable_hash((1, 2)) == stable_hash([1, 2])


def _checkpoint(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "model.safetensors").write_bytes(b"weights-v1")
    (directory / "config.json").write_text('{"hidden": 4}')
    (directory / "tokenizer.json").write_text("{}")
    (directory / "metrics.json").write_text('{"loss": 1.0}')
    return directory


def test_directory_hash_ignores_metrics_but_not_weights(tmp_path):
    directory = _checkpoint(tmp_path / "ckpt")
    before = directory_hash(directory)
    assert len(before) == 16

    (directory / "metrics.json").write_text('{"loss": 0.5}')
    (directory / "timings.json").write_text("{}")
    (directory / "stage.json").write_text('{"key": "k"}')
    assert directory_hash(directory) == before

    (directory / "model.safetensors").write_bytes(b"weights-v2")
    changed = directory_hash(directory)
    assert changed != before

    (directory / "model.safetensors").write_bytes(b"weights-v1")
    assert directory_hash(directory) == before


def test_directory_hash_sees_configs_new_shards_and_names(tmp_path):
    directory = _checkpoint(tmp_path / "ckpt")
    before = directory_hash(directory)
    (directory / "config.json").write_text('{"hidden": 8}')
    assert directory_hash(directory) != before
    (directory / "config.json").write_text('{"hidden": 4}')
    assert directory_hash(directory) == before

    (directory / "model-00002.safetensors").write_bytes(b"more")
    assert directory_hash(directory) != before
    (directory / "model-00002.safetensors").unlink()

    (directory / "model.safetensors").rename(directory / "renamed.safetensors")
    assert directory_hash(directory) != before


def test_directory_hash_depends_on_content_not_location(tmp_path):
    one = _checkpoint(tmp_path / "one")
    two = _checkpoint(tmp_path / "two")
    (two / "metrics.json").write_text("different")
    assert directory_hash(one) == directory_hash(two)


def test_file_sha256(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert file_sha256(path, chunk_size=1) == file_sha256(path)
