"""MT-Bench pairwise judging as FastChat's llm_judge defines it (``gen_judgment.py --mode pairwise-baseline``),
rewritten as small pure functions: prompt routing, the template fill, the verdict parse, and the rule that
turns the two orders of one pair into a win, a tie or a loss.

FastChat judges every (question, turn) twice, once with each model as assistant A, to cancel the judge's
position bias; ``show_result.py`` then counts a win only when both orders name the same model, and a tie
when either order says tie or the two disagree; a pair where either order has no verdict is dropped.
The expected mode (a judge that cannot write the verdict token) is ours and is recorded as another mode.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from spin_bench.mtbench.protocol import REFERENCE_CATEGORIES

# What the expected mode writes as the judge's answer before reading the next token's distribution: the
# opening of FastChat's "[[A]]"/"[[B]]"/"[[C]]" verdict format.
VERDICT_PREFIX = "[["
# A judge that puts less than this on A, B and C after "[[" is not giving a verdict: no verdict.
MIN_VERDICT_COVERAGE = 0.1
# A verdict token: "A", "B" or "C", alone or glued to the closing brackets ("A]]"), as tokenisers split it.
_VERDICT_TOKEN = re.compile(r"^([ABC])(?:\]{0,2})$")


class Verdict(str, Enum):
    """What one judge call says, as FastChat names it (its "error" is our NONE)."""

    A = "A"
    B = "B"
    TIE = "tie"
    NONE = "error"  # no [[A]], [[B]] or [[C]] in the output


class Order(str, Enum):
    """Which model is assistant A in one of the two calls of a pair."""

    MODEL_FIRST = "model_first"  # the checkpoint is A, the baseline B (FastChat's g1)
    BASELINE_FIRST = "baseline_first"  # the baseline is A (FastChat's g2)


def pair_prompt_name(category: str, turn: int, reference_categories: Iterable[str] = REFERENCE_CATEGORIES) -> str:
    """pair-v2 / pair-math-v1, with -multi-turn for the second turn, as gen_judgment.py routes them."""
    base = "pair-math-v1" if category in set(reference_categories) else "pair-v2"
    return base if turn == 1 else f"{base}-multi-turn"


def render_pair_user(template: str, question: Mapping, answers_a: tuple[str, ...], answers_b: tuple[str, ...],
                     turn: int) -> str:
    """Fill a FastChat pairwise template (run_judge_pair): turn 2 shows both turns of both assistants."""
    reference = question.get("reference") or ()
    if turn == 1:
        values = {"question": question["turns"][0], "answer_a": answers_a[0], "answer_b": answers_b[0]}
        if reference:
            values["ref_answer_1"] = reference[0]
    else:
        values = {"question_1": question["turns"][0], "question_2": question["turns"][1],
                  "answer_a_1": answers_a[0], "answer_b_1": answers_b[0],
                  "answer_a_2": answers_a[1], "answer_b_2": answers_b[1]}
        if reference:
            values |= {"ref_answer_1": reference[0], "ref_answer_2": reference[1]}
    # str.format, as FastChat does; format ignores the keys a template does not use.
    return template.format(**values)


def parse_verdict(text: str) -> Verdict:
    """FastChat's parse for the "[[A]]" output format: [[A]] first, then [[B]], then [[C]] (a tie)."""
    if "[[A]]" in text:
        return Verdict.A
    if "[[B]]" in text:
        return Verdict.B
    if "[[C]]" in text:
        return Verdict.TIE
    return Verdict.NONE


@dataclass(frozen=True)
class VerdictDistribution:
    """One call's verdict as probabilities of A, B and tie (summing to 1); a parsed verdict is one-hot."""

    a: float
    b: float
    tie: float
    coverage: float = 1.0  # expected mode: the judge's total probability on A, B and C after "[["

    @classmethod
    def certain(cls, verdict: Verdict) -> VerdictDistribution:
        if verdict is Verdict.NONE:
            raise ValueError("no verdict has no distribution")
        return cls(a=float(verdict is Verdict.A), b=float(verdict is Verdict.B), tie=float(verdict is Verdict.TIE))

    @property
    def most_likely(self) -> Verdict:
        best = max((self.a, Verdict.A), (self.b, Verdict.B), (self.tie, Verdict.TIE), key=lambda pair: pair[0])
        return best[1]


def verdict_distribution(top_logprobs: Mapping[str, float]) -> VerdictDistribution | None:
    """The verdict read from the next-token log-probabilities after "[[" (token text -> logprob).

    The probability-weighted verdict: P(A), P(B) and P(C) are summed over the top tokens that spell the
    letter ("A", " A", "A]]"), then renormalised over the three, so a judge that would write "[[B]]" 60%
    of the time counts 0.6 for B. A judge with under MIN_VERDICT_COVERAGE on the three letters is not
    answering the question: None, counted as no verdict, as FastChat counts an output without one.
    """
    mass = {"A": 0.0, "B": 0.0, "C": 0.0}
    for token, logprob in top_logprobs.items():
        match = _VERDICT_TOKEN.match(token.strip())
        if match:
            mass[match.group(1)] += math.exp(logprob)
    coverage = sum(mass.values())
    if coverage < MIN_VERDICT_COVERAGE:
        return None
    return VerdictDistribution(a=mass["A"] / coverage, b=mass["B"] / coverage, tie=mass["C"] / coverage,
                               coverage=coverage)


@dataclass(frozen=True)
class GameOutcome:
    """One (question, turn) for the checkpoint against the baseline: probabilities of win, tie and loss
    (0/1 under FastChat's parse, fractions in the expected mode)."""

    win: float
    tie: float
    loss: float

    @property
    def points(self) -> float:
        """The checkpoint's score in this game: a win 1, a tie 1/2 (FastChat's win_rate_adjusted, AlpacaEval)."""
        return self.win + 0.5 * self.tie

    @property
    def label(self) -> str:
        """win / tie / loss: the outcome itself under a parse, the most probable one in the expected mode."""
        return max((self.win, "win"), (self.tie, "tie"), (self.loss, "loss"), key=lambda pair: pair[0])[1]


def combine_orders(model_first: VerdictDistribution, baseline_first: VerdictDistribution) -> GameOutcome:
    """FastChat's rule over the two orders: a win only if both orders prefer the checkpoint, a loss only if
    both prefer the baseline, otherwise (a tie in either, or a disagreement) a tie.

    With distributions, each order's verdict is taken as drawn independently from its own distribution,
    so P(win) = P(A | model first) * P(B | baseline first), and the rule is applied in expectation; for
    one-hot (parsed) verdicts this is FastChat's rule exactly.
    """
    win = model_first.a * baseline_first.b
    loss = model_first.b * baseline_first.a
    return GameOutcome(win=win, tie=max(0.0, 1.0 - win - loss), loss=loss)
