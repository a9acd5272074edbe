"""Held-out monitor: does each checkpoint prefer human answers over its opponent's, on unseen prompts?

For checkpoint c trained against reference r with beta, on held-out prompts x with human answers y and
r's own answers y':  margin = beta * [(log c(y) - log r(y)) - (log c(y') - log r(y'))], the SPIN reward
margin (Theorem 5.2: it vanishes at the fixed point p_theta = p_data). Also reported: accuracy (margin > 0)
and the mean per-token log-likelihood of the human answers y and of r's answers y', under c and under r
(summed log-probs over all prompts divided by their token count; y is the same for every checkpoint, so its
means compare across rows). The changes from r to c say how the margin moved: SPIN's loss sees only the
difference of the log-ratios, so it can grow while both likelihoods fall (the likelihood displacement of
DPO-family losses). Scores are cached by content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.core.atomic import write_json_atomic
from spin_bench.core.enums import Precision
from spin_bench.core.hashing import stable_hash
from spin_bench.core.run_layout import HeldoutRow
from spin_bench.inference.checkpoints import (
    ResolvedModel,
    load_causal_lm,
    load_tokenizer,
)
from spin_bench.inference.config import GenerationConfig
from spin_bench.inference.distributed import is_main_process
from spin_bench.inference.scoring import SCORED_TOKENS, response_logprobs
from training.data import PromptResponse
from training.opponent import generate_answers
from training.stages import read_json


@dataclass(frozen=True)
class MonitoredCheckpoint:
    label: str  # "sft", "iter0", "dpo", ...
    model: ResolvedModel
    identity: str  # stage key or content hash: what the cache is keyed by
    reference: MonitoredCheckpoint | None = None
    beta: float | None = None


def monitor_checkpoints(
    checkpoints: Sequence[MonitoredCheckpoint],
    heldout: Sequence[PromptResponse],
    generation: GenerationConfig,
    precision: Precision,
    directory: Path,
    seed: int,
) -> list[HeldoutRow]:
    """One row of held-out metrics per checkpoint (all ranks call this; rank 0 scores)."""
    references = {c.reference.identity: c.reference for c in checkpoints if c.reference is not None}
    answers = {
        identity: generate_answers(ref.model, heldout, generation, precision,
                                   directory / "generations" / identity, seed, desc=f"held-out answers ({ref.label})")[0]
        for identity, ref in references.items()
    }
    if not is_main_process():
        return []
    scorer = _CachedScorer(heldout, precision, directory / "scores")
    rows = []
    for checkpoint in checkpoints:
        row: dict[str, Any] = {"label": checkpoint.label, "heldout_prompts": len(heldout)}
        real = scorer.scores(checkpoint, [r.response for r in heldout])
        row["real_logp_per_token"] = sum(real[0]) / max(1, sum(real[1]))
        if checkpoint.reference is not None:
            row.update(_margin(checkpoint, heldout, answers[checkpoint.reference.identity], real, scorer))
        rows.append(HeldoutRow(**row))
    write_json_atomic(directory / "heldout.json", rows)
    return rows


def _margin(checkpoint, heldout, generated_answers, real, scorer: _CachedScorer) -> dict[str, Any]:
    ref = checkpoint.reference
    generated = [generated_answers[r.prompt_id] for r in heldout]
    policy_gen, counts = scorer.scores(checkpoint, generated)
    ref_real = scorer.scores(ref, [r.response for r in heldout])[0]
    ref_gen = scorer.scores(ref, generated)[0]
    real_tokens, generated_tokens = max(1, sum(real[1])), max(1, sum(counts))
    logratio = [(pr - rr) - (pg - rg) for pr, rr, pg, rg in zip(real[0], ref_real, policy_gen, ref_gen, strict=True)]
    margins = [checkpoint.beta * m for m in logratio]
    return {
        "reference": ref.label,
        "beta": checkpoint.beta,
        "margin": sum(margins) / len(margins),
        "accuracy": sum(m > 0 for m in margins) / len(margins),
        "logratio_margin": sum(logratio) / len(logratio),
        "generated_logp_per_token": sum(policy_gen) / generated_tokens,
        "reference_real_logp_per_token": sum(ref_real) / real_tokens,
        "reference_generated_logp_per_token": sum(ref_gen) / generated_tokens,
    }


class _CachedScorer:
    """Response log-probs per (checkpoint, responses), cached on disk; one model in memory at a time."""

    def __init__(self, heldout: Sequence[PromptResponse], precision: Precision, directory: Path):
        self.prompts = [r.prompt for r in heldout]
        self.precision = precision
        self.directory = directory
        self._loaded: tuple[str, Any, Any] | None = None

    def scores(self, checkpoint: MonitoredCheckpoint, responses: list[str]) -> tuple[list[float], list[int]]:
        key = stable_hash({"model": checkpoint.identity, "prompts": self.prompts, "responses": responses,
                           "tokens": SCORED_TOKENS})
        path = self.directory / f"{key}.json"
        if path.is_file():
            cached = read_json(path)
            return cached["logprobs"], cached["tokens"]
        if self._loaded is None or self._loaded[0] != checkpoint.identity:
            self._loaded = None  # free the previous model before loading the next
            model = load_causal_lm(checkpoint.model, self.precision)
            self._loaded = (checkpoint.identity, model, load_tokenizer(checkpoint.model))
        _, model, tokenizer = self._loaded
        logprobs, tokens = response_logprobs(model, tokenizer, self.prompts, responses)
        write_json_atomic(path, {"label": checkpoint.label, "logprobs": logprobs, "tokens": tokens})
        return logprobs, tokens
