"""training.group_by_length (issue 11): the recipe key reaches the SPIN/DPO trainers' arguments and is off by
default (batches as before); on the world's pairs it cuts the padding of the training batches, and a run
resumed in a later epoch batches, and so trains, exactly as the uninterrupted one."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from spin_bench.core.enums import LossKind
from spin_bench.core.typed_config import dump_yaml
from spin_bench.data.world import WorldConfig, build_world
from spin_bench.inference.checkpoints import ResolvedModel
from spin_bench.recipe import load_recipe
from training.config import Schedule, TrainingConfig
from training.data import PreferencePair
from training.preference_training import PreferenceStage, build_trainer, dpo_args
from training.trainer_common import trainer_kwargs


def _stage(model_dir, pairs=()) -> PreferenceStage:
    schedule = Schedule(learning_rate=1e-4, epochs=1.0, warmup_ratio=0.0)
    return PreferenceStage(start=ResolvedModel(path=str(model_dir)), pairs=pairs, schedule=schedule, beta=0.1,
                           loss=LossKind.LOGISTIC)


def test_grouping_is_off_by_default():
    assert TrainingConfig().group_by_length is False  # batches, and so results, as before the key


@pytest.mark.parametrize(("value", "strategy"), [("false", "random"), ("true", "group_by_length")])
def test_the_recipe_key_reaches_the_training_arguments(tmp_path, value, strategy):
    from trl import SFTConfig

    recipe = load_recipe("embedded", [f"training.group_by_length={value}"]).train
    assert f"group_by_length: {value}" in dump_yaml(recipe)  # the resolved recipe.yaml of the run
    stage = _stage(tmp_path / "model")
    assert dpo_args(stage, recipe.training, 0, tmp_path).train_sampling_strategy == strategy  # SPIN and DPO
    sft = SFTConfig(**trainer_kwargs(recipe.training, stage.schedule, tmp_path, 0, stage.start))
    assert sft.train_sampling_strategy == "random"  # the SFT-epoch baseline shuffles as before either way


def _pairs(count: int) -> list[PreferencePair]:
    """The world's SPIN prompts, each human answer against a stand-in answer of a different length: every
    skill of the world, so pair lengths spread as in a real run."""
    examples = build_world(WorldConfig(seed=0))["spin"][:count]
    return [PreferencePair(e.uid, e.prompt, e.response, e.rejected, i + 1) for i, e in enumerate(examples)]


def _batches(trainer) -> tuple[float, int]:
    """Padding share of one epoch of training batches, and the real tokens they hold."""
    padded = real = 0
    for batch in trainer.get_train_dataloader():
        mask = batch["attention_mask"]
        padded, real = padded + mask.numel(), real + int(mask.sum())
    return 1 - real / padded, real


@pytest.mark.slow
def test_grouping_by_length_cuts_the_padding_of_the_training_batches(tiny_sft_model, tmp_path):
    # The embedded recipe's batch on iteration 0's 256 prompts: transformers sorts mega-batches of 4 batches
    # (its default for a set this small), shuffled, so some padding stays; the rest is within pairs.
    stage = _stage(tiny_sft_model, _pairs(256))
    shares = {}
    for grouped in (False, True):
        training = TrainingConfig(per_device_batch_size=16, max_length=512, group_by_length=grouped)
        trainer = build_trainer(stage, training, 0, tmp_path / str(grouped))
        shares[grouped] = _batches(trainer)
        if grouped:  # the same pairs are trained, and the steps still learn
            trainer.train()
            losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
            assert len(losses) == 16 and all(math.isfinite(loss) for loss in losses)
    (random_share, random_tokens), (grouped_share, grouped_tokens) = shares[False], shares[True]
    assert grouped_tokens == random_tokens  # every pair once per epoch, grouped or not
    assert random_share > 0.2  # the world's answers differ in length: random batches pad a lot
    assert grouped_share < random_share / 2


@pytest.mark.slow
def test_a_grouped_run_resumed_in_its_second_epoch_ends_with_the_same_weights(tiny_sft_model, tmp_path):
    import torch

    stage = replace(_stage(tiny_sft_model, _pairs(32)), schedule=Schedule(learning_rate=1e-3, epochs=2.0,
                                                                          warmup_ratio=0.0))
    training = TrainingConfig(per_device_batch_size=8, max_length=512, group_by_length=True, save_steps=1)
    whole = build_trainer(stage, training, 0, tmp_path / "whole")
    whole.args.save_total_limit = None  # keep the step-6 checkpoint (epoch 2 of 2) to resume from
    whole.train()
    resumed = build_trainer(stage, training, 0, tmp_path / "resumed")
    resumed.train(resume_from_checkpoint=str(tmp_path / "whole" / "checkpoint-6"))
    expected, actual = whole.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(expected[name], actual[name]) for name in expected)
