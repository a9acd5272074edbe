"""lm-eval results -> store rows, one per (task, metric, filter), with MMLU reported both ways.

MMLU: lm-eval's group score is the size-weighted mean over questions (micro); the Open LLM Leaderboard v1
printed the plain mean over the 57 subjects (macro). Both are stored: `acc` (micro) and `acc_macro`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from spin_bench.bench.suites import TaskSpec
from spin_bench.bench.taskdir import MMLU_GROUP, BenchData, lm_eval_name, location_free
from spin_bench.core.hashing import stable_hash
from spin_bench.store import ScoreRecord

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


def _config_hash(config: Any, data: BenchData) -> str:
    """lm-eval reports `!function` fields as "<function f at 0x7f...>"; the address changes with every
    process, so it is dropped, or no two evaluation runs of WinoGrande or HellaSwag could be compared.
    File locations are dropped too (taskdir.location_free): the data's content is in `data_source`."""
    text = json.dumps(location_free(config, data), sort_keys=True, default=str)
    return stable_hash(_ADDRESS.sub(">", text))


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None  # lm-eval writes "N/A" where it has no stderr


def _metric_rows(entry: dict[str, Any]) -> list[tuple[str, str, float, float | None]]:
    rows = []
    for key, value in entry.items():
        if "," not in key or "_stderr," in key:
            continue
        metric, filter_name = key.split(",", 1)
        number = _number(value)
        if number is None:
            continue
        rows.append((metric, filter_name, number, _number(entry.get(f"{metric}_stderr,{filter_name}"))))
    return rows


def score_records(results: dict[str, Any], spec: TaskSpec, data: BenchData, extra_deviations: list[str]) -> list[ScoreRecord]:
    """The store rows of one spec from an lm-eval results dict."""
    deviations = tuple(data.deviations(spec) + extra_deviations)
    name = lm_eval_name(spec)
    if spec.name == "mmlu":
        return _mmlu_records(results, spec, data, deviations)
    config_hash = _config_hash(results["configs"][name], data)
    n = int(results["n-samples"][name]["effective"])
    return [
        ScoreRecord(task=spec.name, metric=metric, filter=filter_name, value=value, stderr=stderr, n=n,
                    n_shot=int(results["n-shot"][name]), task_config_hash=config_hash, data_source=data.identity,
                    deviations=deviations)
        for metric, filter_name, value, stderr in _metric_rows(results["results"][name])
    ]


def _mmlu_records(results, spec: TaskSpec, data: BenchData, deviations) -> list[ScoreRecord]:
    subtasks = results["group_subtasks"][MMLU_GROUP]
    config_hash = _config_hash({t: results["configs"][t] for t in subtasks}, data)
    records, accuracies = [], []
    for task in subtasks:
        entry = results["results"][task]
        n = int(results["n-samples"][task]["effective"])
        accuracies.append(entry["acc,none"])
        records.append(ScoreRecord(
            task=task.removeprefix("spin_"), metric="acc", filter="none", value=float(entry["acc,none"]),
            stderr=_number(entry.get("acc_stderr,none")), n=n, n_shot=int(results["n-shot"][task]),
            task_config_hash=_config_hash(results["configs"][task], data), data_source=data.identity, deviations=deviations))
    total = sum(r.n for r in records)
    group = results["groups"][MMLU_GROUP]
    common = {"task": "mmlu", "filter": "none", "n": total, "n_shot": spec.shots, "task_config_hash": config_hash,
              "data_source": data.identity, "deviations": deviations}
    records.append(ScoreRecord(metric="acc", value=float(group["acc,none"]),
                               stderr=_number(group.get("acc_stderr,none")), **common))
    records.append(ScoreRecord(metric="acc_macro", value=sum(accuracies) / len(accuracies), stderr=None, **common))
    return records
