"""Store rows as pandas DataFrames with stable columns and dtypes, for reports and comparisons.

Columns are the same whether or not any row matched, so a report never special-cases an empty store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from spin_bench.store.schema import evaluations, scores

# Evaluation columns in table order; "id" is exposed as "evaluation_id" so that it names what it is.
EVALUATION_COLUMNS = ["evaluation_id", *(c.name for c in evaluations.c if c.name != "id")]
SCORE_COLUMNS = [
    *(c.name for c in scores.c if c.name not in ("id", "evaluation_id")),
    *EVALUATION_COLUMNS,
]

_DTYPES = {
    "evaluation_id": "int64",
    "iteration": "Int64",  # nullable: baselines and imported numbers have no SPIN iteration
    "batch_size": "int64",
    "limit": "float64",
    "add_bos": "bool",
    "value": "float64",
    "stderr": "float64",
    "n": "int64",
    "n_shot": "int64",
}


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (written as UTC); PostgreSQL hands back aware ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def evaluation_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    return _frame(rows, EVALUATION_COLUMNS)


def score_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    return _frame(rows, SCORE_COLUMNS)


def _frame(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> pd.DataFrame:
    records = [_decoded(row) for row in rows]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for name, dtype in _DTYPES.items():
        if name in frame.columns:
            frame[name] = frame[name].astype(dtype)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def _decoded(row: Mapping[str, Any]) -> dict[str, Any]:
    record = dict(row)
    if "id" in record:
        record["evaluation_id"] = record.pop("id")
    record["created_at"] = as_utc(record["created_at"])
    record["judge"] = None if record["judge"] is None else json.loads(record["judge"])
    record["extra"] = json.loads(record["extra"])
    if "deviations" in record:
        record["deviations"] = json.loads(record["deviations"])
    return record
