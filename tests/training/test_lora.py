"""LoRA (training.lora) on the tiny embedded model: TRL's PEFT path with the adapter-disabled reference, merged
checkpoints that load like any other, iteration t+1 starting from iteration t's merged weights, and a target
module the model lacks failing in one line (issue 12, part 3). Real TRL and peft throughout."""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import replace

import pytest
import torch

from spin_bench.core.enums import LossKind
from spin_bench.core.errors import ConfigError
from spin_bench.core.typed_config import from_mapping
from spin_bench.data.world import WorldConfig, build_world
from spin_bench.inference.checkpoints import ResolvedModel
from tests.training.cli_runs import REPO, run_train, safetensors_state, train_command
from training.config import LoraConfig, Schedule, TrainingConfig
from training.data import PreferencePair
from training.lora import PROVENANCE_FILE, peft_config
from training.preference_training import (
    PreferenceStage,
    build_trainer,
    train_preferences,
)
from training.stages import KeyedStage

LORA = LoraConfig(rank=4, alpha=8)


# ------------------------------------------------------------------ the section (no model needed)


def test_lora_section_maps_onto_peft():
    config = peft_config(LoraConfig(rank=8, alpha=16, dropout=0.1, target_modules=("q_proj", "v_proj")))
    assert (config.r, config.lora_alpha, config.lora_dropout) == (8, 16, 0.1)
    assert config.target_modules == {"q_proj", "v_proj"}
    assert peft_config(LoraConfig()).target_modules == "all-linear"
    assert peft_config(None) is None


@pytest.mark.parametrize(("raw", "words"), [
    ({"rank": 0}, "rank must be > 0"),
    ({"dropout": 1.0}, "dropout must be in [0, 1)"),
    ({"target_modules": []}, "at least one module"),
    ({"target_modules": ["all-linear", "q_proj"]}, "stands alone"),
    ({"rnak": 4}, "training.lora.rnak"),
])
def test_bad_lora_section(raw, words):
    with pytest.raises(ConfigError) as err:
        from_mapping(TrainingConfig, {"lora": raw}, "recipe.yaml", "training")
    assert words in str(err.value) and "recipe.yaml" in str(err.value)


# ------------------------------------------------------------------ the trainer


def _pairs(count: int) -> list[PreferencePair]:
    examples = build_world(WorldConfig(seed=0))["spin"][:count]
    return [PreferencePair(e.uid, e.prompt, e.response, e.rejected, i + 1) for i, e in enumerate(examples)]


def _stage(model_dir, epochs: float = 3.0) -> PreferenceStage:
    schedule = Schedule(learning_rate=1e-3, epochs=epochs, optimizer="rmsprop", lr_scheduler="constant",
                        warmup_ratio=0.0)
    return PreferenceStage(start=ResolvedModel(path=str(model_dir)), pairs=_pairs(4), schedule=schedule, beta=0.1,
                           loss=LossKind.LOGISTIC)


def _training(precompute: bool = True) -> TrainingConfig:
    return TrainingConfig(per_device_batch_size=4, max_length=256, precompute_reference=precompute, logging_steps=1,
                          lora=LORA)


def _losses(trainer) -> list[float]:
    trainer.train()
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]


@pytest.mark.slow
def test_only_the_adapter_trains_and_the_reference_is_the_start(tiny_sft_model, tmp_path):
    trainer = build_trainer(_stage(tiny_sft_model), _training(), 0, tmp_path)
    assert trainer.ref_model is None  # TRL's PEFT path: no second copy of the model
    trainable = {name for name, p in trainer.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in name for name in trainable)
    frozen = {name: p.detach().clone() for name, p in trainer.model.named_parameters() if not p.requires_grad}
    losses = _losses(trainer)
    assert losses[0] == pytest.approx(math.log(2), abs=1e-5)  # B = 0 at init: policy == reference
    assert losses[-1] < losses[0] - 1e-3
    assert all(torch.equal(p, frozen[name]) for name, p in trainer.model.named_parameters() if name in frozen)


@pytest.mark.slow
def test_adapter_disabled_live_reference_and_precomputed_reference_give_the_same_losses(tiny_sft_model, tmp_path):
    precomputed = _losses(build_trainer(_stage(tiny_sft_model), _training(precompute=True), 0, tmp_path / "a"))
    live = build_trainer(_stage(tiny_sft_model), _training(precompute=False), 0, tmp_path / "b")
    assert live.ref_model is None and not live.precompute_ref_logps
    assert _losses(live) == pytest.approx(precomputed, rel=1e-5, abs=1e-6)


@pytest.mark.slow
def test_saved_weights_are_merged_and_an_earlier_epoch_is_kept_without_stopping_the_adapter(tiny_sft_model, tmp_path):
    out = tmp_path / "iter0"
    keyed = KeyedStage(name=None, out=out, key="k", work=tmp_path / "work")
    stage = _stage(tiny_sft_model, epochs=2.0)
    metrics = train_preferences(replace(stage, keep_epochs=True), keyed, _training(), 0, {"spin_config.json": {}})
    start, epoch1, final = (safetensors_state(d) for d in (tiny_sft_model, tmp_path / "iter0-epoch1", out))
    assert start.keys() == epoch1.keys() == final.keys()  # plain transformers checkpoints, no lora_ keys
    moved = [k for k in start if not torch.equal(start[k], final[k])]
    assert moved and all(k.endswith("proj.weight") for k in moved)  # the adapted linear layers, merged
    assert any(not torch.equal(epoch1[k], final[k]) for k in moved)  # training went on after the epoch-1 save
    assert metrics["global_steps"] == 2
    provenance = json.loads((out / PROVENANCE_FILE).read_text())
    assert provenance["merged"] and provenance["rank"] == 4 and provenance["base"]["path"] == str(tiny_sft_model)
    assert json.loads((tmp_path / "iter0-epoch1" / PROVENANCE_FILE).read_text()) == provenance


# ------------------------------------------------------------------ the real CLI


@pytest.mark.slow
def test_lora_spin_run_through_the_cli(tiny_sft_model, tmp_path):
    """Two LoRA iterations and both baselines; iteration 1's adapter was trained on iteration 0's merged weights."""
    out = tmp_path / "run"
    run_train(out, "training.lora={rank: 4, alpha: 8, target_modules: [q_proj, v_proj, down_proj]}",
              "baselines.dpo.enabled=true", "baselines.sft_epoch.enabled=true")
    start = safetensors_state(tiny_sft_model)
    for name in ("iter0", "iter1", "baselines/sft_epoch", "baselines/dpo"):
        weights = safetensors_state(out / name)
        assert weights.keys() == start.keys(), name
        moved = {k.rsplit(".", 2)[-2] for k in start if not torch.equal(start[k], weights[k])}
        assert moved == {"q_proj", "v_proj", "down_proj"}, name  # only the targets changed
    iter1 = json.loads((out / "iter1" / PROVENANCE_FILE).read_text())
    from spin_bench.core.hashing import directory_hash

    assert iter1["base"]["path"] == str(out / "iter0")
    assert iter1["base"]["content_hash"] == directory_hash(out / "iter0")
    assert json.loads((out / "run.json").read_text())["heldout"]  # the monitor loaded the merged checkpoints
    assert "lora:" in (out / "recipe.yaml").read_text()


@pytest.mark.slow
@pytest.mark.parametrize(("targets", "words"), [
    ("[q_proj, no_such_proj]", ("'no_such_proj' is no module of", "q_proj")),
    ("[input_layernorm]", ("LlamaRMSNorm", "is not supported")),
])
def test_lora_target_the_model_cannot_take_fails_in_one_line_before_any_output(tiny_sft_model, tmp_path, targets,
                                                                                words):
    out = tmp_path / "run"
    result = subprocess.run(train_command(out, f"training.lora.target_modules={targets}"), cwd=REPO,
                            env=dict(os.environ), capture_output=True, text=True, timeout=300)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert lines[-1].startswith("spin-bench: error: training.lora.target_modules: "), lines[-1]
    assert all(word in lines[-1] for word in words), lines[-1]
    assert not out.exists() or not [p for p in out.iterdir() if p.name != "recipe.yaml"]
