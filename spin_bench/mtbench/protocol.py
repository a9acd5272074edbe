"""MT-Bench single-answer grading as FastChat's llm_judge defines it, rewritten as small pure functions.

FastChat itself cannot be imported for this: its judge code uses the removed openai<1 API and imports
anthropic at module level (../shared/notes/mt-bench.md section 3). What is reproduced here is the protocol:
the temperature table, the judge-prompt routing, the rating parse chain and the aggregation. The expected
rating (G-Eval style) is ours and is recorded as a different mode wherever a score is shown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

# FastChat common.py temperature_config; categories it does not list are sampled at 0.7.
CATEGORY_TEMPERATURE: dict[str, float] = {
    "writing": 0.7, "roleplay": 0.7, "extraction": 0.0, "math": 0.0, "coding": 0.0, "reasoning": 0.0,
    "stem": 0.1, "humanities": 0.1,
}
DEFAULT_TEMPERATURE = 0.7
# Below this FastChat decodes greedily (do_sample=False).
GREEDY_BELOW = 1e-4
# Categories judged against a reference answer (FastChat NEED_REF_CATS, arena-hard-200 omitted).
REFERENCE_CATEGORIES = frozenset({"math", "reasoning", "coding"})
MAX_NEW_TOKENS = 1024
JUDGE_MAX_TOKENS = 2048
FAILED = -1.0

# The parse chain of FastChat's run_judge_single: "[[n]]" first, then the single-bracket fallback.
_RATING_DOUBLE = re.compile(r"\[\[(\d+\.?\d*)\]\]")
_RATING_SINGLE = re.compile(r"\[(\d+\.?\d*)\]")
# What the expected mode writes before reading the next token's distribution.
RATING_PREFIX = "Rating: [["
RATINGS = tuple(range(1, 11))


class JudgeMode(str, Enum):
    FAITHFUL = "faithful"  # FastChat's prompts, temperature 0, "[[n]]" parsed; -1 on failure
    EXPECTED = "expected"  # probability-weighted rating over 1..10 after the rating prefix


def temperature_for(category: str) -> float:
    return CATEGORY_TEMPERATURE.get(category, DEFAULT_TEMPERATURE)


def judge_prompt_name(category: str, turn: int, reference_categories: Iterable[str] = REFERENCE_CATEGORIES) -> str:
    """single-v1 / single-math-v1, with -multi-turn for the second turn, as gen_judgment.py routes them."""
    base = "single-math-v1" if category in set(reference_categories) else "single-v1"
    return base if turn == 1 else f"{base}-multi-turn"


def parse_rating(text: str) -> float:
    """FastChat's rating parse: "[[n]]", else "[n]", else -1. Not clamped, as FastChat does not clamp."""
    match = _RATING_DOUBLE.search(text) or _RATING_SINGLE.search(text)
    if match is None:
        return FAILED
    try:
        return float(match.group(1))
    except ValueError:  # pragma: no cover - the patterns only match numbers
        return FAILED


def render_judge_user(template: str, question: Mapping, answers: tuple[str, ...], turn: int) -> str:
    """Fill a FastChat judge prompt template for one question; ``answers`` are the model's two turns."""
    values = {"question": question["turns"][0], "answer": answers[0]}
    reference = question.get("reference") or ()
    if turn == 2:
        values = {"question_1": question["turns"][0], "question_2": question["turns"][1],
                  "answer_1": answers[0], "answer_2": answers[1]}
        if reference:
            values |= {"ref_answer_1": reference[0], "ref_answer_2": reference[1]}
    elif reference:
        values["ref_answer_1"] = reference[0]
    # str.format, as FastChat does: the templates use {name} fields and no literal braces.
    return template.format(**values)


@dataclass(frozen=True)
class RatingDistribution:
    """The judge's probability of each rating 1..10 after the prefix, and how much mass they cover."""

    probabilities: dict[int, float]
    coverage: float  # total probability the judge put on a rating token; the rest went elsewhere

    @property
    def expected(self) -> float:
        total = sum(self.probabilities.values())
        return sum(r * p for r, p in self.probabilities.items()) / total


def rating_distribution(first: Mapping[str, float], after_one: Mapping[str, float] | None) -> RatingDistribution:
    """Ratings from top log-probabilities (token text -> logprob) at the position after the prefix.

    Tokenisers that write "10" as one token give it directly; those that split it ("1", "0") need the
    distribution after "1" (``after_one``) to divide P("1") between 1 and 10. Without ``after_one`` a
    "1" counts as 1 (the caller skips the second request only when P("1") is negligible).
    """
    probs = {r: 0.0 for r in RATINGS}
    for token, logprob in first.items():
        text = token.strip()
        if text.isdigit() and 1 <= int(text) <= 10 and text == str(int(text)):
            probs[int(text)] += math.exp(logprob)
    coverage = sum(probs.values())
    if after_one and probs[1] > 0.0:
        zero = sum(math.exp(lp) for tok, lp in after_one.items() if tok[:1] == "0" and not tok[1:2].isdigit())
        closed = sum(math.exp(lp) for tok, lp in after_one.items() if not tok.strip()[:1].isdigit())
        split = zero + closed
        if split > 0.0:  # "1" followed by "0" is ten; followed by "]", "." or space it is one
            p_one = probs[1]
            probs[10] += p_one * zero / split
            probs[1] = p_one * closed / split
    return RatingDistribution(probabilities=probs, coverage=coverage)


@dataclass(frozen=True)
class TurnScore:
    question_id: int
    category: str
    turn: int
    score: float  # FAILED (-1) when no rating could be read


@dataclass(frozen=True)
class Aggregate:
    overall: float
    turn1: float
    turn2: float
    categories: dict[str, float]
    judged: int
    failed: int
    stderr: float | None


def aggregate(scores: Iterable[TurnScore]) -> Aggregate:
    """FastChat show_result.py: drop -1 rows, mean over the rest; per category over both turns (Figure 6)."""
    rows = list(scores)
    judged = [s for s in rows if s.score != FAILED]
    nan = float("nan")

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else nan

    categories: dict[str, list[float]] = {}
    for s in judged:
        categories.setdefault(s.category, []).append(s.score)
    values = [s.score for s in judged]
    stderr = None
    if len(values) > 1:
        m = mean(values)
        stderr = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1) / len(values))
    return Aggregate(
        overall=mean(values),
        turn1=mean([s.score for s in judged if s.turn == 1]),
        turn2=mean([s.score for s in judged if s.turn == 2]),
        categories={c: mean(v) for c, v in sorted(categories.items())},
        judged=len(judged), failed=len(rows) - len(judged), stderr=stderr,
    )
