"""The held-out monitor on the tiny embedded model: it scores the tokens SPIN training scores, and its margin
is measured against the reference's own answers under the reference."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from spin_bench.core.enums import LossKind, Precision
from spin_bench.data.world import WorldConfig, build_world
from spin_bench.inference.checkpoints import (
    ResolvedModel,
    load_causal_lm,
    load_tokenizer,
)
from spin_bench.inference.config import GenerationConfig
from spin_bench.inference.scoring import completion_tokens, response_logprobs
from training.config import Schedule, TrainingConfig
from training.data import PreferencePair, PromptResponse
from training.monitor import MonitoredCheckpoint, monitor_checkpoints
from training.preference_training import PreferenceStage, build_trainer

pytestmark = pytest.mark.slow


def _pairs(count: int) -> list[PreferencePair]:
    examples = build_world(WorldConfig(seed=0))["spin"][:count]
    return [PreferencePair(e.uid, e.prompt, e.response, e.rejected, i + 1) for i, e in enumerate(examples)]


def test_monitor_scores_what_spin_training_scores(tiny_sft_model, tmp_path):
    # The monitor's log p(real) and log p(generated) are the training metrics' logps/real and logps/generated
    # on other prompts only if both score the same tokens: the chat template's answer, end of turn included.
    pairs = _pairs(6)
    stage = PreferenceStage(start=ResolvedModel(path=str(tiny_sft_model)), pairs=pairs, beta=0.1,
                            loss=LossKind.LOGISTIC, schedule=Schedule(learning_rate=1e-4, epochs=1.0))
    trainer = build_trainer(stage, TrainingConfig(per_device_batch_size=6, max_length=256,
                                                  precompute_reference=False), 0, tmp_path)
    tokenizer = load_tokenizer(stage.start)
    for pair, example in zip(pairs, trainer.train_dataset, strict=True):
        context, answer = completion_tokens(tokenizer, pair.prompt, pair.chosen)
        assert (context, answer) == (example["prompt_ids"], example["chosen_ids"])
        assert answer[-2:] == tokenizer("</s>\n", add_special_tokens=False)["input_ids"]  # the turn's end
        assert completion_tokens(tokenizer, pair.prompt, pair.rejected)[1] == example["rejected_ids"]
    batch = trainer.data_collator(list(trainer.train_dataset))
    with torch.no_grad():
        trl_real, trl_generated = trainer.compute_ref_log_probs(trainer.model.eval(), batch)
    model = load_causal_lm(stage.start, Precision.FP32)
    prompts = [p.prompt for p in pairs]
    real, _ = response_logprobs(model, tokenizer, prompts, [p.chosen for p in pairs])
    generated, _ = response_logprobs(model, tokenizer, prompts, [p.rejected for p in pairs])
    assert real == pytest.approx(trl_real.tolist(), abs=1e-3)
    assert generated == pytest.approx(trl_generated.tolist(), abs=1e-3)


def test_margin_uses_the_references_answers_and_scores(tiny_sft_model, tmp_path):
    # The SFT model measured against the pre-trained model it came from: its margin must be the SPIN margin
    # with the reference's greedy answers as y' and the reference's log-probs as log p_ref.
    sft = ResolvedModel(path=str(tiny_sft_model))
    reference = MonitoredCheckpoint("pretrained", ResolvedModel(path=str(Path(tiny_sft_model).parent / "pretrained")),
                                    identity="pretrained")
    checkpoint = MonitoredCheckpoint("sft", sft, identity="sft", reference=reference, beta=0.1)
    heldout = [PromptResponse(e.uid, e.prompt, e.response, i + 1)
               for i, e in enumerate(build_world(WorldConfig(seed=0))["heldout"][:6])]
    generation = GenerationConfig(max_new_tokens=12, batch_size=6, shard_size=6)
    [row] = monitor_checkpoints([checkpoint], heldout, generation, Precision.FP32, tmp_path, seed=0)
    answers = pd.concat(pd.read_parquet(f) for f in sorted((tmp_path / "generations" / "pretrained").glob("*.parquet")))
    generated = [dict(zip(answers["prompt_id"], answers["generated"], strict=True))[r.prompt_id] for r in heldout]
    prompts, real = [r.prompt for r in heldout], [r.response for r in heldout]
    scores = {}
    for name, model in (("policy", sft), ("reference", reference.model)):
        loaded, tokenizer = load_causal_lm(model, Precision.FP32), load_tokenizer(model)
        scores[name] = (response_logprobs(loaded, tokenizer, prompts, real),
                        response_logprobs(loaded, tokenizer, prompts, generated))
    (policy_real, real_tokens), (policy_gen, gen_tokens) = scores["policy"]
    (ref_real, _), (ref_gen, _) = scores["reference"]
    margins = [0.1 * ((a - b) - (c - d)) for a, b, c, d in zip(policy_real, ref_real, policy_gen, ref_gen, strict=True)]
    assert row.reference == "pretrained" and row.beta == 0.1
    assert row.margin == pytest.approx(sum(margins) / len(margins), abs=1e-4)
    assert row.accuracy == sum(m > 0 for m in margins) / len(margins)
    assert row.real_logp_per_token == pytest.approx(sum(policy_real) / sum(real_tokens), abs=1e-5)
    assert row.generated_logp_per_token == pytest.approx(sum(policy_gen) / sum(gen_tokens), abs=1e-5)
    assert row.reference_real_logp_per_token == pytest.approx(sum(ref_real) / sum(real_tokens), abs=1e-5)
    assert row.reference_generated_logp_per_token == pytest.approx(sum(ref_gen) / sum(gen_tokens), abs=1e-5)
