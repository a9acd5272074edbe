"""The paper's metric of each task, its column heading, and a label's newest score row per task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from spin_bench.bench.suites import SUITES

if TYPE_CHECKING:
    import pandas as pd

MetricKey = tuple[str, str, str]  # (task, metric, filter), as the store keys a score
# The paper's column heading of every suite task ("arc_challenge" -> "ARC").
TASK_HEADINGS = {spec.name: spec.column for specs in SUITES.values() for spec in specs}


def paper_metrics() -> list[MetricKey]:
    """(task, metric, filter) of every suite task, in suite order; the paper's metric (MMLU: micro "acc")."""
    seen: dict[str, MetricKey] = {}
    for specs in SUITES.values():
        for spec in specs:
            seen.setdefault(spec.name, (spec.name, spec.metric, spec.filter))
    return list(seen.values())


def newest_rows(frame: pd.DataFrame, label: str) -> dict[MetricKey, Mapping[str, Any]]:
    """(task, metric, filter) -> the score row of the label's newest evaluation of it (``created_at``)."""
    rows = frame[frame["label"] == label].sort_values(["created_at", "evaluation_id"], kind="stable")
    newest = rows.drop_duplicates(["task", "metric", "filter"], keep="last")
    return {(row["task"], row["metric"], row["filter"]): row for row in newest.to_dict("records")}
