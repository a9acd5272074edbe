"""MT-Bench questions whose rating moved most between two evaluations, with both models' answers.

MT-Bench has no right or wrong, so its "flips" are the questions with the largest change in the judge's
rating. A question's rating is the mean of its rated turns (a failed rating, stored as -1, is left out),
read from the results file spin_bench.mtbench writes (``results_path``: the judge and one judgment per
question and turn, with the question and the answer).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from spin_bench.core.errors import UserError

MOVED = 5  # questions shown per comparison
FAILED = -1  # the score spin_bench.mtbench stores for a turn the judge could not rate


@dataclass(frozen=True)
class MovedTurn:
    turn: int
    question: str
    a_answer: str
    b_answer: str
    a_score: float | None  # None: the judge failed on this turn
    b_score: float | None


@dataclass(frozen=True)
class MovedQuestion:
    question_id: int
    category: str
    a_rating: float  # mean over the rated turns
    b_rating: float
    turns: tuple[MovedTurn, ...]

    @property
    def change(self) -> float:
        return self.b_rating - self.a_rating


@dataclass(frozen=True)
class MtBenchMoves:
    """The most-moved questions (largest |B − A| first), out of ``compared`` rated by both; the judges named."""

    questions: tuple[MovedQuestion, ...]
    compared: int
    a_judge: str
    b_judge: str


def newest_mt_bench(evaluations: pd.DataFrame, label: str) -> Mapping[str, Any] | None:
    """The label's newest MT-Bench evaluation row (the store lists evaluations oldest first), or None."""
    mine = evaluations[(evaluations["suite"] == "mt_bench") & (evaluations["label"] == label)]
    return None if mine.empty else mine.iloc[-1].to_dict()


def mt_bench_moves(a_results: str | Path, b_results: str | Path, count: int = MOVED) -> MtBenchMoves:
    """The ``count`` questions rated by both whose rating moved most from A's results file to B's.

    Raises:
        UserError: a results file is missing or is not an MT-Bench results file.
    """
    a_judge, a_judged = _read(Path(a_results))
    b_judge, b_judged = _read(Path(b_results))
    moved = []
    for qid in sorted({qid for qid, _ in a_judged} & {qid for qid, _ in b_judged}):
        question = _question(qid, a_judged, b_judged)
        if question is not None:
            moved.append(question)
    moved.sort(key=lambda q: (-abs(q.change), q.question_id))
    return MtBenchMoves(tuple(moved[:max(count, 0)]), len(moved), a_judge, b_judge)


def _read(path: Path) -> tuple[str, dict[tuple[int, int], Mapping[str, Any]]]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        judge = payload["judge"]
        judged = {(int(j["question_id"]), int(j["turn"])): j for j in payload["judgments"]}
    except OSError as err:
        raise UserError(f"MT-Bench results file {path} cannot be read ({err.strerror or err})") from None
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(f"{path} is not an MT-Bench results file ({type(err).__name__}: {err})") from None
    return f"{judge.get('model')} ({judge.get('mode')} mode)", judged


def _question(qid: int, a_judged: Mapping[tuple[int, int], Mapping[str, Any]],
              b_judged: Mapping[tuple[int, int], Mapping[str, Any]]) -> MovedQuestion | None:
    """Both sides' turns of one question, or None when either side has no rated turn."""
    turns = []
    for turn in sorted({t for q, t in a_judged if q == qid} & {t for q, t in b_judged if q == qid}):
        a, b = a_judged[(qid, turn)], b_judged[(qid, turn)]
        turns.append(MovedTurn(turn, str(a.get("question", "")), str(a.get("answer", "")), str(b.get("answer", "")),
                               _score(a.get("score")), _score(b.get("score"))))
    a_scores = [t.a_score for t in turns if t.a_score is not None]
    b_scores = [t.b_score for t in turns if t.b_score is not None]
    if not a_scores or not b_scores:
        return None
    first = a_judged[(qid, turns[0].turn)]
    return MovedQuestion(qid, str(first.get("category", "")), sum(a_scores) / len(a_scores),
                         sum(b_scores) / len(b_scores), tuple(turns))


def _score(value: Any) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or value == FAILED:
        return None
    return float(value)
