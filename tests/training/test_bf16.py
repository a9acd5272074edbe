"""bf16 training keeps fp32 master weights: updates at the paper's smallest learning rate are not lost, and
the loss stays close to fp32's on the same batch (issue 12, part 2). Real TRL training on the tiny model."""

from __future__ import annotations

import math

import pytest
import torch

from spin_bench.core.enums import LossKind, Precision
from spin_bench.data.world import WorldConfig, build_world
from spin_bench.inference.checkpoints import ResolvedModel
from training.config import Schedule, TrainingConfig
from training.data import PreferencePair
from training.preference_training import PreferenceStage, build_trainer

pytestmark = pytest.mark.slow

PAPER_SMALLEST_LR = 1e-7  # iterations 2 and 3 of the paper
# bf16 keeps 8 bits of mantissa (relative step 2^-8 = 0.4% per value); summed over a response, the errors
# mostly cancel. Measured on this batch over 3 steps: log-probs within 6e-5 (relative), losses within 1.3e-4.
LOGP_RTOL = 1e-3
LOSS_ATOL = 1e-3


def _pairs(count: int) -> list[PreferencePair]:
    examples = build_world(WorldConfig(seed=0))["spin"][:count]
    return [PreferencePair(e.uid, e.prompt, e.response, e.rejected, i + 1) for i, e in enumerate(examples)]


def _trainer(model_dir, tmp_path, precision: Precision, *, lr: float, epochs: float = 1.0, precompute: bool = True):
    schedule = Schedule(learning_rate=lr, epochs=epochs, optimizer="rmsprop", lr_scheduler="constant",
                        warmup_ratio=0.0)
    stage = PreferenceStage(start=ResolvedModel(path=str(model_dir)), pairs=_pairs(4), schedule=schedule, beta=0.1,
                            loss=LossKind.LOGISTIC)
    training = TrainingConfig(per_device_batch_size=4, max_length=256, precompute_reference=precompute,
                              precision=precision, logging_steps=1)
    return build_trainer(stage, training, 0, tmp_path)


def _logged(trainer, name: str) -> list[float]:
    return [entry[name] for entry in trainer.state.log_history if "loss" in entry]


def test_bf16_keeps_fp32_master_weights_and_every_parameter_moves_at_lr_1e7(tiny_sft_model, tmp_path):
    trainer = _trainer(tiny_sft_model, tmp_path, Precision.BF16, lr=PAPER_SMALLEST_LR)
    assert trainer.accelerator.mixed_precision == "bf16"  # the forward runs under bf16 autocast
    assert {p.dtype for p in trainer.model.parameters()} == {torch.float32}
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    trainer.train()
    assert trainer.state.global_step == 1
    unchanged = [name for name, p in trainer.model.named_parameters() if torch.equal(before[name], p)]
    assert not unchanged, f"parameters that did not move after one step at lr 1e-7: {unchanged}"
    # Not just a few elements per tensor: nearly every weight moved (the embedding is tied to the output head,
    # whose gradient is dense). bf16 master weights kept 1.7% of the weights' 1e-6 steps and no step at all in
    # 5 tensors (measured on this model).
    for name, p in trainer.model.named_parameters():
        moved = (before[name] != p).float().mean().item()
        assert moved > 0.9, f"{name}: only {moved:.1%} of its weights moved"
    assert {p.dtype for p in trainer.model.parameters()} == {torch.float32}


def test_bf16_loss_and_log_probs_stay_close_to_fp32_on_the_same_batch(tiny_sft_model, tmp_path):
    # Three steps at a learning rate that moves the loss, so the comparison is not only l(0) = log 2.
    runs = {}
    for precision in (Precision.FP32, Precision.BF16):
        trainer = _trainer(tiny_sft_model, tmp_path / precision, precision, lr=1e-4, epochs=3)
        trainer.train()
        runs[precision] = trainer
    fp32, bf16 = runs[Precision.FP32], runs[Precision.BF16]
    for name in ("logps/chosen", "logps/rejected"):
        assert _logged(bf16, name) == pytest.approx(_logged(fp32, name), rel=LOGP_RTOL)
    fp32_losses, bf16_losses = _logged(fp32, "loss"), _logged(bf16, "loss")
    assert fp32_losses[-1] < fp32_losses[0] - 1e-3  # the steps did something
    assert bf16_losses == pytest.approx(fp32_losses, abs=LOSS_ATOL)


@pytest.mark.parametrize("precompute", [True, False])
def test_bf16_reference_is_scored_as_the_policy_is(tiny_sft_model, tmp_path, precompute):
    """The reference (precomputed or live) runs under the same autocast as the policy, so the first step sees
    policy == reference: loss log 2 and margin 0, as in fp32."""
    trainer = _trainer(tiny_sft_model, tmp_path, Precision.BF16, lr=1e-4, epochs=1, precompute=precompute)
    if not precompute:
        assert {p.dtype for p in trainer.ref_model.parameters()} == {torch.float32}
    trainer.train()
    assert _logged(trainer, "loss")[0] == pytest.approx(math.log(2), abs=1e-5)
    assert _logged(trainer, "rewards/margins")[0] == pytest.approx(0.0, abs=1e-4)
