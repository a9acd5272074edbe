"""The column schemas lm-eval's tasks read from the Hub, and checks that converted rows fit their prompts.

Local data only works with lm-eval's stock task YAMLs if the columns and types are the Hub's: the
templates index into them by name (`choices.label.index(answerKey)`, `mc2_targets.labels`, ...). All splits
of one task share one schema because `datasets` builds a single feature set over all of a task's files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from spin_bench.core.errors import DataError

_STR = pa.string()
_STR_LIST = pa.list_(pa.string())
_LETTERED_CHOICES = pa.struct([("text", _STR_LIST), ("label", _STR_LIST)])
_TARGETS = pa.struct([("choices", _STR_LIST), ("labels", pa.list_(pa.int32()))])

SCHEMAS: dict[str, pa.Schema] = {
    "arc": pa.schema([("id", _STR), ("question", _STR), ("choices", _LETTERED_CHOICES), ("answerKey", _STR)]),
    "hellaswag": pa.schema([
        ("ind", pa.int32()), ("activity_label", _STR), ("ctx_a", _STR), ("ctx_b", _STR), ("ctx", _STR),
        ("endings", _STR_LIST), ("source_id", _STR), ("split", _STR), ("split_type", _STR), ("label", _STR),
    ]),
    "winogrande": pa.schema([("sentence", _STR), ("option1", _STR), ("option2", _STR), ("answer", _STR)]),
    "openbookqa": pa.schema([("id", _STR), ("question_stem", _STR), ("choices", _LETTERED_CHOICES),
                             ("answerKey", _STR)]),
    "gsm8k": pa.schema([("question", _STR), ("answer", _STR)]),
    "mmlu": pa.schema([("question", _STR), ("subject", _STR), ("choices", _STR_LIST), ("answer", pa.int64())]),
    "bbh": pa.schema([("input", _STR), ("target", _STR)]),
    "truthfulqa": pa.schema([("question", _STR), ("mc1_targets", _TARGETS), ("mc2_targets", _TARGETS)]),
    # MT-Bench is judged by spin-bench, not lm-eval: FastChat's fields, references joined in (empty if none).
    "mt_bench_question": pa.schema([("question_id", pa.int64()), ("category", _STR), ("turns", _STR_LIST),
                                    ("reference", _STR_LIST)]),
    "mt_bench_judge_prompt": pa.schema([("name", _STR), ("system_prompt", _STR), ("prompt_template", _STR),
                                        ("output_format", _STR)]),
}

# Columns lm-eval's HellaSwag `process_docs` needs; the others are kept as the package ships them.
HELLASWAG_REQUIRED = ("activity_label", "ctx_a", "ctx_b", "endings", "label")


def conform(table: pa.Table, kind: str, where: str) -> pa.Table:
    """Select and cast ``table`` to the declared schema of ``kind``; ``where`` names the source in errors."""
    schema = SCHEMAS[kind]
    if kind == "hellaswag":
        # "Whatever the arrow has": only the columns lm-eval reads are mandatory.
        missing = [name for name in HELLASWAG_REQUIRED if name not in table.column_names]
        schema = pa.schema([field for field in schema if field.name in table.column_names])
    else:
        missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise DataError(f"{where}: column {missing[0]!r} is missing (has {', '.join(table.column_names)})")
    try:
        return _no_nulls(table.select(schema.names).cast(schema), where)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as err:
        raise DataError(f"{where}: columns do not fit the {kind} schema ({err})") from None


def table_from_rows(rows: list[dict[str, Any]], kind: str, where: str) -> pa.Table:
    """Rows as a table of the declared schema; a key a row lacks would silently become null, so nulls fail."""
    try:
        table = pa.Table.from_pylist(rows, schema=SCHEMAS[kind])
    except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError, TypeError) as err:
        raise DataError(f"{where}: rows do not fit the {kind} schema ({err})") from None
    return _no_nulls(table, where)


def _no_nulls(table: pa.Table, where: str) -> pa.Table:
    # lm-eval's templates cannot render a missing value; name the first one instead of failing mid-eval.
    for name in table.column_names:
        column = table.column(name)
        if column.null_count:
            row = column.is_null().to_pylist().index(True)
            raise DataError(f"{where}: row {row}: column {name!r} is empty")
    return table


def _lettered(row: dict[str, Any]) -> str | None:
    labels = row["choices"]["label"]
    if len(row["choices"]["text"]) != len(labels) or len(labels) < 2:
        return "choices.text and choices.label differ in length or have fewer than 2 entries"
    if row["answerKey"].lstrip() not in labels:
        return f"answerKey {row['answerKey']!r} is not one of choices.label {labels}"
    return None


def _hellaswag(row: dict[str, Any]) -> str | None:
    if not row["label"].isdigit() or int(row["label"]) >= len(row["endings"]):
        return f"label {row['label']!r} does not index endings ({len(row['endings'])} of them)"
    return None


def _winogrande(row: dict[str, Any]) -> str | None:
    if row["answer"] not in ("1", "2"):
        return f"answer {row['answer']!r} is not '1' or '2'"
    if "_" not in row["sentence"]:
        return "sentence has no '_' blank"
    return None


def _gsm8k(row: dict[str, Any]) -> str | None:
    return None if "#### " in row["answer"] else "answer has no '#### N' final line"


def _mmlu(row: dict[str, Any]) -> str | None:
    if len(row["choices"]) != 4 or not 0 <= row["answer"] < 4:
        return f"needs 4 choices and an answer in 0..3, has {len(row['choices'])} and {row['answer']}"
    return None


def _truthfulqa(row: dict[str, Any]) -> str | None:
    for key in ("mc1_targets", "mc2_targets"):
        targets = row[key]
        if len(targets["choices"]) != len(targets["labels"]) or 1 not in targets["labels"]:
            return f"{key} needs one label per choice and at least one label 1"
    # lm-eval scores mc1 with doc_to_target 0: the correct answer must come first.
    if row["mc1_targets"]["labels"][0] != 1 or sum(row["mc1_targets"]["labels"]) != 1:
        return "mc1_targets must have exactly one correct answer, in first place"
    return None


def _mt_bench_question(row: dict[str, Any]) -> str | None:
    if len(row["turns"]) != 2:
        return f"question {row['question_id']} has {len(row['turns'])} turns, not 2"
    return None


_ROW_CHECKS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "mt_bench_question": _mt_bench_question,
    "arc": _lettered,
    "openbookqa": _lettered,
    "hellaswag": _hellaswag,
    "winogrande": _winogrande,
    "gsm8k": _gsm8k,
    "mmlu": _mmlu,
    "truthfulqa": _truthfulqa,
}


def check_rows(table: pa.Table, kind: str, where: str, allowed_targets: tuple[str, ...] | None = ()) -> None:
    """Every row must render with lm-eval's templates; a bad row is named by its 0-based position.
    A BBH row's target must be one of `allowed_targets`, unless that is None (a split of solved shots)."""
    if table.num_rows == 0:
        raise DataError(f"{where}: no rows")
    check = _ROW_CHECKS.get(kind)
    for index, row in enumerate(table.to_pylist()):
        problem = check(row) if check else None
        if problem is None and kind == "bbh" and allowed_targets is not None and row["target"] not in allowed_targets:
            problem = f"target {row['target']!r} is not one of {list(allowed_targets)}"
        if problem is not None:
            raise DataError(f"{where}: row {index}: {problem}")
