"""Win rates of a checkpoint against a baseline from pairwise games: plain, length-controlled, and their
bootstrap confidence intervals.

The plain win rate is FastChat's ``win_rate_adjusted`` (show_result.py): (wins + ties / 2) / games. The
length-controlled (LC) win rate is AlpacaEval 2's (Dubois et al. 2024, alpaca_eval.metrics.glm_winrate):
a logistic model of the checkpoint's preference with a length term, evaluated with the length difference
set to zero. Why not the ``alpaca_eval`` package itself: 0.6.6 installs cleanly beside this stack, but it
cannot be imported here (its utils import ``pkg_resources``, which setuptools >= 81 no longer ships), and
its entry point downloads AlpacaEval's per-instruction difficulties from the Hugging Face Hub. So the
regression is written here with scipy, as AlpacaEval's ``length_controlled_minimal`` GLM:

    logit P(checkpoint preferred) = theta_0 + theta_len * tanh(std_delta_len)
    std_delta_len = (len(baseline) - len(checkpoint)) / std(len(baseline) - len(checkpoint))

fitted on soft labels (a tie is 1/2, an expected-mode game its expected points), and LC = sigmoid(theta_0),
the win rate the fitted model predicts when both answers have the same length. Deviations from AlpacaEval's
default ``length_controlled_v1``: no instruction-difficulty term (it is estimated from AlpacaEval's 805
instructions over its whole leaderboard; MT-Bench questions have none), and a maximum-likelihood fit with a
weak ridge (RIDGE) instead of an L1 penalty chosen by 5-fold cross-validation, which with two coefficients
only keeps a length-separated sample finite.

Confidence intervals are percentile bootstraps over questions (scipy.stats.bootstrap, seeded): both turns
of a question are resampled together, since they share a question and an answer history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# The ridge on both coefficients (per unit of summed log-loss): negligible against any real sample, and
# enough to keep the fit finite when the outcome is separated by length (e.g. the longer answer always wins).
RIDGE = 1e-4
MAX_NEWTON_STEPS = 100
# The share of bootstrap resamples allowed to have no defined LC value before the interval is withheld.
MAX_UNDEFINED = 0.01


@dataclass(frozen=True)
class Game:
    """One (question, turn) judged in both orders, from the checkpoint's side."""

    question_id: int
    turn: int
    win: float
    tie: float
    loss: float
    model_length: int  # characters of the checkpoint's answer to this turn (AlpacaEval counts characters)
    baseline_length: int

    @property
    def points(self) -> float:
        return self.win + 0.5 * self.tie


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class WinRates:
    """The checkpoint's win rates over ``games`` (fractions in [0, 1]); counts are expected counts in the
    expected mode. ``lc`` and its interval are None where the length term cannot be fitted."""

    games: int
    questions: int
    wins: float
    ties: float
    losses: float
    win_rate: float
    win_rate_ci: Interval | None
    lc: float | None
    lc_ci: Interval | None
    length_coefficient: float | None
    model_length: float  # mean characters per judged answer
    baseline_length: float
    confidence: float
    resamples: int
    seed: int


def length_controlled(points: np.ndarray, model_lengths: np.ndarray, baseline_lengths: np.ndarray
                      ) -> tuple[float, float] | None:
    """AlpacaEval's length-controlled win rate and the fitted length coefficient, or None when the length
    term is not identifiable (fewer than two games, or the same length difference in every game: then
    length and quality cannot be told apart). Equal lengths throughout give the plain win rate."""
    y = np.asarray(points, float)
    fitted = _fit_lc(y, np.asarray(baseline_lengths, float) - np.asarray(model_lengths, float), np.ones((1, len(y))))
    if not np.isfinite(fitted[0, 0]):
        return None
    return float(_sigmoid(fitted[0, 0])), float(fitted[0, 1])


def win_rates(games: Sequence[Game], *, resamples: int, seed: int, confidence: float = 0.95) -> WinRates:
    """Plain and length-controlled win rates with percentile-bootstrap intervals over questions."""
    if not games:
        raise ValueError("no games to compute a win rate from")
    points = np.array([g.points for g in games])
    model_len = np.array([g.model_length for g in games], float)
    base_len = np.array([g.baseline_length for g in games], float)
    delta = base_len - model_len
    lc = length_controlled(points, model_len, base_len)
    question_of_game = _question_index(games)

    def plain(weights: np.ndarray) -> np.ndarray:
        return weights @ points / weights.sum(axis=1)

    def controlled(weights: np.ndarray) -> np.ndarray:
        return _sigmoid(_fit_lc(points, delta, weights)[:, 0])

    intervals = [None if stat is None else _bootstrap(question_of_game, stat, resamples, seed, confidence)
                 for stat in (plain, None if lc is None else controlled)]
    return WinRates(
        games=len(games), questions=int(question_of_game.max()) + 1, wins=float(sum(g.win for g in games)),
        ties=float(sum(g.tie for g in games)), losses=float(sum(g.loss for g in games)),
        win_rate=float(points.mean()), win_rate_ci=intervals[0], lc=None if lc is None else lc[0],
        lc_ci=intervals[1], length_coefficient=None if lc is None else lc[1], model_length=float(model_len.mean()),
        baseline_length=float(base_len.mean()), confidence=confidence, resamples=resamples, seed=seed)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(z)


def _fit_lc(y: np.ndarray, delta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """theta = (theta_0, theta_len) of the LC model for each row of ``weights`` (B, n): a game counted w times.

    Written by hand (a damped Newton method, batched) rather than one scipy.optimize.minimize per fit:
    the bootstrap refits the model once per resample, and 2,000 scipy fits take about a minute on two
    cores, the batch well under a second. tests/mtbench/test_pairwise_stats.py checks it against scipy.
    Returns NaN rows where the length term is not identifiable in that resample.
    """
    total = weights.sum(axis=1, keepdims=True)
    mean = weights @ delta / total[:, 0]
    spread = np.sqrt((weights * (delta - mean[:, None]) ** 2).sum(axis=1) / np.maximum(total[:, 0] - 1, 1e-12))
    same = ~np.any((weights > 0) & (delta != 0), axis=1)  # equal lengths throughout: LC is the plain rate
    bad = (total[:, 0] < 2) | (~same & ~(spread > 0))
    x = np.tanh(delta / np.where(spread > 0, spread, 1.0)[:, None]) * ~same[:, None]
    theta = np.zeros((len(weights), 2))
    active = np.flatnonzero(~bad)
    for _ in range(MAX_NEWTON_STEPS):
        if not len(active):
            break
        rows = (x[active], y, weights[active])
        step = _newton_step(theta[active], *rows)
        theta[active], moved = _line_search(theta[active], step, *rows)
        active = active[moved & (np.max(np.abs(step), axis=1) > 1e-9)]
    theta[bad] = np.nan
    return theta


def _lc_loss(theta: np.ndarray, x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Summed soft-label log loss with the ridge, per row; ``theta`` (..., B, 2) broadcasts over steps."""
    from scipy.special import log_expit

    z = theta[..., :1] + theta[..., 1:] * x
    loss = -(weights * (y * log_expit(z) + (1.0 - y) * log_expit(-z))).sum(axis=-1)
    return loss + 0.5 * RIDGE * (theta ** 2).sum(axis=-1)


def _newton_step(theta: np.ndarray, x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    p = _sigmoid(theta[:, :1] + theta[:, 1:] * x)
    residual, curvature = weights * (p - y), weights * p * (1.0 - p)
    g0, g1 = residual.sum(axis=1) + RIDGE * theta[:, 0], (residual * x).sum(axis=1) + RIDGE * theta[:, 1]
    h00, h01 = curvature.sum(axis=1) + RIDGE, (curvature * x).sum(axis=1)
    h11 = (curvature * x * x).sum(axis=1) + RIDGE
    det = h00 * h11 - h01 * h01  # > 0: the ridge makes the Hessian positive definite
    return -np.column_stack([(h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det])


def _line_search(theta: np.ndarray, step: np.ndarray, x: np.ndarray, y: np.ndarray,
                 weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Take the Newton step where it lowers the loss, else the longest of 1/2, 1/4, ..., 1/1024 that does
    (Newton alone can overshoot when a resample is nearly separated by length); a row that no step
    improves has converged and stays where it is. Returns the new rows and which of them moved."""
    before = _lc_loss(theta, x, y, weights)
    moved = theta.copy()
    pending = np.arange(len(theta))
    for scale in 0.5 ** np.arange(11):
        trial = theta[pending] + scale * step[pending]
        better = _lc_loss(trial, x[pending], y, weights[pending]) < before[pending]
        moved[pending[better]] = trial[better]
        pending = pending[~better]
        if not len(pending):
            break
    still = np.zeros(len(theta), bool)
    still[pending] = True
    return moved, ~still


def _question_index(games: Sequence[Game]) -> np.ndarray:
    """For each game, the index of its question (questions numbered in order of first appearance)."""
    numbers: dict[int, int] = {}
    return np.array([numbers.setdefault(g.question_id, len(numbers)) for g in games])


def _bootstrap(question_of_game: np.ndarray, statistic, resamples: int, seed: int, confidence: float
               ) -> Interval | None:
    """Percentile interval of ``statistic`` over questions drawn with replacement (scipy.stats.bootstrap's
    resampling, seeded). ``statistic`` takes game weights (B, n): how often each game's question was drawn.

    Resamples where the statistic is undefined (an LC fit on a resample whose games all share one length
    difference) are left out of the percentiles, as long as they are under MAX_UNDEFINED of them; the
    percentiles are scipy's own (np.percentile of the bootstrap distribution). None with fewer than two
    questions, or too many undefined resamples.
    """
    questions = int(question_of_game.max()) + 1
    if questions < 2 or resamples < 1:
        return None
    import warnings

    from scipy.stats import DegenerateDataWarning, bootstrap

    def over_questions(drawn: np.ndarray, axis: int = -1) -> np.ndarray:
        drawn = np.atleast_2d(drawn)
        counts = np.zeros((len(drawn), questions))
        np.add.at(counts, (np.arange(len(drawn))[:, None], drawn), 1.0)
        return statistic(counts[:, question_of_game])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)  # undefined resamples are handled below
        result = bootstrap((np.arange(questions),), over_questions, n_resamples=resamples, vectorized=True,
                           confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed))
    distribution = np.ravel(result.bootstrap_distribution)
    defined = distribution[np.isfinite(distribution)]
    if len(defined) < (1.0 - MAX_UNDEFINED) * len(distribution):
        return None
    tail = 50.0 * (1.0 - confidence)
    low, high = np.percentile(defined, [tail, 100.0 - tail])
    return Interval(float(low), float(high))
