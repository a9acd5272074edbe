"""Paired significance tests for two models scored on the same documents, and Holm's correction.

Both models answered the same questions, so the tests are paired: an unpaired test (lm-eval's
model_comparator z-test) throws away that pairing and is far less sensitive at the same size.

- 0/1 scores (acc, acc_norm, exact_match): exact McNemar test on the discordant pairs, paired bootstrap CI.
- Continuous scores (truthfulqa_mc2's per-doc acc, MT-Bench 1..10 turn scores): paired bootstrap for both.
- A mean of several tasks' means (the Open LLM Leaderboard Average): a stratified paired bootstrap, documents
  resampled within each task (:func:`stratified_difference`).

Each result also carries its minimum detectable difference (:func:`minimum_detectable_difference`): how large
a true difference the test would have caught, so "not significant" on a small task reads as "too small to
tell", not as "no change".
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from spin_bench.core.errors import UserError

MCNEMAR = "McNemar (exact)"
BOOTSTRAP = "paired bootstrap"
STRATIFIED_BOOTSTRAP = "stratified paired bootstrap"
MDE_POWER = 0.8  # the power at which the minimum detectable difference is quoted
# Bootstrap draws are made in blocks of at most this many numbers, so 10,000 replicates of a 10,000-item
# task (HellaSwag) stay a few MB instead of 800 MB.
_BLOCK_ELEMENTS = 2_000_000


class NoSharedDocuments(UserError):
    """Two evaluations of a task have no document in common (different data, or different doc hashes)."""


@dataclass(frozen=True)
class PairedResult:
    """B minus A. ``ci_low``/``ci_high`` bound the difference at level 1 - alpha (not multiplicity-adjusted)."""

    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    n: int
    # The smallest true |B - A| this test detects with probability MDE_POWER at two-sided ``alpha`` (not
    # Holm-adjusted), planned from the observed spread; None when the pairs show no spread to plan from.
    mde: float | None = None


@dataclass(frozen=True)
class Aligned:
    """Two score arrays on the keys both mappings have (in the first mapping's order)."""

    keys: list[Hashable]
    a: np.ndarray
    b: np.ndarray
    only_a: int
    only_b: int


def align(a: Mapping[Hashable, float], b: Mapping[Hashable, float]) -> Aligned:
    """Pair per-document scores by key; keys in one mapping only are counted, not compared."""
    keys = [key for key in a if key in b]
    if not keys:
        raise NoSharedDocuments(
            f"the two evaluations share no documents ({len(a)} vs {len(b)}): different data or doc hashes, "
            "nothing can be paired"
        )
    return Aligned(
        keys=keys,
        a=np.array([a[key] for key in keys], dtype=float),
        b=np.array([b[key] for key in keys], dtype=float),
        only_a=len(a) - len(keys),
        only_b=len(b) - len(keys),
    )


def is_binary(*arrays: np.ndarray) -> bool:
    return all(bool(np.isin(array, (0.0, 1.0)).all()) for array in arrays)


def paired_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    binary: bool | None = None,
    n_boot: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
) -> PairedResult:
    """mean(b) - mean(a) on aligned arrays, its percentile-bootstrap CI and a two-sided paired p-value.

    ``binary=None`` picks McNemar when every value is 0 or 1. The same seed gives the same CI and p.
    """
    a_values, b_values = _checked(a, b, n_boot, alpha)
    differences = b_values - a_values
    diff = float(differences.mean())
    replicates = bootstrap_means(differences, n_boot, seed)
    ci_low, ci_high = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    if binary is None:
        binary = is_binary(a_values, b_values)
    elif binary and not is_binary(a_values, b_values):
        raise ValueError("binary=True but the scores are not all 0 or 1")
    if binary:
        p_value, test = mcnemar_exact(a_values, b_values), MCNEMAR
    else:
        p_value, test = bootstrap_p_value(replicates), BOOTSTRAP
    mde = minimum_detectable_difference(mean_difference_se(differences, binary=binary), alpha)
    return PairedResult(diff, float(ci_low), float(ci_high), p_value, test, len(differences), mde)


def stratified_difference(
    strata: Sequence[tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]],
    *,
    n_boot: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
) -> PairedResult:
    """The mean over strata of mean(b) - mean(a): a mean of task means, such as the Leaderboard Average.

    ``strata`` holds one aligned (a, b) pair of arrays per task. Each bootstrap replicate resamples every
    task's documents with replacement, within that task and independently of the others (stratified), and
    averages the task means with equal weights, as the statistic does: a pooled resample would weight the
    tasks by their sizes and let HellaSwag's 10,000 items drown ARC's 1,172. Every task draws from its own
    stream spawned from ``seed``, so the same seed gives the same CI and p. The p-value inverts the
    percentile interval (:func:`bootstrap_p_value`), ``n`` counts the documents of all strata.
    """
    if not strata:
        raise ValueError("need at least one stratum")
    differences = [b_values - a_values for a_values, b_values in (_checked(a, b, n_boot, alpha) for a, b in strata)]
    diff = float(np.mean([d.mean() for d in differences]))
    streams = np.random.SeedSequence(seed).spawn(len(differences))
    replicates = np.mean([bootstrap_means(d, n_boot, stream) for d, stream in zip(differences, streams, strict=True)],
                         axis=0)
    ci_low, ci_high = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    # The strata are independent, so the mean's variance is the sum of the task means' variances over k²; each
    # is the bootstrap's (sample sd), not McNemar's discordance, since this test is a bootstrap on every task.
    se = math.sqrt(sum(mean_difference_se(d, binary=False) ** 2 for d in differences)) / len(differences)
    return PairedResult(diff, float(ci_low), float(ci_high), bootstrap_p_value(replicates), STRATIFIED_BOOTSTRAP,
                        sum(len(d) for d in differences), minimum_detectable_difference(se, alpha))


def mean_difference_se(differences: np.ndarray, *, binary: bool) -> float:
    """The standard error of the mean paired difference that the test of these scores works with.

    McNemar (``binary``): the normal approximation of McNemar's statistic, (B-only - A-only) / sqrt(discordant),
    is the mean difference over sqrt(psi / n) with psi = discordant / n, the observed discordance (the mean of
    the squared differences, each -1, 0 or 1). Bootstrap: the sample sd of the differences over sqrt(n)
    (nan for a single document: no spread can be estimated from one).
    """
    n = len(differences)
    if binary:
        return math.sqrt(float(np.mean(differences**2)) / n)
    return float(np.std(differences, ddof=1)) / math.sqrt(n) if n > 1 else math.nan


def minimum_detectable_difference(standard_error: float, alpha: float = 0.05, power: float = MDE_POWER) -> float | None:
    """The smallest true difference a two-sided level-``alpha`` test detects with probability ``power``.

    A documented approximation (normal, the usual sample-size formula solved for the effect):
    (z_{1 - alpha/2} + z_{power}) * SE, e.g. 2.80 SE at alpha 0.05 and 80% power. The SE is the observed one
    (:func:`mean_difference_se`), held fixed under the alternative; for McNemar that means the discordance is
    assumed not to grow with the effect, which errs towards a larger (more cautious) MDE. Unadjusted for
    Holm: with m tests the adjusted level of the first is alpha/m, so the detectable difference is larger.
    None when the SE is zero or undefined (identical scores, one document): there is no spread to plan from.
    """
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"need 0 < alpha < 1 and 0 < power < 1, got {alpha} and {power}")
    if not standard_error > 0:
        return None
    normal = NormalDist()
    return (normal.inv_cdf(1 - alpha / 2) + normal.inv_cdf(power)) * standard_error


def _checked(a, b, n_boot: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    a_values, b_values = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_values.ndim != 1 or a_values.shape != b_values.shape or a_values.size == 0:
        raise ValueError(f"need two aligned, non-empty 1-d arrays, got shapes {a_values.shape} and {b_values.shape}")
    if not (np.isfinite(a_values).all() and np.isfinite(b_values).all()):
        raise ValueError("scores must be finite")
    if n_boot < 1 or not 0 < alpha < 1:
        raise ValueError(f"need n_boot >= 1 and 0 < alpha < 1, got {n_boot} and {alpha}")
    return a_values, b_values


def mcnemar_exact(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided exact McNemar: under H0 each discordant pair is A-only or B-only with probability 1/2."""
    a_only = int(np.count_nonzero((a == 1) & (b == 0)))
    b_only = int(np.count_nonzero((a == 0) & (b == 1)))
    if a_only + b_only == 0:
        return 1.0  # the models agree on every document: no evidence of any difference
    # Imported here: scipy.stats takes most of a second, and every CLI command imports this module.
    from scipy.stats import binomtest

    return float(binomtest(b_only, a_only + b_only, 0.5).pvalue)


def bootstrap_means(differences: np.ndarray, n_boot: int, seed: int | np.random.SeedSequence) -> np.ndarray:
    """``n_boot`` means of the paired differences over documents resampled with replacement.

    Resampling documents with the same indices for both models is resampling their differences, and the
    mean of a resample depends only on how often each distinct difference is drawn: a multinomial draw
    over the distinct values has exactly that distribution. Binary data has at most three distinct
    differences (-1, 0, 1), so this is fast on any task size.
    """
    values, counts = np.unique(differences, return_counts=True)
    n = len(differences)
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_ELEMENTS // len(values))
    means = [
        rng.multinomial(n, counts / n, size=min(block, n_boot - start)) @ values / n
        for start in range(0, n_boot, block)
    ]
    return np.concatenate(means)


def bootstrap_p_value(replicates: np.ndarray) -> float:
    """Two-sided p from the bootstrap replicates: twice the share on the far side of zero, capped at 1.

    This inverts the percentile interval (p < alpha exactly when 0 lies outside the 1 - alpha CI, up to
    ties), so the p-value and the CI never disagree. The +1s count the observed sample as a replicate,
    the usual guard against reporting p = 0 from a finite number of replicates.
    """
    far_side = min(np.count_nonzero(replicates <= 0), np.count_nonzero(replicates >= 0))
    return float(min(1.0, 2 * (far_side + 1) / (len(replicates) + 1)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values, in the input order (monotone, capped at 1).

    The i-th smallest of m p-values is multiplied by m - i (i from 0), then a running maximum keeps the
    adjusted values in the order of the raw ones; reject where the adjusted value is below alpha.
    """
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * float(p_values[index])))
        adjusted[index] = running
    return adjusted
