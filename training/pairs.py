"""Training pairs (prompt, real, generated): building, length checks, and TRL's conversational format."""

from __future__ import annotations

from collections.abc import Sequence

from spin_bench.core.errors import DataError
from spin_bench.inference.config import PromptFormat
from spin_bench.inference.prompts import render_prompt
from training.config import TrainingConfig
from training.data import PreferencePair, PromptResponse


def spin_pairs(rows: Sequence[PromptResponse], answers: dict[str, str]) -> list[PreferencePair]:
    """SPIN's pairs: the human answer is preferred over the opponent's own answer to the same prompt."""
    return [
        PreferencePair(prompt_id=r.prompt_id, prompt=r.prompt, chosen=r.response, rejected=answers[r.prompt_id], row=r.row)
        for r in rows
    ]


def _prompt_length(tokenizer, prompt: str) -> int:
    rendered = render_prompt(tokenizer, [{"role": "user", "content": prompt}], PromptFormat.CHAT_TEMPLATE)
    return len(tokenizer(rendered, add_special_tokens=False)["input_ids"])


def check_prompt_lengths(rows: Sequence[PromptResponse | PreferencePair], tokenizer, training: TrainingConfig,
                         source: str) -> None:
    """Fail on a prompt that fills max_length by itself, before any work is done.

    TRL would silently drop such a pair; a user should hear about it. With max_prompt_length set, long
    prompts are cut instead (fit_prompts), so nothing can overflow.
    """
    if training.max_prompt_length is not None:
        return
    for row in rows:
        length = _prompt_length(tokenizer, row.prompt)
        if length >= training.max_length:
            raise DataError(
                f"{source}: row {row.row}: the prompt has {length} tokens with the chat template, "
                f"not less than training.max_length={training.max_length} (set training.max_prompt_length to cut)"
            )


def fit_prompts(pairs: Sequence[PreferencePair], tokenizer, training: TrainingConfig) -> list[PreferencePair]:
    """Cut prompts longer than max_prompt_length, keeping their end (the official SPIN collator did this)."""
    limit = training.max_prompt_length
    if limit is None:
        return list(pairs)
    fitted = []
    for pair in pairs:
        length = _prompt_length(tokenizer, pair.prompt)
        fitted.append(_cut_prompt(pair, tokenizer, overflow=length - limit) if length > limit else pair)
    return fitted


def _cut_prompt(pair: PreferencePair, tokenizer, overflow: int) -> PreferencePair:
    encoding = tokenizer(pair.prompt, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoding["offset_mapping"]
    start = offsets[min(overflow, len(offsets) - 1)][0]
    return PreferencePair(pair.prompt_id, pair.prompt[start:], pair.chosen, pair.rejected, pair.row)


def to_trl_dataset(pairs: Sequence[PreferencePair]):
    """TRL's conversational preference format; TRL renders it with the tokenizer's chat template."""
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "prompt": [[{"role": "user", "content": p.prompt}] for p in pairs],
            "chosen": [[{"role": "assistant", "content": p.chosen}] for p in pairs],
            "rejected": [[{"role": "assistant", "content": p.rejected}] for p in pairs],
        }
    )


def pairs_frame(pairs: Sequence[PreferencePair]):
    import pandas as pd

    return pd.DataFrame(
        {
            "prompt_id": [p.prompt_id for p in pairs],
            "prompt": [p.prompt for p in pairs],
            "real": [p.chosen for p in pairs],
            "generated": [p.rejected for p in pairs],
            "row": [p.row for p in pairs],
        }
    )


def pairs_from_frame(frame) -> list[PreferencePair]:
    return [
        PreferencePair(prompt_id=r.prompt_id, prompt=r.prompt, chosen=r.real, rejected=r.generated, row=int(r.row))
        for r in frame.itertuples(index=False)
    ]
