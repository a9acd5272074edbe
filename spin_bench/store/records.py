"""What one evaluation puts into the results store, checked before anything is written.

An :class:`EvaluationRecord` is one cache entry (one model evaluated on one task set with fixed settings);
its :class:`ScoreRecord` rows are lm-eval's (task, metric, filter) numbers. Both are keyword-only: with
this many string fields a positional mix-up would store a wrong but plausible row.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spin_bench.core.errors import UserError
from spin_bench.core.hashing import jsonable

# Must match the String(255) columns in schema.py.
MAX_KEY_LENGTH = 255
SHORT_FIELDS = frozenset(
    {"eval_key", "model_hash", "label", "suite", "backend", "dtype", "chat_template_hash", "lm_eval_version"}
    | {"task", "metric", "filter", "task_config_hash"}
)


@dataclass(frozen=True, kw_only=True)
class EvaluationRecord:
    """One evaluation of one model on one suite. ``eval_key`` is the cache key and is built by the caller.

    ``limit`` follows lm-eval: below 1.0 a fraction of each task, otherwise a number of documents.
    ``judge`` and ``extra`` must be JSON-serialisable; they come back JSON-decoded (tuples as lists).
    """

    eval_key: str
    model_path: str
    model_hash: str
    label: str
    iteration: int | None = None
    suite: str
    backend: str
    dtype: str
    batch_size: int
    limit: float | None = None
    add_bos: bool
    chat_template_hash: str | None = None
    lm_eval_version: str
    judge: Mapping[str, Any] | None = None
    results_path: str
    samples_path: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Callers hold pathlib.Path objects; the store keeps plain strings so a round trip compares equal.
        for name in ("model_path", "results_path", "samples_path"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                object.__setattr__(self, name, os.fspath(value))


@dataclass(frozen=True, kw_only=True)
class ScoreRecord:
    """One lm-eval number: ``results[task]["<metric>,<filter>"]`` and its ``_stderr`` twin.

    lm-eval writes the stderr as the string "N/A" when there is none: pass None instead. A NaN value or
    stderr is stored as NULL; it reads back as NaN (value) and None (stderr).
    """

    task: str
    metric: str
    filter: str
    value: float
    stderr: float | None
    n: int
    n_shot: int
    task_config_hash: str
    data_source: str
    deviations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A list from JSON would make the frozen record unhashable and unequal to what lookup returns.
        if not isinstance(self.deviations, tuple) and isinstance(self.deviations, Sequence):
            object.__setattr__(self, "deviations", tuple(self.deviations))


# ------------------------------------------------------------------ validation


def validate(evaluation: EvaluationRecord, scores: Sequence[ScoreRecord]) -> None:
    """Raise UserError naming the evaluation and the field when the records cannot be stored as given."""
    if not isinstance(evaluation, EvaluationRecord):
        raise UserError(f"expected an EvaluationRecord, got {type(evaluation).__name__}")
    where = f"results for {evaluation.eval_key!r}"
    _check_evaluation(evaluation, where)
    if not scores:
        raise UserError(f"{where}: no scores to store (an evaluation without scores would poison the cache)")
    seen: set[tuple[str, str, str]] = set()
    for index, score in enumerate(scores):
        if not isinstance(score, ScoreRecord):
            raise UserError(f"{where}: score {index} is a {type(score).__name__}, not a ScoreRecord")
        _check_score(score, f"{where}, score {index}")
        key = (score.task, score.metric, score.filter)
        if key in seen:
            raise UserError(f"{where}: task {score.task!r} metric {score.metric!r} filter {score.filter!r} twice")
        seen.add(key)


def _check_evaluation(record: EvaluationRecord, where: str) -> None:
    required = ("eval_key", "model_path", "model_hash", "label", "suite", "backend", "dtype", "lm_eval_version")
    _check_text(record, where, (*required, "results_path"))
    _check_text(record, where, ("chat_template_hash", "samples_path"), optional=True)
    _require_int(record.batch_size, f"{where}: batch_size", minimum=1)
    if record.iteration is not None:
        _require_int(record.iteration, f"{where}: iteration", minimum=0)
    if record.limit is not None:
        if not _is_real(record.limit) or not math.isfinite(record.limit) or record.limit <= 0:
            raise UserError(f"{where}: limit must be a positive number or None, got {record.limit!r}")
    if not isinstance(record.add_bos, bool):
        raise UserError(f"{where}: add_bos must be True or False, got {record.add_bos!r}")
    if record.judge is not None:
        encode_json(record.judge, f"{where}: judge")
    encode_json(record.extra, f"{where}: extra")


def _check_score(score: ScoreRecord, where: str) -> None:
    _check_text(score, where, ("task", "metric", "filter"))
    _check_text(score, where, ("task_config_hash", "data_source"), empty_ok=True)
    if not _is_real(score.value):
        raise UserError(f"{where}: value must be a number, got {score.value!r}")
    if score.stderr is not None and not _is_real(score.stderr):
        hint = " (lm-eval's 'N/A' means no stderr: pass None)" if isinstance(score.stderr, str) else ""
        raise UserError(f"{where}: stderr must be a number or None, got {score.stderr!r}{hint}")
    _require_int(score.n, f"{where}: n", minimum=0)
    _require_int(score.n_shot, f"{where}: n_shot", minimum=0)
    if not all(isinstance(item, str) for item in score.deviations):
        raise UserError(f"{where}: deviations must be strings, got {score.deviations!r}")


def _check_text(
    record: Any, where: str, names: tuple[str, ...], optional: bool = False, empty_ok: bool = False
) -> None:
    for name in names:
        value = getattr(record, name)
        if value is None and optional:
            continue
        if not isinstance(value, str) or not (empty_ok or value.strip()):
            kind = "a string" if empty_ok else "a non-empty string"
            raise UserError(f"{where}: {name} must be {kind}, got {value!r}")
        # Keys, names and hashes are VARCHAR(255): PostgreSQL would refuse longer ones, SQLite would not.
        if name in SHORT_FIELDS and len(value) > MAX_KEY_LENGTH:
            raise UserError(f"{where}: {name} is {len(value)} characters long; at most {MAX_KEY_LENGTH} fit")


def _require_int(value: Any, where: str, minimum: int) -> None:
    # bool is an int subclass, and numpy integers are not: numbers.Integral covers the ones we want.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise UserError(f"{where} must be an integer >= {minimum}, got {value!r}")


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# ------------------------------------------------------------------ rows


def encode_json(value: Any, where: str) -> str:
    """Canonical JSON text; NaN and objects without a JSON form are refused, so every row decodes anywhere."""
    try:
        return json.dumps(jsonable(value), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise UserError(f"{where} is not JSON-serialisable: {err}") from None


def _nullable_float(value: float | None) -> float | None:
    # SQLite silently turns NaN into NULL; doing it here makes every backend agree.
    if value is None or math.isnan(value):
        return None
    return float(value)


def evaluation_row(record: EvaluationRecord) -> dict[str, Any]:
    row = dataclasses.asdict(record)
    row["batch_size"] = int(record.batch_size)
    row["iteration"] = None if record.iteration is None else int(record.iteration)
    row["limit"] = None if record.limit is None else float(record.limit)
    row["judge"] = None if record.judge is None else encode_json(record.judge, "judge")
    row["extra"] = encode_json(record.extra, "extra")
    return row


def score_row(score: ScoreRecord, evaluation_id: int) -> dict[str, Any]:
    row = dataclasses.asdict(score)
    row.update(
        evaluation_id=evaluation_id,
        value=_nullable_float(score.value),
        stderr=_nullable_float(score.stderr),
        n=int(score.n),
        n_shot=int(score.n_shot),
        deviations=json.dumps(list(score.deviations)),
    )
    return row


def evaluation_from_row(row: Mapping[str, Any]) -> EvaluationRecord:
    names = {f.name for f in dataclasses.fields(EvaluationRecord)}
    values = {name: row[name] for name in names}
    values["judge"] = None if row["judge"] is None else json.loads(row["judge"])
    values["extra"] = json.loads(row["extra"])
    return EvaluationRecord(**values)


def score_from_row(row: Mapping[str, Any]) -> ScoreRecord:
    names = {f.name for f in dataclasses.fields(ScoreRecord)}
    values = {name: row[name] for name in names}
    values["value"] = math.nan if row["value"] is None else row["value"]
    values["deviations"] = tuple(json.loads(row["deviations"]))
    return ScoreRecord(**values)
