"""Pairwise MT-Bench maths against hand computations: FastChat's verdict parse and both-orders rule, the
expected-mode verdict, the win rate's bootstrap interval (the exact bootstrap distribution, enumerated),
and AlpacaEval 2's length-controlled win rate (closed forms of the logistic model's fit)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from spin_bench.mtbench.pairwise_protocol import (
    Verdict,
    VerdictDistribution,
    combine_orders,
    pair_prompt_name,
    parse_verdict,
    verdict_distribution,
)
from spin_bench.mtbench.win_rates import RIDGE, Game, length_controlled, win_rates


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# ------------------------------------------------------------------ FastChat's protocol


def test_parse_follows_fastchat_order():
    assert parse_verdict("Assistant A is better. [[A]]") is Verdict.A
    assert parse_verdict("[[B]]") is Verdict.B and parse_verdict("a tie: [[C]]") is Verdict.TIE
    assert parse_verdict("[[B]] ... on reflection [[A]]") is Verdict.A  # FastChat checks [[A]] first
    assert parse_verdict("I prefer A.") is Verdict.NONE and parse_verdict("[A]") is Verdict.NONE


def test_prompt_routing():
    assert pair_prompt_name("writing", 1) == "pair-v2" and pair_prompt_name("writing", 2) == "pair-v2-multi-turn"
    assert pair_prompt_name("math", 1) == "pair-math-v1" and pair_prompt_name("coding", 2) == "pair-math-v1-multi-turn"


@pytest.mark.parametrize(("first", "second", "outcome"), [
    (Verdict.A, Verdict.B, "win"),  # both orders prefer the checkpoint
    (Verdict.B, Verdict.A, "loss"),
    (Verdict.A, Verdict.A, "tie"),  # position bias: the orders disagree
    (Verdict.B, Verdict.B, "tie"),
    (Verdict.TIE, Verdict.B, "tie"),  # a tie in either order
    (Verdict.A, Verdict.TIE, "tie"),
])
def test_both_orders_rule_is_fastchats(first, second, outcome):
    game = combine_orders(VerdictDistribution.certain(first), VerdictDistribution.certain(second))
    assert game.label == outcome and {game.win, game.tie, game.loss} <= {0.0, 1.0}
    assert game.points == {"win": 1.0, "tie": 0.5, "loss": 0.0}[outcome]


def test_expected_verdict_from_next_token_probabilities():
    top = {"A": 0.5, " B": 0.2, "C]]": 0.1, "The": 0.15, "AB": 0.05}
    dist = verdict_distribution({token: math.log(p) for token, p in top.items()})
    assert dist.coverage == pytest.approx(0.8)
    assert (dist.a, dist.b, dist.tie) == pytest.approx((0.5 / 0.8, 0.2 / 0.8, 0.1 / 0.8))
    assert verdict_distribution({"The": math.log(0.95), "A": math.log(0.05)}) is None  # not giving a verdict
    # Both orders drawn independently: a win needs A first and B second.
    game = combine_orders(VerdictDistribution(0.7, 0.2, 0.1), VerdictDistribution(0.3, 0.6, 0.1))
    assert (game.win, game.loss, game.tie) == pytest.approx((0.42, 0.06, 0.52))
    assert game.points == pytest.approx(0.68)


# ------------------------------------------------------------------ the win rate and its interval


def _games(per_question: list[list[float]]) -> list[Game]:
    """Games from points (1 win, 0.5 tie, 0 loss), all answers of equal length."""
    return [Game(q, turn, float(p == 1.0), float(p == 0.5), float(p == 0.0), 10, 10)
            for q, points in enumerate(per_question, start=1) for turn, p in enumerate(points, start=1)]


def _exact_bootstrap(per_question: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Every equally likely draw of n questions from n, with replacement: (ratio of points to games, weight)."""
    points = [sum(q) for q in per_question]
    games = [len(q) for q in per_question]
    values = {}
    for draw in itertools.product(range(len(per_question)), repeat=len(per_question)):
        value = sum(points[i] for i in draw) / sum(games[i] for i in draw)
        values[round(value, 12)] = values.get(round(value, 12), 0) + 1
    support = np.array(sorted(values))
    return support, np.array([values[v] for v in support]) / len(per_question) ** len(per_question)


# q1 won turn 1 and lost turn 2, q2-q4 tied both turns, q5 has one game (a win; its other had no verdict).
PER_QUESTION = [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [1.0]]
EXACT_INTERVAL = (0.5, 5 / 7)  # the exact bootstrap distribution's 2.5% and 97.5% points, enumerated below


def test_win_rate_and_interval_match_the_exact_bootstrap():
    rates = win_rates(_games(PER_QUESTION), resamples=20_000, seed=7)
    assert (rates.games, rates.questions, rates.wins, rates.ties, rates.losses) == (9, 5, 2, 6, 1)
    assert rates.win_rate == pytest.approx(5 / 9)  # (2 wins + 6 ties / 2) / 9 games
    support, mass = _exact_bootstrap(PER_QUESTION)  # all 5^5 draws of five questions from five
    cdf = np.cumsum(mass)
    low, high = np.searchsorted(cdf, 0.025), np.searchsorted(cdf, 0.975)
    assert (support[low], support[high]) == pytest.approx(EXACT_INTERVAL)
    # Each point sits inside one atom of the distribution with a margin of > 15 standard errors of a
    # 20,000-resample percentile, so the seeded bootstrap must land on it exactly.
    below_low = cdf[low - 1] if low else 0.0  # 0.5 is the smallest value a resample can have
    assert min(0.025 - below_low, cdf[low] - 0.025, 0.975 - cdf[high - 1], cdf[high] - 0.975) > 0.018
    assert (rates.win_rate_ci.low, rates.win_rate_ci.high) == pytest.approx(EXACT_INTERVAL)
    again = win_rates(_games(PER_QUESTION), resamples=20_000, seed=7)
    assert again.win_rate_ci == rates.win_rate_ci  # seeded: the same interval on every rerun


def test_one_question_has_no_interval():
    rates = win_rates(_games([[1.0, 0.5]]), resamples=100, seed=0)
    assert rates.win_rate == 0.75 and rates.win_rate_ci is None


# ------------------------------------------------------------------ length-controlled win rate


def test_lc_saturated_model_matches_closed_form():
    """Two length groups make the logistic model saturated: the fit reproduces each group's mean preference
    p+ (checkpoint longer) and p- (shorter), so LC = sigmoid((logit p+ + logit p-) / 2), whatever the group
    sizes and the length gap: here 0.620 against a plain win rate of 0.70 (the longer answers won more)."""
    points = np.array([1.0] * 120 + [0.0] * 30 + [1.0] * 20 + [0.0] * 30)  # p+ = 0.8 (150 games), p- = 0.4 (50)
    model = np.array([200] * 150 + [0] * 50)
    lc, coefficient = length_controlled(points, model, np.full(200, 100))
    assert points.mean() == pytest.approx(0.70)
    assert lc == pytest.approx(_sigmoid((_logit(0.8) + _logit(0.4)) / 2), abs=1e-6)  # 0.6202
    assert coefficient < 0  # delta = baseline - checkpoint length: a longer checkpoint wins more


def test_lc_equals_plain_without_length_differences_or_effects():
    points = np.array([1.0, 0.0, 0.5, 1.0, 1.0, 0.0])
    # (up to the weak ridge's pull towards 1/2: about 1e-5 on six games)
    assert length_controlled(points, np.full(6, 50), np.full(6, 50))[0] == pytest.approx(points.mean(), abs=1e-4)
    # Each length gap appears once each way with the same outcome: no length effect, LC = plain.
    mirrored = np.concatenate([points, points])
    model = np.concatenate([np.arange(6) * 10 + 100, 100 - np.arange(6) * 10])
    lc, coefficient = length_controlled(mirrored, model, np.full(12, 100))
    assert lc == pytest.approx(mirrored.mean(), abs=1e-4) and coefficient == pytest.approx(0.0, abs=1e-6)


def test_lc_is_undefined_when_length_and_quality_cannot_be_told_apart():
    assert length_controlled(np.array([1.0, 0.0]), np.array([20, 20]), np.array([10, 10])) is None
    assert length_controlled(np.array([1.0]), np.array([20]), np.array([10])) is None
    rates = win_rates([Game(1, 1, 1, 0, 0, 20, 10), Game(2, 1, 0, 0, 1, 20, 10)], resamples=50, seed=0)
    assert rates.lc is None and rates.lc_ci is None and rates.win_rate_ci is not None


def test_batched_fit_matches_scipy_minimize():
    """The hand-written batched Newton fit against scipy's optimiser on the same penalised log loss."""
    from scipy.optimize import minimize
    from scipy.special import log_expit

    rng = np.random.default_rng(3)
    points = rng.choice([0.0, 0.5, 1.0], size=60) * 0.6 + rng.uniform(0, 0.4, size=60)
    model, base = rng.integers(20, 400, size=60), rng.integers(20, 400, size=60)
    delta = base - model
    x = np.column_stack([np.ones(60), np.tanh(delta / np.std(delta, ddof=1))])

    def loss(theta):
        z = x @ theta
        return -np.sum(points * log_expit(z) + (1 - points) * log_expit(-z)) + 0.5 * RIDGE * theta @ theta

    theta = minimize(loss, np.zeros(2), method="BFGS", options={"gtol": 1e-10}).x
    lc, coefficient = length_controlled(points, model, base)
    assert (lc, coefficient) == pytest.approx((_sigmoid(theta[0]), theta[1]), abs=1e-6)


def test_lc_interval_brackets_the_estimate():
    rng = np.random.default_rng(0)
    games = [Game(q, t, w, 0.0, 1.0 - w, int(rng.integers(50, 150)) + 40 * int(w), 100)
             for q in range(30) for t in (1, 2) for w in [float(rng.random() < 0.6)]]
    rates = win_rates(games, resamples=500, seed=1)
    assert rates.lc_ci.low < rates.lc < rates.lc_ci.high
    assert rates.lc < rates.win_rate  # the checkpoint won with longer answers: controlling for length lowers it


# ------------------------------------------------------------------ configuration


def test_pairwise_section_from_flags_and_recipes():
    from spin_bench.cli import build_parser
    from spin_bench.cli.evaluate import bench_config
    from spin_bench.core.errors import ConfigError
    from spin_bench.core.typed_config import from_mapping
    from spin_bench.mtbench.config import MTBenchConfig, PairwiseConfig

    parser = build_parser()
    args = parser.parse_args(["eval", "--model", "m", "--recipe", "embedded", "--suite", "mt_bench",
                              "--pairwise-baseline", "sft", "--pairwise-checkpoints", "iter1, iter2"])
    config, _ = bench_config(args)  # the embedded recipe has no pairwise section: the flags start one
    assert config.mt_bench.pairwise == PairwiseConfig(baseline="sft", checkpoints=("iter1", "iter2"))
    assert bench_config(parser.parse_args(["eval", "--model", "m"]))[0].mt_bench.pairwise is None
    section = from_mapping(MTBenchConfig, {"pairwise": {"checkpoints": ["iter2"], "resamples": 500}}, "recipe.yaml")
    assert section.pairwise.baseline == "sft" and section.pairwise.resamples == 500  # the default baseline
    with pytest.raises(ConfigError, match=r"recipe.yaml: unknown key\(s\): pairwise.basline"):
        from_mapping(MTBenchConfig, {"pairwise": {"basline": "sft"}}, "recipe.yaml")
    with pytest.raises(ConfigError, match="confidence"):
        from_mapping(MTBenchConfig, {"pairwise": {"confidence": 95}}, "recipe.yaml")
