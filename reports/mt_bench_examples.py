"""MT-Bench answers of each checkpoint side by side, with the judge's rating of each turn."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from reports.sections import ExamplesSection, MtBenchQuestion, MtBenchTurn, RatedAnswer

EXAMPLES = 3
Judged = dict[tuple[int, int], dict[str, Any]]  # (question id, turn) -> the judgment record


def mt_bench_examples(evaluations: pd.DataFrame, labels: Sequence[str],
                      count: int = EXAMPLES) -> ExamplesSection[MtBenchQuestion]:
    """The first ``count`` questions of the newest MT-Bench evaluation of each label, every label's answers.

    A relative results_path (a row stored before paths were recorded absolute) is read from the working
    directory.
    """
    mine = evaluations[(evaluations["suite"] == "mt_bench") & evaluations["label"].isin(list(labels))]
    if mine.empty:
        return ExamplesSection((), "left out: no MT-Bench evaluation of this run in the store")
    newest = mine.drop_duplicates("label", keep="last")  # the store lists evaluations oldest first
    judged: dict[str, Judged] = {}
    judges = set()
    for _, row in newest.iterrows():
        path = Path(str(row["results_path"]))
        if not path.is_file():
            continue
        payload = json.loads(path.read_text(encoding="utf-8"))
        judged[str(row["label"])] = {(j["question_id"], j["turn"]): j for j in payload["judgments"]}
        judges.add(f"{payload['judge']['model']} ({payload['judge']['mode']} mode)")
    if not judged:
        return ExamplesSection((), "left out: the MT-Bench results files of this run are missing (moved or deleted?)")
    order = [label for label in labels if label in judged]
    first = judged[order[0]]
    rows = tuple(_question(qid, order, judged) for qid in sorted({qid for qid, _ in first})[:count])
    note = (f"The first {len(rows)} judged MT-Bench questions, both turns (turn 2 sees the model's own turn-1 "
            f"answer). Judge: {', '.join(sorted(judges))}; a failed rating shows as -1.")
    return ExamplesSection(rows, note)


def _question(qid: int, order: Sequence[str], judged: Mapping[str, Judged]) -> MtBenchQuestion:
    first = judged[order[0]]
    turns = []
    for turn in (1, 2):
        base = first.get((qid, turn))
        if base is None:
            continue
        answers = tuple(RatedAnswer(label, judged[label][(qid, turn)]["answer"],
                                    _score(judged[label][(qid, turn)]["score"]))
                        for label in order if (qid, turn) in judged[label])
        turns.append(MtBenchTurn(turn, base["question"], answers))
    return MtBenchQuestion(qid, first[(qid, 1)]["category"], tuple(turns))


def _score(value: float) -> str:
    return "-1 (failed)" if value == -1 else f"{value:.2f}"
