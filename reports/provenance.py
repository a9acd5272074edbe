"""The report's provenance: every stored evaluation of the run's labels, the per-task settings of their scores
and the deviations from the paper's setting they carry; and, for `spin-bench compare`, the settings in which
two compared evaluations differ (:func:`settings_diff`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from spin_bench.core.names import label_sort_key

if TYPE_CHECKING:
    from reports.sections import ProvenanceBlock
    from spin_bench.store import ResultsStore

EVALUATION_COLUMNS = ("label", "suite", "evaluation id", "created", "model hash", "lm-eval", "backend", "dtype",
                      "batch size", "limit", "add_bos", "chat template", "max_gen_toks", "seconds", "judge", "mode")
TASK_COLUMNS = ("task", "metrics", "shots", "documents", "data source", "task config hash")


def provenance(store: ResultsStore, scores: pd.DataFrame, labels: Sequence[str]) -> tuple[ProvenanceBlock, ...]:
    """Evaluation settings, per-task settings and deviations of every evaluation of ``labels``."""
    # Imported here: sections pulls in plotly, which `spin-bench compare` (settings_diff) never needs.
    from reports.sections import ProvenanceBlock

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


# ------------------------------------------------------------------ what differs between compared evaluations


def _extra(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda row: (row.get("extra") or {}).get(name)


def _judge(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda row: (row.get("judge") or {}).get(name) if isinstance(row.get("judge"), dict) else None


def _deviations(row: Mapping[str, Any]) -> list[str] | None:
    items = row.get("deviations")
    return sorted(map(str, items)) if isinstance(items, (list, tuple)) else None


# Every setting of a score row (a ``ResultsStore.scores()`` record: the score's own fields and its
# evaluation's) that can change a number without the model changing, and the model's own revision.
COMPARED_SETTINGS: tuple[tuple[str, Callable[[Mapping[str, Any]], Any]], ...] = (
    ("harness version", lambda row: row.get("lm_eval_version")),
    ("transformers version", _extra("transformers_version")),
    ("task config hash", lambda row: row.get("task_config_hash")),
    ("shots", lambda row: row.get("n_shot")),
    ("data source", lambda row: row.get("data_source")),
    ("deviations", _deviations),
    ("model revision (hash)", lambda row: row.get("model_hash")),
    ("chat template hash", lambda row: row.get("chat_template_hash")),
    ("backend", lambda row: row.get("backend")),
    ("dtype", lambda row: row.get("dtype")),
    ("batch size", lambda row: row.get("batch_size")),
    ("limit", lambda row: row.get("limit")),
    ("add_bos", lambda row: None if row.get("add_bos") is None else bool(row.get("add_bos"))),
    ("max_gen_toks", _extra("max_gen_toks")),
    ("answer generation settings", _extra("answer_settings")),  # MT-Bench answers
    ("judge", _judge("model")),
    ("judge mode", _judge("mode")),
    ("judge prompts hash", _judge("prompts_hash")),
)


@dataclass(frozen=True)
class SettingDifference:
    """One setting that differs between A's and B's evaluations, and the tasks whose rows differ in it."""

    setting: str
    a: str  # as shown ("–" for none)
    b: str
    tasks: tuple[str, ...]
    every_task: bool = False  # the difference touches every compared task

    @property
    def where(self) -> str:
        return f"all {len(self.tasks)} compared tasks" if self.every_task else f"tasks: {', '.join(self.tasks)}"


def settings_diff(pairs: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any]]]) -> tuple[SettingDifference, ...]:
    """The settings in which the compared rows differ: (task, A's row, B's row) in, only differences out.

    Rows that differ the same way are grouped: a harness upgrade shows once, with every task it touches.
    """
    grouped: dict[tuple[str, str, str], list[str]] = {}
    compared = 0
    for task, a_row, b_row in pairs:
        compared += 1
        for setting, read in COMPARED_SETTINGS:
            a_value, b_value = _cell(read(a_row)), _cell(read(b_row))
            if a_value != b_value:
                grouped.setdefault((setting, a_value, b_value), []).append(task)
    order = {name: index for index, (name, _) in enumerate(COMPARED_SETTINGS)}
    return tuple(SettingDifference(setting, a, b, tuple(tasks), len(tasks) == compared > 1)
                 for (setting, a, b), tasks in sorted(grouped.items(), key=lambda item: order[item[0][0]]))
