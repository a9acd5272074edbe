"""What an MT-Bench evaluation leaves behind: store rows, a results JSON, and per-turn sample logs.

The sample logs use lm-eval's file naming and fields (``doc_id``, ``doc_hash``, ``filter``, the metric),
so the report's paired tests (reports.samples) read MT-Bench scores the way they read lm-eval's.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from spin_bench import __version__
from spin_bench.core.atomic import write_json_atomic, write_text_atomic
from spin_bench.core.hashing import stable_hash
from spin_bench.inference.models import ModelRef
from spin_bench.mtbench.answers import AnswerSettings
from spin_bench.mtbench.dataset import MTBenchData
from spin_bench.mtbench.judge import JudgedTurn, JudgeSettings
from spin_bench.mtbench.protocol import FAILED, Aggregate, JudgeMode
from spin_bench.store import EvaluationRecord, ScoreRecord

PAPER_JUDGE = "gpt-4"


def deviations(data: MTBenchData, answers: AnswerSettings, judge: JudgeSettings) -> tuple[str, ...]:
    notes = [*data.deviations, *answers.deviations()]
    if judge.model != PAPER_JUDGE:
        notes.append(f"MT-Bench judged by {judge.model}, not GPT-4: not comparable with published MT-Bench scores")
    if judge.mode is JudgeMode.EXPECTED:
        notes.append("MT-Bench rating mode 'expected': the judge's probability-weighted rating after 'Rating: [[', "
                     "not FastChat's parsed [[rating]]")
    return tuple(notes)


def evaluation_record(model: ModelRef, store_key: str, suite: str, answers: AnswerSettings, judge: dict[str, Any],
                      results_path: Path, samples_path: Path | None, extra: dict[str, Any]) -> EvaluationRecord:
    """The store row of one MT-Bench evaluation (single grading or pairwise) of ``model``."""
    return EvaluationRecord(
        eval_key=store_key, model_path=model.path, model_hash=model.model_hash, label=model.label,
        iteration=model.iteration, suite=suite, backend=answers.backend, dtype=answers.precision,
        batch_size=answers.batch_size, limit=None, add_bos=False, chat_template_hash=None,
        lm_eval_version=f"spin-bench {__version__} (MT-Bench is judged by spin-bench, not lm-eval)",
        judge=judge, results_path=str(results_path), samples_path=None if samples_path is None else str(samples_path),
        extra={**model.extra, **extra})


def score_records(summary: Aggregate, judged: list[JudgedTurn], data: MTBenchData, answers: AnswerSettings,
                  judge: JudgeSettings) -> list[ScoreRecord]:
    """Overall, per turn and per category (task ``mt_bench_<category>``, metric ``score``), failures counted."""
    common = {"filter": "none", "n_shot": 0, "task_config_hash": data.prompts_hash(),
              "data_source": str(data.source.get("origin", "")), "deviations": deviations(data, answers, judge)}
    judged_scores = [j.judgment.score for j in judged if j.judgment.score != FAILED]

    def count(predicate) -> int:
        return sum(1 for j in judged if j.judgment.score != FAILED and predicate(j))

    records = [
        ScoreRecord(task="mt_bench", metric="score", value=summary.overall, stderr=summary.stderr,
                    n=len(judged_scores), **common),
        ScoreRecord(task="mt_bench", metric="failed", value=float(summary.failed), stderr=None, n=len(judged), **common),
        ScoreRecord(task="mt_bench_turn1", metric="score", value=summary.turn1, stderr=None,
                    n=count(lambda j: j.turn == 1), **common),
        ScoreRecord(task="mt_bench_turn2", metric="score", value=summary.turn2, stderr=None,
                    n=count(lambda j: j.turn == 2), **common),
    ]
    for category, value in summary.categories.items():
        records.append(ScoreRecord(task=f"mt_bench_{category}", metric="score", value=value, stderr=None,
                                   n=count(lambda j, c=category: j.category == c), **common))
    coverages = [j.judgment.coverage for j in judged if j.judgment.coverage is not None]
    if coverages:  # how much of the judge's mass fell on a rating: low values mean a judge that is not rating
        records.append(ScoreRecord(task="mt_bench", metric="rating_coverage", value=sum(coverages) / len(coverages),
                                   stderr=None, n=len(coverages), **common))
    return records


def write_results(directory: Path, data: MTBenchData, answers: dict[int, tuple[str, str]], judged: list[JudgedTurn],
                  summary: Aggregate, judge: JudgeSettings) -> tuple[Path, Path]:
    """``mt_bench.json`` (summary and every judgment, with the answers) and ``samples/`` for paired tests."""
    questions = {q.question_id: q for q in data.questions}
    rows = []
    for j in judged:
        question = questions[j.question_id]
        rows.append({"question_id": j.question_id, "category": j.category, "turn": j.turn, "judge_prompt": j.prompt,
                     "question": question.turns[j.turn - 1], "answer": answers[j.question_id][j.turn - 1],
                     "score": j.judgment.score, "judge_output": j.judgment.output, "error": j.judgment.error,
                     "coverage": j.judgment.coverage})
    results_file = directory / "mt_bench.json"
    write_json_atomic(results_file, {"judge": judge.provenance(), "prompts_hash": data.prompts_hash(),
                                     "summary": _summary(summary), "judgments": rows})
    samples = directory / "samples"
    stamp = datetime.now().isoformat().replace(":", "-")
    tasks: dict[str, list[dict[str, Any]]] = {"mt_bench": [], "mt_bench_turn1": [], "mt_bench_turn2": []}
    for row in rows:
        if row["score"] == FAILED:
            continue  # FastChat drops failed ratings from every mean; the paired tests do too
        question = questions[row["question_id"]]
        sample = {"doc_id": f"{row['question_id']}-{row['turn']}", "filter": "none", "score": row["score"],
                  "doc_hash": stable_hash({"category": question.category, "turns": list(question.turns),
                                           "turn": row["turn"]}),
                  "doc": {"question_id": row["question_id"], "turn": row["turn"], "category": row["category"]},
                  "resps": [[row["answer"]]], "judge_output": row["judge_output"], "metrics": ["score"]}
        for task in ("mt_bench", f"mt_bench_turn{row['turn']}", f"mt_bench_{row['category']}"):
            tasks.setdefault(task, []).append(sample)
    for task, lines in tasks.items():
        text = "".join(json.dumps(line) + "\n" for line in lines)
        write_text_atomic(samples / f"samples_spin_{task}_{stamp}.jsonl", text)
    return results_file, samples


def _summary(summary: Aggregate) -> dict[str, Any]:
    return {"overall": summary.overall, "turn1": summary.turn1, "turn2": summary.turn2,
            "categories": summary.categories, "judged": summary.judged, "failed": summary.failed,
            "stderr": summary.stderr}
