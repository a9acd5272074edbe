"""What a converter hands back for one task, and how it lands on disk as parquet plus a manifest entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from spin_bench.core.atomic import write_parquet_atomic
from spin_bench.core.hashing import file_sha256
from spin_bench.data.archives import Archive
from spin_bench.data.schemas import check_rows
from spin_bench.data.sources import Source


@dataclass
class TaskData:
    """One benchmark's converted splits and everything the manifest must say about them."""

    key: str  # output directory relative to the data dir, and the manifest key (e.g. "bbh/causal_judgement")
    benchmark: str  # the name a report should print
    kind: str  # schema name in spin_bench.data.schemas
    licence: str
    lm_eval: dict[str, Any]  # task name and the splits an override YAML should point at
    files: dict[str, pa.Table] = field(default_factory=dict)  # "test", "abstract_algebra/dev", ... -> rows
    members: list[str] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    allowed_targets: tuple[str, ...] = ()


def split_name(stem: str) -> str:
    """MMLU keeps one folder per subject; the split is the last path component either way."""
    return stem.rsplit("/", 1)[-1]


def row_counts(files: dict[str, pa.Table]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for stem, table in files.items():
        counts[split_name(stem)] = counts.get(split_name(stem), 0) + table.num_rows
    return counts


def write_task(task: TaskData, root: Path, source: Source, archive: Archive) -> dict[str, Any]:
    """Check every row, write one parquet per split under ``root/task.key``, return the manifest entry."""
    files: dict[str, dict[str, Any]] = {}
    for stem, table in sorted(task.files.items()):
        check_rows(table, task.kind, f"{task.key}/{stem}.parquet", task.allowed_targets)
        path = root / task.key / f"{stem}.parquet"
        write_parquet_atomic(path, table)
        files[f"{stem}.parquet"] = {"rows": table.num_rows, "sha256": file_sha256(path)}
    return {
        "benchmark": task.benchmark,
        "dir": task.key,
        "source": {"key": source.key, "package": source.package, "version": source.version,
                   "file": source.filename, "sha256": source.sha256},
        "members": [{"path": member, "sha256": archive.members_read[member]} for member in task.members],
        "licence": task.licence,
        "splits": row_counts(task.files),
        "files": files,
        "columns": next(iter(task.files.values())).column_names,
        "lm_eval": task.lm_eval,
        "deviations": list(task.deviations),
        "notes": list(task.notes),
    }
