"""Summed log-probabilities of responses under a model: the held-out monitor's measurement.

Why not TRL's evaluate(): it needs a trainer (and a reference) per checkpoint; the monitor compares many
checkpoints against several references on one held-out set, so it scores each (model, text) once and caches.
"""

from __future__ import annotations

from collections.abc import Sequence

from spin_bench.inference.config import PromptFormat
from spin_bench.inference.prompts import render_prompt


def response_logprobs(model, tokenizer, prompts: Sequence[str], responses: Sequence[str], batch_size: int = 16):
    """(summed log p(response + EOS | chat-templated prompt), response token count) per pair, as float lists."""
    import torch

    sequences = []
    for prompt, response in zip(prompts, responses, strict=True):
        context = tokenizer(render_prompt(tokenizer, [{"role": "user", "content": prompt}], PromptFormat.CHAT_TEMPLATE),
                            add_special_tokens=False)["input_ids"]
        answer = tokenizer(response, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        sequences.append((context, answer))
    totals, counts = [0.0] * len(sequences), [0] * len(sequences)
    order = sorted(range(len(sequences)), key=lambda i: -sum(map(len, sequences[i])))
    device = model.device
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        width = max(len(sequences[i][0]) + len(sequences[i][1]) for i in batch)
        ids = torch.full((len(batch), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        for row, i in enumerate(batch):
            context, answer = sequences[i]
            full = context + answer
            ids[row, : len(full)] = torch.tensor(full)
            mask[row, : len(full)] = 1
            labels[row, len(context) : len(full)] = torch.tensor(answer)
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
        shifted = labels[:, 1:].to(device)
        logprobs = torch.log_softmax(logits[:, :-1], dim=-1)
        picked = logprobs.gather(-1, shifted.clamp_min(0).unsqueeze(-1)).squeeze(-1) * (shifted != -100)
        for row, i in enumerate(batch):
            totals[i] = picked[row].sum().item()
            counts[i] = int((shifted[row] != -100).sum().item())
    return totals, counts
