"""Paired tests and Holm's correction against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from reports import stats
from reports.stats import (
    BOOTSTRAP,
    MCNEMAR,
    STRATIFIED_BOOTSTRAP,
    align,
    bootstrap_means,
    bootstrap_p_value,
    holm,
    minimum_detectable_difference,
    paired_difference,
    stratified_difference,
)
from spin_bench.core.errors import UserError


def _discordant(a_only: int, b_only: int, both: int = 5, neither: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """0/1 scores with the given numbers of A-only and B-only correct documents."""
    a = [1] * a_only + [0] * b_only + [1] * both + [0] * neither
    b = [0] * a_only + [1] * b_only + [1] * both + [0] * neither
    return np.array(a, dtype=float), np.array(b, dtype=float)


def test_mcnemar_exact_matches_the_binomial_tail():
    # 8 vs 2 discordant: 2 * P(X <= 2 | n=10, 1/2) = 2 * (1 + 10 + 45) / 1024.
    a, b = _discordant(8, 2)
    result = paired_difference(a, b)
    assert result.test == MCNEMAR
    assert result.p_value == pytest.approx(0.109375, abs=1e-12)
    assert result.diff == pytest.approx((2 - 8) / 20)
    assert result.n == 20


def test_mcnemar_is_symmetric_and_one_without_discordant_pairs():
    a, b = _discordant(2, 8)
    assert stats.mcnemar_exact(a, b) == pytest.approx(0.109375, abs=1e-12)
    a, b = _discordant(0, 0, both=7, neither=3)
    assert stats.mcnemar_exact(a, b) == 1.0


def test_identical_inputs_give_zero_difference_and_p_one():
    binary = np.array([1, 0, 1, 1, 0], dtype=float)
    continuous = np.array([0.2, 0.7, 0.55, 0.9])
    for values in (binary, continuous):
        result = paired_difference(values, values.copy())
        assert (result.diff, result.ci_low, result.ci_high, result.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert paired_difference(continuous, continuous).test == BOOTSTRAP


def test_bootstrap_ci_contains_the_true_difference_and_is_deterministic():
    rng = np.random.default_rng(123)
    a = rng.normal(5.0, 1.0, size=400)
    b = a + 0.3 + rng.normal(0.0, 0.5, size=400)  # true paired difference 0.3
    first = paired_difference(a, b, seed=7)
    assert first.test == BOOTSTRAP
    assert first.ci_low < 0.3 < first.ci_high
    assert first.ci_low < first.diff < first.ci_high
    assert first.p_value < 0.001
    assert paired_difference(a, b, seed=7) == first
    assert paired_difference(a, b, seed=8) != first


def test_bootstrap_replicates_have_the_spread_of_index_resampling():
    # The mean of n draws with replacement has sd = population sd / sqrt(n): 0.5 / sqrt(4) for [0, 0, 1, 1].
    replicates = bootstrap_means(np.array([0.0, 0.0, 1.0, 1.0]), n_boot=40_000, seed=0)
    assert replicates.mean() == pytest.approx(0.5, abs=0.01)
    assert replicates.std() == pytest.approx(0.25, rel=0.02)
    # Only multiples of 1/4 are possible means of four 0/1 draws.
    assert set(np.round(replicates * 4, 9)) <= {0.0, 1.0, 2.0, 3.0, 4.0}


def test_bootstrap_draws_in_blocks_give_every_replicate(monkeypatch):
    monkeypatch.setattr(stats, "_BLOCK_ELEMENTS", 6)  # 3 distinct values -> blocks of 2 replicates
    replicates = bootstrap_means(np.array([-1.0, 0.0, 1.0, 1.0]), n_boot=7, seed=0)
    assert replicates.shape == (7,)


def test_bootstrap_p_value_counts_the_far_side_of_zero():
    # One of four replicates at or below zero: 2 * (1 + 1) / (4 + 1).
    assert bootstrap_p_value(np.array([-1.0, 1.0, 2.0, 3.0])) == pytest.approx(0.8)
    # None on the far side: the +1 keeps p at 2 / (n + 1), never 0.
    assert bootstrap_p_value(np.full(9, 0.5)) == pytest.approx(0.2)
    assert bootstrap_p_value(np.array([-2.0, -1.0, 1.0, 2.0])) == 1.0


def test_holm_step_down_by_hand():
    # Sorted 0.01, 0.03, 0.04 -> 3*0.01, 2*0.03, max(1*0.04, 0.06); back in input order.
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.6]) == [1.0, 1.0]
    assert holm([0.011, 0.01]) == pytest.approx([0.02, 0.02])
    assert holm([0.2]) == [0.2]
    assert holm([]) == []


def test_align_pairs_shared_keys_and_counts_the_rest():
    a = {(0, "h0"): 1.0, (1, "h1"): 0.0, (2, "h2"): 1.0}
    b = {(2, "h2"): 0.0, (0, "h0"): 1.0, (1, "other"): 1.0, (3, "h3"): 1.0}
    pairs = align(a, b)
    assert pairs.keys == [(0, "h0"), (2, "h2")]
    assert pairs.a.tolist() == [1.0, 1.0]
    assert pairs.b.tolist() == [1.0, 0.0]
    assert (pairs.only_a, pairs.only_b) == (1, 2)


def test_align_refuses_disjoint_documents():
    with pytest.raises(UserError, match="share no documents"):
        align({(0, "x"): 1.0}, {(0, "y"): 1.0})


def test_bad_arrays_are_refused():
    with pytest.raises(ValueError, match="aligned"):
        paired_difference([1.0, 0.0], [1.0])
    with pytest.raises(ValueError, match="aligned"):
        paired_difference([], [])
    with pytest.raises(ValueError, match="not all 0 or 1"):
        paired_difference([0.5, 1.0], [1.0, 1.0], binary=True)
    with pytest.raises(ValueError, match="finite"):
        paired_difference([np.nan, 1.0], [1.0, 1.0])


# ------------------------------------------------------------------ minimum detectable difference

Z_975, Z_80 = 1.959964, 0.841621  # standard normal quantiles, from a table


def test_mde_of_mcnemar_from_the_observed_discordance_by_hand():
    # 8 + 2 discordant of 20 pairs: discordance 0.5, SE sqrt(0.5 / 20) = 0.158114.
    a, b = _discordant(8, 2)
    assert paired_difference(a, b).mde == pytest.approx((Z_975 + Z_80) * 0.158114, rel=1e-5)  # 0.442969
    # Only the discordance matters, not its direction or the concordant pairs' split.
    assert paired_difference(*_discordant(3, 7, both=9, neither=1)).mde == paired_difference(a, b).mde


def test_mde_of_the_bootstrap_from_the_paired_sd_by_hand():
    # Differences 0, .2, .4, .6, .8: sample variance (.16 + .04 + 0 + .04 + .16) / 4 = 0.1, SE sqrt(0.1 / 5).
    a = np.array([0.5, 0.3, 0.1, 0.2, 0.1])
    b = a + np.array([0.0, 0.2, 0.4, 0.6, 0.8])
    result = paired_difference(a, b)
    assert result.test == BOOTSTRAP
    assert result.mde == pytest.approx((Z_975 + Z_80) * np.sqrt(0.1 / 5), rel=1e-5)  # 0.396203
    # A stricter level needs a larger difference: z_0.995 = 2.575829.
    assert paired_difference(a, b, alpha=0.01).mde == pytest.approx((2.575829 + Z_80) * np.sqrt(0.02), rel=1e-5)


def test_mde_is_none_without_spread_to_plan_from():
    same = np.array([1.0, 0.0, 1.0])
    assert paired_difference(same, same).mde is None  # no discordant pair
    assert paired_difference([0.3], [0.5]).mde is None  # one document: no sd
    assert minimum_detectable_difference(0.0) is None
    assert minimum_detectable_difference(0.1) == pytest.approx(0.1 * (Z_975 + Z_80), rel=1e-6)
    with pytest.raises(ValueError, match="power"):
        minimum_detectable_difference(0.1, power=1.0)


# ------------------------------------------------------------------ stratified bootstrap (the Average)


def _strata(sizes, rate, seed=0):
    """0/1 scores per stratum; B fixes a share ``rate`` of the documents A got wrong."""
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        a = (rng.random(n) < 0.5).astype(float)
        out.append((a, np.where((a == 0) & (rng.random(n) < rate), 1.0, a)))
    return out


def test_stratified_difference_is_the_mean_of_the_task_means_not_the_pooled_mean():
    small = (np.zeros(10), np.ones(10))  # +1 on all 10 documents
    large = (np.full(990, 0.5), np.full(990, 0.5))  # no change on 990
    result = stratified_difference([small, large], n_boot=500)
    assert result.diff == pytest.approx(0.5)  # (1 + 0) / 2; pooling documents would give 0.01
    assert (result.ci_low, result.ci_high) == (0.5, 0.5)  # neither task's differences vary
    assert (result.test, result.n) == (STRATIFIED_BOOTSTRAP, 1000)


def test_stratified_replicates_resample_each_task_independently():
    # Two copies of one task: independent resampling halves the variance of their mean (sd / sqrt 2);
    # sharing one random stream would make the copies move together and keep the full sd.
    ((a, b),) = _strata([400], 0.3)
    d = b - a
    one_sd = np.std(d) / np.sqrt(len(d))  # the bootstrap sd of one task's mean difference
    wide = stratified_difference([(a, b), (a, b)], n_boot=20_000, seed=3)
    assert (wide.ci_high - wide.ci_low) / (2 * 1.959964) == pytest.approx(one_sd / np.sqrt(2), rel=0.05)


def test_stratified_planted_difference_is_flagged_and_identical_scores_never_are():
    planted = _strata([100, 250, 500, 80, 1000, 300], 0.1)
    result = stratified_difference(planted, n_boot=2000, seed=1)
    assert result.diff > 0 and result.ci_low > 0 and result.p_value < 0.001
    assert result.mde is not None and result.mde < result.diff
    assert stratified_difference(planted, n_boot=2000, seed=1) == result  # seeded: reproducible
    assert stratified_difference(planted, n_boot=2000, seed=2) != result
    for seed in range(5):
        same = stratified_difference([(a, a.copy()) for a, _ in planted], n_boot=500, seed=seed)
        assert (same.diff, same.ci_low, same.ci_high, same.p_value, same.mde) == (0.0, 0.0, 0.0, 1.0, None)


def test_stratified_difference_refuses_bad_strata():
    with pytest.raises(ValueError, match="at least one"):
        stratified_difference([])
    with pytest.raises(ValueError, match="aligned"):
        stratified_difference([(np.ones(3), np.ones(3)), (np.ones(2), np.ones(3))])
