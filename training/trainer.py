"""SpinTrainer: TRL's DPOTrainer with the loss swapped for the SPIN loss family.

Mapping (training-trl notes): chosen = the human answer, rejected = the opponent's own answer, reference =
the previous iterate. TRL keeps tokenisation, the pair collator, reference precompute, ZeRO-3 preparation of
the reference and the chunked log-prob head; this adapter only gathers log-probs and calls `spin_loss`.
It overrides a private method, so trl is pinned to the minor version it was written against.
"""

from __future__ import annotations

import torch
from trl import DPOTrainer

from spin_bench.core.enums import LossKind
from training.losses import spin_loss, spin_margin

_NON_MODEL_KEYS = frozenset({"completion_mask", "ref_chosen_logps", "ref_rejected_logps"})


class SpinTrainer(DPOTrainer):
    """DPOTrainer whose loss is `training.losses.spin_loss` of the given kind."""

    def __init__(self, *args, spin_loss_kind: LossKind = LossKind.LOGISTIC, **kwargs):
        self.spin_loss_kind = LossKind(spin_loss_kind)
        super().__init__(*args, **kwargs)

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
