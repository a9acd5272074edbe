"""Paired tests and Holm's correction against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from reports import stats
from reports.stats import (
    BOOTSTRAP,
    MCNEMAR,
    align,
    bootstrap_means,
    bootstrap_p_value,
    holm,
    paired_difference,
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
