"""Per-document scores of one evaluation, read from lm-eval's per-sample logs.

An evaluation's ``samples_path`` is a directory of ``samples_<lmeval_task>_<timestamp>.jsonl`` files, one
line per (document, filter) with the per-document value of every metric. Paired tests need those values,
keyed so that two evaluations line up only on identical documents: the key holds ``doc_hash`` as well as
``doc_id``, so a changed dataset or a different ``limit`` never pairs two different questions.

Two kinds of failure are told apart, because a report says different things about them: the logs were
never recorded or are gone (:class:`NoSampleLogs`), or a file is there but is not what lm-eval writes
(:class:`CorruptSampleLogs`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import TypeVar

from spin_bench.bench.taskdir import MMLU_GROUP
from spin_bench.core.errors import UserError

# (doc_id, doc_hash) for a task; (subject, doc_id, doc_hash) for MMLU, whose subjects each count doc_id from 0.
DocKey = tuple[Hashable, ...]
T = TypeVar("T")

# lm-eval's date_id is datetime.isoformat() with ":" replaced by "-"; the task name itself may contain "_".
_SAMPLES_FILE = re.compile(r"^samples_(?P<task>.+)_(?P<stamp>\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(?:\.\d+)?)\.jsonl$")


class SampleLogError(UserError):
    """Per-document scores of an evaluation cannot be read; the subclass says why."""


class NoSampleLogs(SampleLogError):
    """No per-sample log to read: none recorded, the directory is gone, or no file (or no line under the
    metric's filter) for the task."""


class CorruptSampleLogs(SampleLogError):
    """A samples file is there but is not an lm-eval per-sample log (bad JSON, no doc_id or metric, a
    non-finite value, a document twice)."""


def load_doc_scores(samples_path: str | Path | None, task: str, metric: str, filter: str) -> dict[DocKey, float]:
    """doc key -> per-document ``metric`` under ``filter`` for spin-bench task ``task`` (e.g. "arc_challenge").

    "mmlu" is the concatenation of its subject files, each key prefixed by the subject, so that its mean
    is lm-eval's size-weighted group accuracy.

    Raises:
        NoSampleLogs: no samples_path, no such directory, or no file for the task in it.
        CorruptSampleLogs: a file that is not an lm-eval per-sample log.
    """
    return _scan(samples_path, task, filter, lambda row, where: _value(row, metric, where))


def load_doc_rows(samples_path: str | Path | None, task: str, filter: str,
                  keys: Iterable[DocKey]) -> dict[DocKey, dict]:
    """doc key -> the whole sample line (doc, target, arguments, resps, filtered_resps) of each of ``keys``.

    The keys are those :func:`load_doc_scores` gives for the same logs, so a document picked from a paired
    test (a flipped item) is read back from the very line that was scored. Only the wanted lines are kept:
    a line holds the full few-shot prompt of every choice. Raises as :func:`load_doc_scores` does.
    """
    wanted = set(keys)
    in_file = {key[-2:] for key in wanted}  # (doc_id, doc_hash): an MMLU key adds the subject in front
    found = _scan(samples_path, task, filter, lambda row, where: row if _file_key(row) in in_file else None)
    return {key: row for key, row in found.items() if key in wanted}


def _scan(samples_path: str | Path | None, task: str, filter: str, take: Callable[[dict, str], T]) -> dict[DocKey, T]:
    """doc key -> ``take(line, where)`` for every line of the task's logs under ``filter``."""
    directory = _samples_directory(samples_path, task)
    files = sample_files(directory)
    if task == "mmlu":
        prefix = f"{MMLU_GROUP}_"
        subjects = {name: path for name, path in files.items() if name.startswith(prefix)}
        if not subjects:
            raise NoSampleLogs(f"no MMLU subject samples (samples_{prefix}<subject>_<timestamp>.jsonl) in {directory}")
        scores: dict[DocKey, T] = {}
        for name, path in sorted(subjects.items()):
            subject = name.removeprefix(prefix)
            for (doc_id, doc_hash), value in _read_file(path, filter, take).items():
                scores[(subject, doc_id, doc_hash)] = value
        return scores
    lmeval_task = f"spin_{task}"
    if lmeval_task not in files:
        raise NoSampleLogs(
            f"no per-sample log for task {task!r} in {directory}: expected samples_{lmeval_task}_<timestamp>.jsonl "
            "(was it evaluated with per-sample logging?)"
        )
    return _read_file(files[lmeval_task], filter, take)


def _samples_directory(samples_path: str | Path | None, task: str) -> Path:
    # A store frame holds a missing path as None or NaN (pandas fills object columns with NaN).
    if samples_path is None or (isinstance(samples_path, float) and samples_path != samples_path):
        raise NoSampleLogs(f"the evaluation of {task!r} recorded no samples_path: it has no per-sample logs to compare")
    directory = Path(samples_path)
    if not directory.is_dir():
        raise NoSampleLogs(f"samples directory {directory} of task {task!r} does not exist (moved or deleted?)")
    return directory


def sample_files(directory: Path) -> dict[str, Path]:
    """lm-eval task name -> its newest samples file in ``directory`` (timestamps sort as text)."""
    newest: dict[str, tuple[str, Path]] = {}
    for path in directory.iterdir():
        match = _SAMPLES_FILE.match(path.name)
        if match is None:
            continue
        task, stamp = match["task"], match["stamp"]
        if task not in newest or stamp > newest[task][0]:
            newest[task] = (stamp, path)
    return {task: path for task, (_, path) in newest.items()}


def _read_file(path: Path, filter: str, take: Callable[[dict, str], T]) -> dict[tuple[int, str], T]:
    taken: dict[tuple[int, str], T] = {}
    filters_seen: set[str] = set()
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        row = _parse(line, where)
        filters_seen.add(str(row.get("filter")))
        if row.get("filter") != filter:
            continue
        key = _file_key(row)
        if key in taken:
            raise CorruptSampleLogs(f"{where}: document {key[0]} appears twice under filter {filter!r}")
        taken[key] = take(row, where)
    if not taken:
        seen = ", ".join(sorted(filters_seen)) or "none"
        # lm-eval writes every filter of a task: none under this one means the logs do not cover it.
        raise NoSampleLogs(f"{path} has no lines with filter {filter!r} (it has: {seen})")
    return taken


def _file_key(row: dict) -> tuple[int, str]:
    """A line's key within its file: the doc hash too, so a changed dataset never pairs two questions."""
    return (row["doc_id"], str(row.get("doc_hash", "")))


def _lines(path: Path) -> list[str]:
    try:
        # "\n" only: str.splitlines would also split inside a JSON string holding U+2028 or a form feed.
        return path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as err:
        raise CorruptSampleLogs(f"{path} is not UTF-8 text ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise CorruptSampleLogs(f"{path} cannot be read ({err.strerror or err})") from None


def _parse(line: str, where: str) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise CorruptSampleLogs(f"{where} is not JSON: {err.msg}") from None
    if not isinstance(row, dict) or "doc_id" not in row:
        raise CorruptSampleLogs(f"{where} is not an lm-eval sample (no doc_id)")
    return row


def _value(row: dict, metric: str, where: str) -> float:
    if metric not in row:
        metrics = ", ".join(row.get("metrics", []))
        raise CorruptSampleLogs(f"{where} has no per-document {metric!r} (metrics there: {metrics})")
    value = row[metric]
    # bool first: lm-eval writes some accuracies as true/false, which are ints to Python but not to us.
    if isinstance(value, bool):
        return float(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise CorruptSampleLogs(f"{where}: {metric!r} is {value!r}, not a finite number")
    return float(value)
