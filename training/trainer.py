"""SpinTrainer: TRL's DPOTrainer with the loss swapped for the SPIN loss family.

Mapping (training-trl notes): chosen = the human answer, rejected = the opponent's own answer, reference =
the previous iterate. TRL keeps tokenisation, the pair collator, reference precompute, ZeRO-3 preparation of
the reference and the chunked log-prob head; this adapter only gathers log-probs and calls `spin_loss`.
It overrides private methods (the loss; the train sampler, for training.group_by_length), so trl and
transformers are pinned to the minor versions it was written against.
"""

from __future__ import annotations

import torch
from transformers.trainer_pt_utils import LengthGroupedSampler
from trl import DPOTrainer

from spin_bench.core.enums import LossKind
from training.losses import spin_loss, spin_margin

_NON_MODEL_KEYS = frozenset({"completion_mask", "ref_chosen_logps", "ref_rejected_logps"})


class SpinTrainer(DPOTrainer):
    """DPOTrainer whose loss is `training.losses.spin_loss` of the given kind."""

    def __init__(self, *args, spin_loss_kind: LossKind = LossKind.LOGISTIC, **kwargs):
        self.spin_loss_kind = LossKind(spin_loss_kind)
        super().__init__(*args, **kwargs)

    def _get_train_sampler(self, train_dataset=None):
        # transformers' length grouping measures an input_ids column, which tokenised pairs lack; give its
        # sampler the padded length of each pair instead (the collator pads real and generated together).
        if self.args.train_sampling_strategy != "group_by_length":
            return super()._get_train_sampler(train_dataset)
        dataset = self.train_dataset if train_dataset is None else train_dataset
        seed = self.args.seed if self.args.data_seed is None else self.args.data_seed
        return EpochSeededLengthSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                        pair_lengths(dataset, self.args.max_length), seed)

    def _compute_loss(self, model, inputs, return_outputs):
        if return_outputs:
            raise ValueError("SpinTrainer computes no logits; evaluate with prediction_loss_only=True")
        mode = "train" if self.model.training else "eval"
        completion_mask = inputs["completion_mask"]
        model_kwargs = {k: v for k, v in inputs.items() if k not in _NON_MODEL_KEYS}
        labels = inputs["input_ids"].masked_fill(completion_mask == 0, -100)
        outputs = model(**model_kwargs, labels=labels, fused_lm_head=True, use_cache=False)
        seq_len = completion_mask.size(1) - 1
        # Batches are laid out [real..., generated...]; sums over response tokens, as in DPO and SPIN.
        policy_real, policy_generated = outputs.log_probs[:, -seq_len:].sum(dim=1).chunk(2, dim=0)

        if self.precompute_ref_logps:
            reference_real, reference_generated = inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
        else:
            reference = self.ref_model if self.ref_model is not None else self.model
            reference_real, reference_generated = self.compute_ref_log_probs(reference, inputs)

        per_pair = spin_loss(
            policy_real, policy_generated, reference_real, reference_generated, self.beta, self.spin_loss_kind
        )
        self._log_pair_metrics(mode, policy_real, policy_generated, reference_real, reference_generated)
        return per_pair.mean()

    @torch.no_grad()
    def _log_pair_metrics(self, mode, policy_real, policy_generated, reference_real, reference_generated) -> None:
        # TRL's metric names, so dashboards built for DPO read SPIN runs too: chosen = real, rejected = generated.
        real_rewards = self.beta * (policy_real - reference_real)
        generated_rewards = self.beta * (policy_generated - reference_generated)
        margins = spin_margin(policy_real, policy_generated, reference_real, reference_generated, self.beta)
        gather = self.accelerator.gather_for_metrics
        values = {
            "rewards/chosen": real_rewards,
            "rewards/rejected": generated_rewards,
            "rewards/margins": margins,
            "rewards/accuracies": (margins > 0).float(),
            "logps/chosen": policy_real,
            "logps/rejected": policy_generated,
        }
        for name, value in values.items():
            self._metrics[mode][name].append(gather(value.detach()).float().mean().item())


def pair_lengths(dataset, max_length: int | None) -> list[int]:
    """Tokens of each tokenised pair's longer sequence (prompt + real or prompt + generated), as batched."""
    lengths = [len(prompt) + max(len(real), len(generated)) for prompt, real, generated
               in zip(dataset["prompt_ids"], dataset["chosen_ids"], dataset["rejected_ids"], strict=True)]
    return lengths if max_length is None else [min(length, max_length) for length in lengths]


class EpochSeededLengthSampler(LengthGroupedSampler):
    """transformers' LengthGroupedSampler with each epoch's order drawn from (seed, epoch), as accelerate's
    SeedableRandomSampler draws the default shuffle. The stock sampler draws from the global RNG, so a run
    resumed in a later epoch batched differently from the uninterrupted one (weights differed by 7e-3)."""

    def __init__(self, batch_size: int, lengths: list[int], seed: int):
        super().__init__(batch_size, lengths=lengths, generator=torch.Generator())
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:  # the Trainer calls it (through accelerate) before every epoch
        self.epoch = epoch

    def __iter__(self):
        self.generator.manual_seed(self.seed + self.epoch)
        return super().__iter__()
