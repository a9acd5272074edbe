"""SpinTrainer on the tiny embedded model: the loss family inside TRL, reference handling, and equivalence
with stock TRL where the losses coincide."""

from __future__ import annotations

import math

import pytest
import torch

from spin_bench.core.enums import LossKind
from spin_bench.data.world import WorldConfig, build_world
from spin_bench.inference.checkpoints import ResolvedModel
from training.config import Schedule, TrainingConfig
from training.data import PreferencePair
from training.preference_training import PreferenceStage, build_trainer

pytestmark = pytest.mark.slow


def _pairs(count: int) -> list[PreferencePair]:
    """Human answer vs a plausible wrong answer, from the embedded world's SPIN split."""
    examples = build_world(WorldConfig(seed=0))["spin"][:count]
    return [PreferencePair(e.uid, e.prompt, e.response, e.rejected, i + 1) for i, e in enumerate(examples)]


def _stage(model_dir, pairs, kind=LossKind.LOGISTIC, epochs=1.0, lr=1e-4) -> PreferenceStage:
    schedule = Schedule(learning_rate=lr, epochs=epochs, optimizer="rmsprop", lr_scheduler="linear", warmup_ratio=0.0)
    return PreferenceStage(start=ResolvedModel(path=str(model_dir)), pairs=pairs, schedule=schedule, beta=0.1,
                           loss=kind)


def _training(batch: int, precompute: bool = True) -> TrainingConfig:
    return TrainingConfig(per_device_batch_size=batch, max_length=256, precompute_reference=precompute,
                          logging_steps=1)


def _losses(trainer) -> list[float]:
    trainer.train()
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]


@pytest.mark.parametrize(
    ("kind", "at_zero"),
    [(LossKind.LOGISTIC, math.log(2)), (LossKind.HINGE, 1.0), (LossKind.EXPONENTIAL, 1.0), (LossKind.LINEAR, 1.0)],
)
def test_spin_steps_on_a_fixed_batch_lower_the_loss(tiny_sft_model, tmp_path, kind, at_zero):
    # One batch of 4 pairs seen 6 times: the first loss is l(0) (policy == reference), then it falls.
    trainer = build_trainer(_stage(tiny_sft_model, _pairs(4), kind, epochs=6), _training(batch=4), 0, tmp_path)
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    losses = _losses(trainer)
    assert len(losses) == 6
    assert losses[0] == pytest.approx(at_zero, abs=1e-4)
    assert losses[-1] < losses[0] - 1e-3
    changed = [not torch.equal(before[name], p) for name, p in trainer.model.named_parameters()]
    assert all(changed), "every trainable parameter should move"


def test_precomputed_and_live_reference_give_the_same_losses(tiny_sft_model, tmp_path):
    pairs = _pairs(8)
    precomputed = _losses(build_trainer(_stage(tiny_sft_model, pairs), _training(4, True), 0, tmp_path / "a"))
    live = build_trainer(_stage(tiny_sft_model, pairs), _training(4, False), 0, tmp_path / "b")
    assert live.ref_model is not None  # TRL reloaded the frozen reference from the policy's path
    assert _losses(live) == pytest.approx(precomputed, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(("kind", "trl_name"), [(LossKind.LOGISTIC, "sigmoid"), (LossKind.HINGE, "hinge")])
def test_matches_stock_trl_dpo_where_the_losses_coincide(tiny_sft_model, tmp_path, kind, trl_name):
    from trl import DPOTrainer

    from spin_bench.inference.checkpoints import load_tokenizer
    from training.pairs import to_trl_dataset
    from training.preference_training import dpo_args

    pairs = _pairs(8)
    stage = _stage(tiny_sft_model, pairs, kind)
    ours = build_trainer(stage, _training(4), 0, tmp_path / "ours")
    stock = DPOTrainer(
        model=str(tiny_sft_model),
        args=dpo_args(stage, _training(4), 0, tmp_path / "stock", loss_type=[trl_name]),
        train_dataset=to_trl_dataset(pairs),
        processing_class=load_tokenizer(stage.start),
    )
    ours_losses, stock_losses = _losses(ours), _losses(stock)
    assert ours_losses == pytest.approx(stock_losses, rel=1e-5, abs=1e-6)
    ours_margins = [e["rewards/margins"] for e in ours.state.log_history if "loss" in e]
    stock_margins = [e["rewards/margins"] for e in stock.state.log_history if "loss" in e]
    assert ours_margins == pytest.approx(stock_margins, rel=1e-4, abs=1e-6)

