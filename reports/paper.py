"""The SPIN paper's Tables 3-6 as data, and as a results-store frame so the paper reads like one more run.

The numbers live in ``reference/paper_tables.json`` (typed from the paper; see its README). Loading them
with :func:`paper_as_scores` gives the same columns and dtypes as ``ResultsStore.scores()`` with labels
``paper/sft``, ``paper/iter0`` …, so every report builder works on the paper unchanged, and a test can
check that the builders reprint the paper's tables.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from spin_bench.bench.suites import SUITES
from spin_bench.core.errors import DataError
from spin_bench.core.names import CheckpointName, Kind, run_label
from spin_bench.store.frames import score_frame

REFERENCE_PATH = Path(__file__).resolve().parent / "reference" / "paper_tables.json"
RUN = "paper"
MT_BENCH_TASK = "mt_bench"
MT_BENCH_METRIC = "score"
# The paper evaluated with lm-eval v0.4.0 (its Table 1 settings); MT-Bench is judged outside lm-eval.
PAPER_LM_EVAL_VERSION = "0.4.0"

_SPECS = {spec.name: (suite, spec) for suite, specs in SUITES.items() for spec in specs}


def load_reference(path: str | Path = REFERENCE_PATH) -> dict[str, Any]:
    """The reference file as a dict: ``tables`` -> ``table3`` … ``table6`` -> columns and printed rows."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read the paper's reference numbers {path}: {err}") from None


def paper_as_scores(reference: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The paper's numbers shaped like ``ResultsStore.scores()``: one row per (checkpoint, task).

    Values are stored the way the store holds them (accuracy fractions; MT-Bench as its 1-10 score).
    The printed Averages are *not* stored: they are derived numbers, and a report recomputes them.
    The paper prints no counts or standard errors, so ``n`` is 0 and ``stderr`` is NaN (unknown, not
    zero); ``created_at`` is NaT. ``extra`` keeps the printed string and the tables the cell came from.

    Raises:
        DataError: the reference file gives one checkpoint two different values for a task.
    """
    reference = reference or load_reference()
    cells = _collect_cells(reference)
    records = [_score_record(checkpoint, task, cell) for (checkpoint, task), cell in cells.items()]
    dtypes = score_frame([]).dtypes.to_dict()
    frame = pd.DataFrame.from_records(records, columns=list(dtypes))
    return frame.astype(dtypes)


def _table(reference: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    try:
        return reference["tables"][name]
    except KeyError:
        raise DataError(f"the paper's reference numbers have no {name!r}") from None


def _collect_cells(reference: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(checkpoint, task) -> printed value, row name and tables; the same cell recurs across tables."""
    column_tasks: Mapping[str, str | None] = reference["column_tasks"]
    percent = set(reference["percent_columns"])
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for name, table in reference["tables"].items():
        for row in table["rows"]:
            for column, printed in zip(table["columns"], row["values"], strict=True):
                task = column_tasks[column]
                if task is None:  # the Average: derived, never stored as a score
                    continue
                key = (row["checkpoint"], task)
                cell = cells.setdefault(key, {"printed": printed, "row": row["row"], "tables": [],
                                              "percent": column in percent})
                if Decimal(cell["printed"]) != Decimal(printed):
                    raise DataError(f"paper reference: {row['checkpoint']} {column} is {cell['printed']} in "
                                    f"{cell['tables'][0]} but {printed} in {name}")
                cell["tables"].append(name)
    return cells


def _score_record(checkpoint: str, task: str, cell: Mapping[str, Any]) -> dict[str, Any]:
    printed = Decimal(cell["printed"])
    # Decimal division first, so 63.40 becomes the double nearest 0.634 rather than 63.4 / 100's error.
    value = float(printed / 100) if cell["percent"] else float(printed)
    if task == MT_BENCH_TASK:
        suite, metric, filter_, shots, version = "mt_bench", MT_BENCH_METRIC, "none", 0, ""
    else:
        suite, spec = _SPECS[task]
        metric, filter_, shots, version = spec.metric, spec.filter, spec.shots, PAPER_LM_EVAL_VERSION
    name = CheckpointName.parse(checkpoint)  # the reference file names its rows in the checkpoint grammar
    label = run_label(RUN, name)
    return {
        "task": task, "metric": metric, "filter": filter_, "value": value, "stderr": None, "n": 0,
        "n_shot": shots, "task_config_hash": "", "data_source": "paper", "deviations": [],
        "evaluation_id": 0, "eval_key": f"paper:{label}:{suite}", "model_path": "", "model_hash": "",
        "label": label, "iteration": name.iteration if name.kind is Kind.ITERATION else None, "suite": suite,
        "backend": "paper", "dtype": "", "batch_size": 0, "limit": None, "add_bos": False,
        "chat_template_hash": None, "lm_eval_version": version, "judge": None,
        "results_path": str(REFERENCE_PATH), "samples_path": None, "created_at": None,
        "extra": {"source": "Chen et al., ICML 2024", "tables": list(cell["tables"]), "paper_row": cell["row"],
                  "printed": cell["printed"]},
    }
