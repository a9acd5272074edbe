"""The report's provenance: every stored evaluation of the run's labels, the per-task settings of their scores
and the deviations from the paper's setting they carry."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from reports.sections import ProvenanceBlock
from spin_bench.core.names import label_sort_key

if TYPE_CHECKING:
    from spin_bench.store import ResultsStore

EVALUATION_COLUMNS = ("label", "suite", "evaluation id", "created", "model hash", "lm-eval", "backend", "dtype",
                      "batch size", "limit", "add_bos", "chat template", "max_gen_toks", "seconds", "judge", "mode")
TASK_COLUMNS = ("task", "metrics", "shots", "documents", "data source", "task config hash")


def provenance(store: ResultsStore, scores: pd.DataFrame, labels: Sequence[str]) -> tuple[ProvenanceBlock, ...]:
    """Evaluation settings, per-task settings and deviations of every evaluation of ``labels``."""
    evaluations = store.evaluations()
    evaluations = evaluations[evaluations["label"].isin(list(labels))]
    records = sorted(evaluations.to_dict("records"), key=lambda r: (label_sort_key(r["label"]), r["evaluation_id"]))
    mine = scores[scores["label"].isin(list(labels))]
    task_rows, deviations = _tasks(mine)
    return (
        ProvenanceBlock("Evaluations", EVALUATION_COLUMNS, tuple(_evaluation_row(r) for r in records),
                        "No evaluation stored for these labels."),
        ProvenanceBlock("Tasks (shots, documents scored, data source, task config)", TASK_COLUMNS, task_rows,
                        "No score stored for these labels."),
        ProvenanceBlock("Deviations from the paper's setting", ("deviation", "tasks"), deviations,
                        "None recorded: every score follows the paper's setting."),
    )


def _evaluation_row(row: Mapping[str, Any]) -> tuple[str, ...]:
    extra = row.get("extra") or {}
    judge = row.get("judge") or None
    created = row.get("created_at")
    seconds = extra.get("seconds")
    return tuple(map(_cell, (
        row["label"], row["suite"], row["evaluation_id"],
        created.strftime("%Y-%m-%d %H:%M:%S") if created is not None and not _isna(created) else None,
        row["model_hash"], row["lm_eval_version"], row["backend"], row["dtype"], row["batch_size"], row["limit"],
        bool(row["add_bos"]), row.get("chat_template_hash"), extra.get("max_gen_toks"),
        round(seconds, 1) if isinstance(seconds, (int, float)) else None,
        judge, judge.get("mode") if isinstance(judge, dict) else None)))


def _tasks(mine: pd.DataFrame) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    """One row per task (its settings across the labels), and each deviation text with the tasks it touches."""
    rows = []
    deviations: dict[str, set[str]] = {}
    for task, group in mine.groupby("task", sort=True):
        rows.append((str(task), ", ".join(sorted(set(group["metric"].astype(str)))),
                     ", ".join(map(str, sorted({int(v) for v in group["n_shot"]}))),
                     ", ".join(map(str, sorted({int(v) for v in group["n"]}))),
                     "; ".join(sorted({str(v) for v in group["data_source"]})),
                     ", ".join(sorted({str(v) for v in group["task_config_hash"]}))))
        for items in group["deviations"]:
            for text in items if isinstance(items, (list, tuple)) else []:
                deviations.setdefault(str(text), set()).add(str(task))
    return tuple(rows), tuple((text, ", ".join(sorted(tasks))) for text, tasks in deviations.items())


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
