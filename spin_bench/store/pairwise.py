"""What a pairwise MT-Bench evaluation adds to the store beside its scores: one verdict row per game.

A game is one (question, turn) judged twice, once with the evaluated model as assistant A and once with the
baseline as A (FastChat's two orders). The row keeps both verdicts as the judge gave them, the outcome for
the evaluated model, its probabilities (0/1 under FastChat's parse, fractions in the expected mode) and both
answers' lengths, so win rates can be recomputed from the store alone.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spin_bench.core.errors import UserError
from spin_bench.store.records import MAX_KEY_LENGTH

if TYPE_CHECKING:
    import pandas as pd

VERDICTS = frozenset({"A", "B", "tie", "error"})
OUTCOMES = frozenset({"win", "tie", "loss", "error"})


@dataclass(frozen=True, kw_only=True)
class PairwiseVerdict:
    question_id: int
    turn: int
    category: str
    judge_prompt: str
    verdict_model_first: str  # A, B, tie or error (no verdict), the model being assistant A
    verdict_baseline_first: str  # the baseline being assistant A
    outcome: str  # win, tie, loss for the evaluated model; error when either order has no verdict
    p_win: float | None
    p_tie: float | None
    p_loss: float | None
    model_length: int
    baseline_length: int


def validate_verdicts(verdicts: Sequence[PairwiseVerdict], where: str) -> None:
    """Raise UserError naming the row when a verdict cannot be stored as given."""
    seen: set[tuple[int, int]] = set()
    for index, verdict in enumerate(verdicts):
        at = f"{where}, verdict {index}"
        if not isinstance(verdict, PairwiseVerdict):
            raise UserError(f"{at} is a {type(verdict).__name__}, not a PairwiseVerdict")
        _check_ints(verdict, at)
        for name in ("category", "judge_prompt"):
            value = getattr(verdict, name)
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEY_LENGTH:
                raise UserError(f"{at}: {name} must be a non-empty string of at most {MAX_KEY_LENGTH} characters")
        if {verdict.verdict_model_first, verdict.verdict_baseline_first} - VERDICTS:
            raise UserError(f"{at}: verdicts must be one of {sorted(VERDICTS)}")
        if verdict.outcome not in OUTCOMES:
            raise UserError(f"{at}: outcome must be one of {sorted(OUTCOMES)}, got {verdict.outcome!r}")
        _check_probabilities(verdict, at)
        key = (verdict.question_id, verdict.turn)
        if key in seen:
            raise UserError(f"{at}: question {key[0]} turn {key[1]} twice")
        seen.add(key)


def _check_ints(verdict: PairwiseVerdict, at: str) -> None:
    for name, minimum in (("question_id", 0), ("turn", 1), ("model_length", 0), ("baseline_length", 0)):
        value = getattr(verdict, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
            raise UserError(f"{at}: {name} must be an integer >= {minimum}, got {value!r}")


def _check_probabilities(verdict: PairwiseVerdict, at: str) -> None:
    probabilities = (verdict.p_win, verdict.p_tie, verdict.p_loss)
    if verdict.outcome == "error":
        if any(p is not None for p in probabilities):
            raise UserError(f"{at}: a game without a verdict has no probabilities")
        return
    if any(isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0 for p in probabilities):
        raise UserError(f"{at}: p_win, p_tie and p_loss must be numbers in [0, 1]")
    if not math.isclose(sum(probabilities), 1.0, abs_tol=1e-6):
        raise UserError(f"{at}: p_win + p_tie + p_loss must be 1, got {sum(probabilities)!r}")


def verdict_rows(verdicts: Iterable[PairwiseVerdict], evaluation_id: int) -> list[dict[str, Any]]:
    rows = []
    for verdict in verdicts:
        row = dataclasses.asdict(verdict)
        for name in ("p_win", "p_tie", "p_loss"):
            row[name] = None if row[name] is None else float(row[name])
        rows.append(row | {"evaluation_id": evaluation_id})
    return rows


VERDICT_COLUMNS = ["label", "eval_key", "baseline", "judge_model", "judge_mode",
                   *(f.name for f in dataclasses.fields(PairwiseVerdict))]


def verdict_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Verdict rows joined with their evaluation: label, key, baseline, and the judge and mode that gave them."""
    import json

    import pandas as pd

    records = []
    for row in rows:
        record = dict(row)
        judge = json.loads(record.pop("judge") or "null") or {}
        extra = json.loads(record.pop("extra") or "{}")
        records.append(record | {"baseline": extra.get("baseline"), "judge_model": judge.get("model"),
                                 "judge_mode": judge.get("mode")})
    return pd.DataFrame.from_records(records, columns=VERDICT_COLUMNS)
