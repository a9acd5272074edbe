"""Atomic writes: a crash (even kill -9) never leaves a half-written file that a rerun would trust.

Everything is written to a hidden sibling first and moved into place with os.replace, which is atomic
on POSIX when both paths are on the same filesystem.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _partial_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")


def write_bytes_atomic(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial_sibling(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, payload: Any) -> None:
    from spin_bench.core.hashing import jsonable

    write_text_atomic(path, json.dumps(jsonable(payload), indent=2, sort_keys=True, default=str) + "\n")


def write_parquet_atomic(path: Path, frame: Any) -> None:
    """Write a pandas DataFrame or pyarrow Table as Parquet, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial_sibling(path)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """Yield a scratch directory that replaces ``final`` only if the block finishes without error.

    An existing ``final`` is moved aside first and deleted after the swap, so at every instant either the
    old complete directory or the new complete one is in place (never a mix). Leftover scratch directories
    from a killed run are hidden (dot-prefixed) and removed by :func:`clean_partials`.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.partial")
    scratch.mkdir()
    try:
        yield scratch
        publish_directory(scratch, final)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)


def publish_directory(scratch: Path, final: Path) -> None:
    """Move a finished scratch directory to ``final``, replacing an older ``final`` without a gap."""
    if final.exists():
        retired = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.retired")
        os.replace(final, retired)
        os.replace(scratch, final)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(scratch, final)


def clean_partials(directory: Path) -> None:
    """Remove scratch files and directories that a killed run left behind in ``directory``."""
    if not directory.is_dir():
        return
    for leftover in directory.glob(".*.partial"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    for leftover in directory.glob(".*.retired"):
        shutil.rmtree(leftover, ignore_errors=True)
