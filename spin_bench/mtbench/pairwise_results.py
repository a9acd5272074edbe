"""What a pairwise MT-Bench evaluation leaves behind: score rows (win rates and their intervals), one verdict
row per game in the store, and a results JSON with every judge output and both answers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spin_bench.core.atomic import write_json_atomic
from spin_bench.mtbench.answers import AnswerSettings
from spin_bench.mtbench.dataset import MTBenchData
from spin_bench.mtbench.judge import JudgeSettings
from spin_bench.mtbench.pairwise_judging import Answers, JudgedGame
from spin_bench.mtbench.protocol import JudgeMode
from spin_bench.mtbench.results import deviations as single_deviations
from spin_bench.mtbench.win_rates import WinRates
from spin_bench.store import ScoreRecord
from spin_bench.store.cache import SuiteOutcome
from spin_bench.store.pairwise import PairwiseVerdict

TASK = "mt_bench_pairwise"
LC_NOTE = ("length-controlled win rate: AlpacaEval 2's logistic model with a length term, fitted without its "
           "instruction-difficulty term (AlpacaEval's length_controlled_minimal) and with a weak ridge instead of "
           "its cross-validated L1 penalty")


def pairwise_deviations(data: MTBenchData, answers: AnswerSettings, judge: JudgeSettings) -> tuple[str, ...]:
    notes = [n for n in single_deviations(data, answers, judge) if "rating mode" not in n]
    if judge.mode is JudgeMode.EXPECTED:
        notes.append("MT-Bench pairwise verdict mode 'expected': the judge's probabilities of A, B and C after '[[' "
                     "in each order, combined by FastChat's both-orders rule in expectation, not its parsed [[A]]")
    notes.append(LC_NOTE)
    return tuple(notes)


def score_records(rates: WinRates, dropped: int, data: MTBenchData, notes: tuple[str, ...],
                  prompts_hash: str) -> list[ScoreRecord]:
    """Win rates as fractions, their interval bounds, the outcome counts and the mean answer lengths."""
    common = {"task": TASK, "filter": "none", "n_shot": 0, "task_config_hash": prompts_hash,
              "data_source": str(data.source.get("origin", "")), "deviations": notes}
    nan = float("nan")

    def record(metric: str, value: float | None, n: int = rates.games) -> ScoreRecord:
        return ScoreRecord(metric=metric, value=nan if value is None else value, stderr=None, n=n, **common)

    plain, lc = rates.win_rate_ci, rates.lc_ci
    return [
        record("win_rate", rates.win_rate),
        record("win_rate_ci_low", None if plain is None else plain.low),
        record("win_rate_ci_high", None if plain is None else plain.high),
        record("lc_win_rate", rates.lc),
        record("lc_win_rate_ci_low", None if lc is None else lc.low),
        record("lc_win_rate_ci_high", None if lc is None else lc.high),
        record("length_coefficient", rates.length_coefficient),
        record("wins", rates.wins), record("ties", rates.ties), record("losses", rates.losses),
        record("failed", float(dropped), n=rates.games + dropped),
        record("model_length", rates.model_length), record("baseline_length", rates.baseline_length),
    ]


def verdict_records(games: list[JudgedGame]) -> list[PairwiseVerdict]:
    records = []
    for game in games:
        outcome = game.outcome
        records.append(PairwiseVerdict(
            question_id=game.question_id, turn=game.turn, category=game.category, judge_prompt=game.prompt,
            verdict_model_first=game.model_first.verdict.value,
            verdict_baseline_first=game.baseline_first.verdict.value,
            outcome="error" if outcome is None else outcome.label,
            p_win=None if outcome is None else outcome.win, p_tie=None if outcome is None else outcome.tie,
            p_loss=None if outcome is None else outcome.loss,
            model_length=game.model_length, baseline_length=game.baseline_length))
    return records


def write_pairwise_results(path: Path, data: MTBenchData, model: Answers, baseline: Answers, games: list[JudgedGame],
                           rates: WinRates, header: dict[str, Any]) -> Path:
    """``mt_bench_pairwise.json``: the summary and every game with both answers and both judge outputs."""
    questions = {q.question_id: q for q in data.questions}
    rows = []
    for game in games:
        outcome = game.outcome
        rows.append({
            "question_id": game.question_id, "category": game.category, "turn": game.turn, "judge_prompt": game.prompt,
            "question": questions[game.question_id].turns[game.turn - 1],
            "model_answer": model[game.question_id][game.turn - 1],
            "baseline_answer": baseline[game.question_id][game.turn - 1],
            "model_first": {"verdict": game.model_first.verdict.value, "output": game.model_first.output,
                            "error": game.model_first.error},
            "baseline_first": {"verdict": game.baseline_first.verdict.value, "output": game.baseline_first.output,
                               "error": game.baseline_first.error},
            "outcome": None if outcome is None else {"win": outcome.win, "tie": outcome.tie, "loss": outcome.loss},
        })
    summary = {"games": rates.games, "questions": rates.questions, "wins": rates.wins, "ties": rates.ties,
               "losses": rates.losses, "win_rate": rates.win_rate, "lc_win_rate": rates.lc,
               "win_rate_ci": None if rates.win_rate_ci is None else [rates.win_rate_ci.low, rates.win_rate_ci.high],
               "lc_win_rate_ci": None if rates.lc_ci is None else [rates.lc_ci.low, rates.lc_ci.high],
               "confidence": rates.confidence, "resamples": rates.resamples, "seed": rates.seed}
    write_json_atomic(path, {**header, "summary": summary, "games": rows})
    return path


def pairwise_summary_lines(outcomes: Sequence[SuiteOutcome]) -> list[str]:
    """One line per pair: win rate and LC win rate (with intervals) and the outcome counts."""
    if not outcomes:
        return []

    def percent(values: dict[str, float], metric: str) -> str:
        value, low, high = (values.get(f"{metric}{part}", nan) for part in ("", "_ci_low", "_ci_high"))
        if value != value:
            return "-"
        return f"{100 * value:.1f}" + ("" if low != low else f" [{100 * low:.1f}, {100 * high:.1f}]")

    nan = float("nan")
    lines = [f"{'pairwise (vs baseline)':<28} {'win rate % [CI]':>22} {'LC win rate % [CI]':>22} {'W/T/L':>14}"]
    for outcome in outcomes:
        values = {s.metric: s.value for s in outcome.scores if s.task == TASK}
        counts = "/".join(f"{values.get(k, nan):.0f}" for k in ("wins", "ties", "losses"))
        lines.append(f"{outcome.model.label:<28} {percent(values, 'win_rate'):>22} "
                     f"{percent(values, 'lc_win_rate'):>22} {counts:>14}" + ("  (cached)" if outcome.cached else ""))
    notes = sorted({d for o in outcomes for s in o.scores if s.task == TASK for d in s.deviations})
    lines.extend(f"  - {text}" for text in notes)
    return lines
