"""The MT-Bench questions and judge prompts one evaluation uses, wherever they were read from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from spin_bench.core.hashing import stable_hash
from spin_bench.data.fastchat import REFERENCE_CATEGORIES, JudgePrompt, Question

__all__ = ["JudgePrompt", "MTBenchData", "Question"]


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
