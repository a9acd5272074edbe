"""Judge one checkpoint's answers against a baseline's, every (question, turn) in both orders, over the same
judge client (its cache, retries and modes) that single grading uses."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from spin_bench.mtbench.dataset import JudgePrompt, MTBenchData, Question
from spin_bench.mtbench.judge import Judge, RequestFailed
from spin_bench.mtbench.pairwise_protocol import (
    VERDICT_PREFIX,
    GameOutcome,
    Order,
    Verdict,
    VerdictDistribution,
    combine_orders,
    pair_prompt_name,
    parse_verdict,
    render_pair_user,
    verdict_distribution,
)
from spin_bench.mtbench.protocol import JudgeMode
from spin_bench.mtbench.win_rates import Game

Answers = Mapping[int, tuple[str, str]]


@dataclass(frozen=True)
class OrderJudgment:
    """One of a pair's two calls: the verdict as the judge gave it (A and B are its assistants)."""

    verdict: Verdict  # parsed (faithful), most probable (expected), or NONE
    distribution: VerdictDistribution | None  # None: no verdict
    output: str  # the judge's text, or the verdict distribution read in expected mode
    error: str | None = None
    retryable: bool = False  # the endpoint failed even after retries; nothing was cached


@dataclass(frozen=True)
class JudgedGame:
    question_id: int
    category: str
    turn: int
    prompt: str  # the pairwise judge prompt's name
    model_first: OrderJudgment
    baseline_first: OrderJudgment
    model_length: int
    baseline_length: int

    @property
    def outcome(self) -> GameOutcome | None:
        """FastChat's outcome for the checkpoint; None (dropped, as FastChat drops it) without both verdicts."""
        if self.model_first.distribution is None or self.baseline_first.distribution is None:
            return None
        return combine_orders(self.model_first.distribution, self.baseline_first.distribution)

    def as_game(self) -> Game | None:
        outcome = self.outcome
        if outcome is None:
            return None
        return Game(self.question_id, self.turn, outcome.win, outcome.tie, outcome.loss, self.model_length,
                    self.baseline_length)


def judge_order(judge: Judge, prompt: JudgePrompt, user: str) -> OrderJudgment:
    """One call: FastChat's request and parse (faithful), or the verdict distribution after "[[" (expected)."""
    try:
        if judge.settings.mode is JudgeMode.FAITHFUL:
            text = judge.text(prompt.system_prompt, user)
            verdict = parse_verdict(text)
            if verdict is Verdict.NONE:
                return OrderJudgment(verdict, None, text, error="no [[A]], [[B]] or [[C]] in the judge's output")
            return OrderJudgment(verdict, VerdictDistribution.certain(verdict), text)
        top = judge.next_token(prompt.system_prompt, user, VERDICT_PREFIX)
    except RequestFailed as failure:
        return OrderJudgment(Verdict.NONE, None, "", error=str(failure), retryable=True)
    distribution = verdict_distribution(top)
    if distribution is None:
        return OrderJudgment(Verdict.NONE, None, _shown(top), error="the judge put under 0.1 on A, B and C after '[['")
    shown = f"A:{distribution.a:.3f} B:{distribution.b:.3f} C:{distribution.tie:.3f} (mass {distribution.coverage:.3f})"
    return OrderJudgment(distribution.most_likely, distribution, shown)


def _shown(top: Mapping[str, float]) -> str:
    best = sorted(top.items(), key=lambda item: -item[1])[:5]
    return "top tokens: " + ", ".join(f"{token!r}:{logprob:.2f}" for token, logprob in best)


def judge_games(judge: Judge, data: MTBenchData, prompts: Mapping[str, JudgePrompt], model: Answers,
                baseline: Answers, label: str) -> list[JudgedGame]:
    """Every question's two turns, each in both orders; ``concurrency`` calls in flight, result order stable."""
    from tqdm.auto import tqdm

    jobs = [(q, turn, order) for q in data.questions for turn in (1, 2) for order in Order]

    def run(question: Question, turn: int, order: Order) -> OrderJudgment:
        name = pair_prompt_name(question.category, turn, data.reference_categories)
        first, second = (model, baseline) if order is Order.MODEL_FIRST else (baseline, model)
        user = render_pair_user(prompts[name].prompt_template, question.as_dict(), first[question.question_id],
                                second[question.question_id], turn)
        return judge_order(judge, prompts[name], user)

    calls: dict[tuple[int, int, Order], OrderJudgment] = {}
    with ThreadPoolExecutor(max_workers=judge.settings.concurrency) as pool, \
            tqdm(total=len(jobs), desc=f"MT-Bench pairwise {label}", unit="call", leave=False) as bar:
        futures = {pool.submit(run, *job): job for job in jobs}
        for future in as_completed(futures):
            question, turn, order = futures[future]
            calls[(question.question_id, turn, order)] = future.result()
            bar.update(1)
    games = []
    for question in data.questions:
        qid = question.question_id
        for turn in (1, 2):
            games.append(JudgedGame(
                qid, question.category, turn, pair_prompt_name(question.category, turn, data.reference_categories),
                calls[(qid, turn, Order.MODEL_FIRST)], calls[(qid, turn, Order.BASELINE_FIRST)],
                model_length=len(model[qid][turn - 1]), baseline_length=len(baseline[qid][turn - 1])))
    return games
