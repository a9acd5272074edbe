"""Summed log-probabilities of responses under a model: the held-out monitor's measurement.

Why not TRL's evaluate(): it needs a trainer (and a reference) per checkpoint; the monitor compares many
checkpoints against several references on one held-out set, so it scores each (model, text) once and caches.
The tokens scored are the ones SPIN and DPO training score: TRL renders prompt + answer with the chat
template and takes the tokens after the rendered prompt (the answer, the template's end of turn and whatever
follows it, e.g. "</s>\n"), so the monitor's numbers are the training metrics' logps on unseen prompts.
"""

from __future__ import annotations

from collections.abc import Sequence

from spin_bench.inference.config import PromptFormat
from spin_bench.inference.prompts import render_prompt

# Part of every score's cache key: scores taken before the answer tokens followed TRL's are not reused.
SCORED_TOKENS = "trl-chat-completion"


def response_logprobs(model, tokenizer, prompts: Sequence[str], responses: Sequence[str], batch_size: int = 16):
    """(summed log p(answer tokens | chat-templated prompt), answer token count) per pair, as float lists.

    The answer tokens are those of TRL's DPO/SPIN training (:func:`completion_tokens`).
    """
    import torch

    pairs = zip(prompts, responses, strict=True)
    sequences = [completion_tokens(tokenizer, prompt, response) for prompt, response in pairs]
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


def completion_tokens(tokenizer, prompt: str, response: str) -> tuple[list[int], list[int]]:
    """(context, answer) token ids as TRL's DPOTrainer tokenises a conversational pair.

    The answer is the rendered conversation's tokens after the rendered prompt: for the embedded template
    ``answer</s>\n``. Appending EOS to the bare answer instead scores another sequence than training did: one
    token short here, and a wrong end of turn for a template that does not end its turns with EOS. Where the
    two renderings part before the prompt's end, the answer starts where they part, as in TRL.
    """
    messages = [{"role": "user", "content": prompt}]
    context = tokenizer(render_prompt(tokenizer, messages, PromptFormat.CHAT_TEMPLATE),
                        add_special_tokens=False)["input_ids"]
    conversation = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": response}],
                                                 tokenize=False)
    full = tokenizer(conversation, add_special_tokens=False)["input_ids"]
    split = next((i for i, (a, b) in enumerate(zip(context, full, strict=False)) if a != b),
                 min(len(context), len(full)))
    return full[:split], full[split:]
