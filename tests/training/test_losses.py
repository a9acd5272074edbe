"""The SPIN objective against hand-computed values, and the properties the paper's Assumption 5.1 asks for."""

from __future__ import annotations

import math

import pytest
import torch

from spin_bench.core.enums import LossKind
from training.losses import spin_loss, spin_margin

KINDS = tuple(LossKind)

# Four pairs, log-probabilities picked by hand (float64 so the comparisons can be tight).
#                  policy_real, policy_generated, reference_real, reference_generated
PAIRS = [
    (-10.0, -12.0, -11.0, -11.0),  # (pr - rr) - (pg - rg) = 1 - (-1) = 2
    (-5.0, -4.0, -5.0, -5.0),  # 0 - 1 = -1
    (-20.0, -30.0, -22.0, -26.0),  # 2 - (-4) = 6
    (-7.0, -8.0, -7.5, -8.0),  # 0.5 - 0 = 0.5
]
BETA = 0.5
# margin = beta * difference, written out by hand
MARGINS = [1.0, -0.5, 3.0, 0.25]

EXPECTED = {
    LossKind.LOGISTIC: [math.log(1 + math.exp(-1.0)), math.log(1 + math.exp(0.5)), math.log(1 + math.exp(-3.0)),
                        math.log(1 + math.exp(-0.25))],
    LossKind.HINGE: [0.0, 1.5, 0.0, 0.75],
    LossKind.EXPONENTIAL: [math.exp(-1.0), math.exp(0.5), math.exp(-3.0), math.exp(-0.25)],
    LossKind.LINEAR: [0.0, 1.5, -2.0, 0.75],
}


def _columns(pairs, dtype=torch.float64):
    return [torch.tensor([p[i] for p in pairs], dtype=dtype) for i in range(4)]


def _at_margins(margins, kind, dtype=torch.float64, requires_grad=False):
    """Loss as a function of the margin alone: beta 1, policy_real = margin, everything else 0."""
    m = torch.tensor(margins, dtype=dtype, requires_grad=requires_grad)
    zero = torch.zeros_like(m)
    return m, spin_loss(m, zero, zero, zero, beta=1.0, kind=kind)


def test_hand_computed_numbers_are_what_they_claim():
    # Guard the table above: the literal margins and losses agree with the formulas.
    for (pr, pg, rr, rg), m in zip(PAIRS, MARGINS, strict=True):
        assert BETA * ((pr - rr) - (pg - rg)) == m
    assert EXPECTED[LossKind.LOGISTIC][0] == pytest.approx(0.3132616875182228)
    assert EXPECTED[LossKind.LOGISTIC][1] == pytest.approx(0.9740769841801067)
    assert EXPECTED[LossKind.EXPONENTIAL][1] == pytest.approx(1.6487212707001282)


def test_spin_margin_values():
    margin = spin_margin(*_columns(PAIRS), beta=BETA)
    assert margin.shape == (4,)
    assert margin.tolist() == pytest.approx(MARGINS, abs=1e-12)


def test_spin_margin_scales_with_beta_and_ignores_a_shared_offset():
    cols = _columns(PAIRS)
    assert spin_margin(*cols, beta=2.0).tolist() == pytest.approx([4 * m for m in MARGINS])
    # Swapping the real and generated answers flips the sign.
    pr, pg, rr, rg = cols
    assert spin_margin(pg, pr, rg, rr, beta=BETA).tolist() == pytest.approx([-m for m in MARGINS])
    # The same constant added to every log-probability changes nothing.
    shifted = [c + 123.0 for c in cols]
    assert spin_margin(*shifted, beta=BETA).tolist() == pytest.approx(MARGINS)
    # A policy equal to its reference has margin 0 whatever the answers score.
    assert spin_margin(pr, pg, pr, pg, beta=BETA).tolist() == [0.0] * 4


@pytest.mark.parametrize("kind", KINDS)
def test_loss_matches_hand_computed_values(kind):
    loss = spin_loss(*_columns(PAIRS), beta=BETA, kind=kind)
    assert loss.shape == (4,)
    assert loss.dtype == torch.float64
    assert loss.tolist() == pytest.approx(EXPECTED[kind], abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_loss_in_float32(kind):
    loss = spin_loss(*_columns(PAIRS, torch.float32), beta=BETA, kind=kind)
    assert loss.dtype == torch.float32
    assert loss.tolist() == pytest.approx(EXPECTED[kind], abs=1e-5)


def test_logistic_at_zero_margin_is_log_two():
    _, loss = _at_margins([0.0], LossKind.LOGISTIC)
    assert loss.item() == pytest.approx(math.log(2), abs=1e-15)
    # Also when the margin is 0 because policy and reference agree on non-trivial log-probs.
    pr, pg = torch.tensor([-3.0, -40.0]), torch.tensor([-9.0, -1.0])
    assert spin_loss(pr, pg, pr, pg, beta=0.1).tolist() == pytest.approx([math.log(2)] * 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_logistic_is_stable_for_huge_margins(dtype):
    m, loss = _at_margins([-1000.0, 1000.0], LossKind.LOGISTIC, dtype=dtype, requires_grad=True)
    assert torch.isfinite(loss).all()
    assert loss[0].item() == pytest.approx(1000.0, rel=1e-6)
    assert 0.0 <= loss[1].item() < 1e-30
    loss.sum().backward()
    assert torch.isfinite(m.grad).all()
    assert m.grad.tolist() == pytest.approx([-1.0, 0.0], abs=1e-6)


def test_logistic_huge_margin_through_log_probs():
    # The same extremes reached through realistic summed log-probs of long answers and a large beta.
    pr = torch.tensor([-5000.0, -10.0])
    pg = torch.tensor([-10.0, -5000.0])
    ref = torch.tensor([-10.0, -10.0])
    loss = spin_loss(pr, pg, ref, ref, beta=0.2004008, kind="logistic")  # margins ~ -998 and ~ +998
    assert torch.isfinite(loss).all()
    assert loss[0].item() == pytest.approx(0.2004008 * 4990, rel=1e-5)
    assert loss[1].item() < 1e-30


@pytest.mark.parametrize("kind", KINDS)
def test_loss_is_decreasing_in_the_margin(kind):
    grid = [x / 4 for x in range(-20, 21)]  # -5 .. 5
    _, loss = _at_margins(grid, kind)
    values = loss.tolist()
    steps = [b - a for a, b in zip(values, values[1:])]
    assert all(step <= 0 for step in steps), steps
    if kind is LossKind.HINGE:
        # Strictly decreasing up to margin 1, flat at 0 after it.
        below = [s for s, x in zip(steps, grid[1:]) if x <= 1]
        assert all(s < 0 for s in below)
        assert all(v == 0 for v, x in zip(values, grid) if x >= 1)
    else:
        assert all(step < 0 for step in steps)


EXPECTED_DERIVATIVE_AT_ZERO = {
    LossKind.LOGISTIC: -0.5,  # d/dt log(1 + e^-t) = -1 / (1 + e^t)
    LossKind.HINGE: -1.0,
    LossKind.EXPONENTIAL: -1.0,
    LossKind.LINEAR: -1.0,
}


@pytest.mark.parametrize("kind", KINDS)
def test_negative_derivative_at_zero(kind):
    m, loss = _at_margins([0.0], kind, requires_grad=True)
    loss.sum().backward()
    assert m.grad.item() < 0
    assert m.grad.item() == pytest.approx(EXPECTED_DERIVATIVE_AT_ZERO[kind], abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_wrt_log_probs_follow_the_chain_rule(kind):
    beta = 0.3
    pr, pg, rr, rg = (torch.zeros(1, dtype=torch.float64, requires_grad=True) for _ in range(4))
    spin_loss(pr, pg, rr, rg, beta=beta, kind=kind).sum().backward()
    slope = EXPECTED_DERIVATIVE_AT_ZERO[kind] * beta
    assert pr.grad.item() == pytest.approx(slope)
    assert pg.grad.item() == pytest.approx(-slope)
    assert rr.grad.item() == pytest.approx(-slope)
    assert rg.grad.item() == pytest.approx(slope)
    # Pushing the real answer up lowers the loss: gradient descent raises p(y|x).
    assert pr.grad.item() < 0 < pg.grad.item()


@pytest.mark.parametrize("kind", KINDS)
def test_convexity_spot_check(kind):
    points = [-4.0, -1.5, -0.2, 0.0, 0.7, 1.0, 2.5, 6.0]
    for a in points:
        for b in points:
            for lam in (0.25, 0.5, 0.8):
                mid = lam * a + (1 - lam) * b
                _, loss = _at_margins([a, b, mid], kind)
                la, lb, lm = loss.tolist()
                assert lm <= lam * la + (1 - lam) * lb + 1e-12, (a, b, lam)
    if kind in (LossKind.LOGISTIC, LossKind.EXPONENTIAL):
        # Strictly convex: the chord lies strictly above the curve.
        _, loss = _at_margins([-2.0, 2.0, 0.0], kind)
        la, lb, lm = loss.tolist()
        assert lm < (la + lb) / 2 - 1e-3


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch", [1, 2, 7])
def test_shape_is_preserved(kind, batch):
    generator = torch.Generator().manual_seed(batch)
    cols = [-10 * torch.rand(batch, generator=generator) for _ in range(4)]
    loss = spin_loss(*cols, beta=0.1, kind=kind)
    assert loss.shape == (batch,)
    # Per-pair: each entry depends only on its own pair.
    for i in range(batch):
        single = spin_loss(*(c[i : i + 1] for c in cols), beta=0.1, kind=kind)
        assert single.item() == pytest.approx(loss[i].item(), abs=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_kind_accepts_string_or_enum(kind):
    cols = _columns(PAIRS)
    by_enum = spin_loss(*cols, beta=BETA, kind=kind)
    by_string = spin_loss(*cols, beta=BETA, kind=kind.value)
    assert torch.equal(by_enum, by_string)


def test_default_kind_is_logistic():
    cols = _columns(PAIRS)
    assert torch.equal(spin_loss(*cols, beta=BETA), spin_loss(*cols, beta=BETA, kind="logistic"))


@pytest.mark.parametrize("kind", ["sigmoid", "ipo", "", "Logistic "])
def test_unknown_kind_raises_value_error(kind):
    with pytest.raises(ValueError):
        spin_loss(*_columns(PAIRS), beta=BETA, kind=kind)


def test_the_kinds_are_the_papers_four():
    assert {k.value for k in LossKind} == {"logistic", "hinge", "exponential", "linear"}
