"""The SPIN objective (Chen et al., 2024, eq. 4.7) as a pure function over per-sequence log-probabilities."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from spin_bench.core.enums import LossKind


def spin_margin(
    policy_real: torch.Tensor,
    policy_generated: torch.Tensor,
    reference_real: torch.Tensor,
    reference_generated: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """beta * [(log p(y|x) - log p_ref(y|x)) - (log p(y'|x) - log p_ref(y'|x))], shape [B].

    All inputs are summed (not length-normalised) log-probabilities of the response tokens, shape [B]:
    ``*_real`` for the human answer y, ``*_generated`` for the opponent's answer y'.
    """
    return beta * ((policy_real - reference_real) - (policy_generated - reference_generated))


def spin_loss(
    policy_real: torch.Tensor,
    policy_generated: torch.Tensor,
    reference_real: torch.Tensor,
    reference_generated: torch.Tensor,
    beta: float,
    kind: LossKind | str = LossKind.LOGISTIC,
) -> torch.Tensor:
    """Per-pair SPIN loss l(margin), shape [B]; the training loss is its mean.

    kind: logistic l(t) = log(1 + e^-t) (the paper's choice; DPO's sigmoid loss), hinge max(0, 1 - t),
    exponential e^-t, linear 1 - t (the correlation loss; unbounded below, so it can diverge).
    """
    margin = spin_margin(policy_real, policy_generated, reference_real, reference_generated, beta)
    match LossKind(kind):
        case LossKind.LOGISTIC:
            return F.softplus(-margin)  # == -logsigmoid(margin), numerically stable for large |margin|
        case LossKind.HINGE:
            return torch.clamp_min(1 - margin, 0)
        case LossKind.EXPONENTIAL:
            return torch.exp(-margin)
        case LossKind.LINEAR:
            return 1 - margin
