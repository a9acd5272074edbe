"""BBH's three tasks and the 299-question TruthfulQA subset from the bigbench 1.0.0 sdist.

BBH drew its items from BIG-bench in a shuffled order that BIG-bench alone cannot reproduce; the index
list shipped next to this module (see ATTRIBUTION.md) gives, for each BBH item in order, its position in
BIG-bench's `examples`. The formatting rules below turn a BIG-bench example into BBH's exact input text.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from spin_bench.core.errors import DataError
from spin_bench.data.archives import Archive, SdistArchive, sha256_bytes
from spin_bench.data.convert import TaskData
from spin_bench.data.schemas import table_from_rows

ROOT = "bigbench-1.0.0/bigbench/benchmark_tasks/"
MEMBER_SHA256: dict[str, str] = {
    "causal_judgment/task.json": "72dea28a03226a15a6081c7bef3599569887258a90e7db923e98a8232d5d7c29",
    "formal_fallacies_syllogisms_negation/task.json":
        "8b1a903c4d860d07cd134df8c44d579b255653d54a83f8f3794e27313e35fa40",
    "sports_understanding/task.json": "925617612d19ca02d7b13bfb263300cc13701dca8851151a77be8ce986feadab",
    "truthful_qa/task_mc.json": "89a0402a23d5873b0c2f427e851fca7ac420f8d08731e61be52e6cbf1a18a281",
    "truthful_qa/questions.json": "e4f3f864512c0d72f873fb8d3df6aa27bf62c118f7b61150166f270f6b00e4f6",
}
INDEX_FILE = "bbh_bigbench_indices.json"
INDEX_SHA256 = "eabba855ca6f84036e02bc193d49f22922e2da4c638e16f855bec3a5a2fa0001"

# BBH task -> (BIG-bench folder, BBH targets, inputs that differ from BBH's file by whitespace).
# The whitespace counts were measured when the index list was built against the BBH files.
BBH_TASKS: dict[str, tuple[str, tuple[str, ...], int]] = {
    "causal_judgement": ("causal_judgment", ("Yes", "No"), 3),
    "formal_fallacies": ("formal_fallacies_syllogisms_negation", ("valid", "invalid"), 1),
    "sports_understanding": ("sports_understanding", ("yes", "no"), 0),
}
CAUSAL_PREFIX = "How would a typical person answer each of the following questions about causation?\n"
SPORTS_TARGETS = {"plausible": "yes", "implausible": "no"}
LICENCE_BBH = "Apache-2.0 (BIG-bench task data); item selection and order: MIT (BIG-Bench-Hard index list)"


def open_sdist(path: Path) -> Archive:
    return SdistArchive(path, [ROOT + member for member in MEMBER_SHA256])


def _read(archive: Archive, member: str) -> Any:
    return archive.read_json(ROOT + member, MEMBER_SHA256[member])


def load_bbh_indices(path: Path | None = None) -> dict[str, list[int]]:
    """The shipped index list, checked by hash: a silently edited list would reorder or swap BBH items."""
    source = path or resources.files("spin_bench.data").joinpath(INDEX_FILE)
    payload = source.read_bytes()
    if sha256_bytes(payload) != INDEX_SHA256:
        raise DataError(f"{source}: sha256 {sha256_bytes(payload)} does not match the pinned {INDEX_SHA256}")
    indices = json.loads(payload)
    for task in BBH_TASKS:
        order = indices.get(task)
        if not isinstance(order, list) or not all(isinstance(i, int) for i in order) or len(set(order)) != len(order):
            raise DataError(f"{source}: key {task!r} must be a list of distinct integers")
    return indices


def _gold(example: Any, where: str) -> str:
    scores = example.get("target_scores") if isinstance(example, dict) else None
    winners = [key for key, value in (scores or {}).items() if value == 1]
    if len(winners) != 1 or not isinstance(example.get("input"), str):
        raise DataError(f"{where}: needs an input and target_scores with exactly one answer scored 1")
    return winners[0]


def bbh_item(task: str, example: dict[str, Any], where: str) -> dict[str, str]:
    """One BIG-bench example as BBH's {input, target}; the strings are BBH's, byte for byte."""
    gold, text = _gold(example, where), example["input"]
    if task == "causal_judgement":
        # One newline after the question: BIG-bench's own task_prefix has two, BBH has one.
        return {"input": f"{CAUSAL_PREFIX}{text}\nOptions:\n- Yes\n- No", "target": gold}
    if task == "formal_fallacies":
        # The space after "valid" is in BBH's options; it is part of the prompt the paper scored.
        return {"input": text.replace("\n ", "\n") + "\nOptions:\n- valid \n- invalid", "target": gold}
    if task == "sports_understanding":
        if gold not in SPORTS_TARGETS:
            raise DataError(f"{where}: target {gold!r} is not plausible/implausible")
        return {"input": f'Is the following sentence plausible? "{text}."', "target": SPORTS_TARGETS[gold]}
    raise ValueError(task)


def bbh_tasks(archive: Archive, indices: dict[str, list[int]] | None = None) -> list[TaskData]:
    indices = indices if indices is not None else load_bbh_indices()
    tasks = []
    for task, (folder, targets, whitespace) in BBH_TASKS.items():
        member = f"{folder}/task.json"
        where = f"{archive.path.name}:{ROOT}{member}"
        examples = _read(archive, member).get("examples", [])
        outside = [i for i in indices[task] if not 0 <= i < len(examples)]
        if outside:
            raise DataError(f"{INDEX_FILE}: {task} index {outside[0]} is outside {member}'s {len(examples)} examples")
        rows = [bbh_item(task, examples[i], f"{where} example {i}") for i in indices[task]]
        deviations = [f"BBH {task} rebuilt from BIG-bench 1.0.0 with the BBH index list"
                      + (f"; {whitespace} of {len(rows)} inputs differ from BBH's file by one space."
                         if whitespace else "; inputs identical to BBH's file.")]
        tasks.append(TaskData(
            key=f"bbh/{task}", benchmark=f"BBH {task}", kind="bbh", licence=LICENCE_BBH,
            lm_eval={"task": f"bbh_cot_fewshot_{task}", "test_split": "test", "fewshot_split": None},
            files={"test": table_from_rows(rows, "bbh", where)}, members=[ROOT + member],
            deviations=deviations, allowed_targets=targets,
            notes=[f"Item order from spin_bench/data/{INDEX_FILE} (sha256 {INDEX_SHA256}).",
                   "The 3 CoT exemplars are inline in lm-eval's task YAML; exact match is case-sensitive."],
        ))
    return tasks


def _truthfulqa_row(question: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        best, true, false = question["Best answer"], list(question["True answers"]), list(question["False answers"])
        text = question["Question"]
    except (KeyError, TypeError):
        raise DataError(f"{where}: needs Question, Best answer, True answers and False answers") from None
    return {
        "question": text,
        # lm-eval scores mc1 with target 0, so the single correct answer goes first.
        "mc1_targets": {"choices": [best, *false], "labels": [1] + [0] * len(false)},
        "mc2_targets": {"choices": [*true, *false], "labels": [1] * len(true) + [0] * len(false)},
    }


def truthfulqa(archive: Archive) -> TaskData:
    questions_member, mc_member = "truthful_qa/questions.json", "truthful_qa/task_mc.json"
    where = f"{archive.path.name}:{ROOT}{questions_member}"
    questions = _read(archive, questions_member).get("examples", [])
    mc_examples = _read(archive, mc_member).get("examples", [])
    if len(questions) != len(mc_examples):
        raise DataError(f"{where}: {len(questions)} questions but {len(mc_examples)} in {mc_member}")
    rows = []
    for index, (question, mc) in enumerate(zip(questions, mc_examples)):
        row = _truthfulqa_row(question, f"{where} example {index}")
        # Both files describe the same items in the same order; a mismatch means the pairing is wrong.
        if mc.get("input") != row["question"] or _gold(mc, f"{mc_member} example {index}") != question["Best answer"]:
            raise DataError(f"{where}: example {index} does not match {mc_member} (question or best answer)")
        rows.append(row)
    return TaskData(
        key="truthfulqa", benchmark=f"TruthfulQA-{len(rows)} (BIG-bench subset)", kind="truthfulqa",
        licence="Apache-2.0",
        lm_eval={"task": "truthfulqa_mc2", "test_split": "validation", "fewshot_split": None},
        files={"validation": table_from_rows(rows, "truthfulqa", where)},
        members=[ROOT + questions_member, ROOT + mc_member],
        deviations=[
            f"TruthfulQA: {len(rows)} of 817 questions (BIG-bench subset); not comparable with the paper.",
            "TruthfulQA mc1/mc2 targets rebuilt from BIG-bench's questions.json (mc1: best answer then the "
            "false answers; mc2: true answers then false answers); wording may differ from the 817-question release.",
        ],
        notes=["Report it as 'TruthfulQA-299 (BIG-bench subset)'. The 6-shot QA primer is inline in lm-eval's YAML."],
    )


def convert_all(archive: Archive) -> list[TaskData]:
    return [*bbh_tasks(archive), truthfulqa(archive)]
