"""MT-Bench answers of each checkpoint side by side, with the judge's rating of each turn."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

EXAMPLES = 3


def mt_bench_examples(evaluations: pd.DataFrame, labels: Sequence[str], root: Path | None,
                      count: int = EXAMPLES) -> dict[str, Any]:
    """The first ``count`` questions of the newest MT-Bench evaluation of each label, every label's answers."""
    mine = evaluations[(evaluations["suite"] == "mt_bench") & evaluations["label"].isin(list(labels))]
    if mine.empty:
        return {"rows": [], "note": "left out: no MT-Bench evaluation of this run in the store"}
    newest = mine.drop_duplicates("label", keep="last")  # the store lists evaluations oldest first
    judged: dict[str, dict[tuple[int, int], dict[str, Any]]] = {}
    judges = set()
    for _, row in newest.iterrows():
        path = _resolve(str(row["results_path"]), root)
        if path is None:
            continue
        payload = json.loads(path.read_text(encoding="utf-8"))
        judged[str(row["label"])] = {(j["question_id"], j["turn"]): j for j in payload["judgments"]}
        judges.add(f"{payload['judge']['model']} ({payload['judge']['mode']} mode)")
    if not judged:
        return {"rows": [], "note": "left out: the MT-Bench results files of this run are missing (moved or deleted?)"}
    order = [label for label in labels if label in judged]
    first = judged[order[0]]
    questions = sorted({qid for qid, _ in first})[:count]
    rows = []
    for qid in questions:
        turns = []
        for turn in (1, 2):
            base = first.get((qid, turn))
            if base is None:
                continue
            answers = [{"who": label, "text": judged[label][(qid, turn)]["answer"],
                        "score": _score(judged[label][(qid, turn)]["score"])}
                       for label in order if (qid, turn) in judged[label]]
            turns.append({"turn": turn, "question": base["question"], "answers": answers})
        rows.append({"question_id": qid, "category": first[(qid, 1)]["category"], "turns": turns})
    note = (f"The first {len(rows)} judged MT-Bench questions, both turns (turn 2 sees the model's own turn-1 "
            f"answer). Judge: {', '.join(sorted(judges))}; a failed rating shows as -1.")
    return {"rows": rows, "note": note}


def _score(value: float) -> str:
    return "-1 (failed)" if value == -1 else f"{value:.2f}"


def _resolve(path: str, root: Path | None) -> Path | None:
    candidate = Path(path)
    if not candidate.is_file() and root is not None and not candidate.is_absolute():
        candidate = root / candidate
    return candidate if candidate.is_file() else None
