"""Prompt rendering for generation, shared by the SPIN opponent, the held-out monitor and MT-Bench answers."""

from __future__ import annotations

from spin_bench.inference.config import PromptFormat

# The paper's generation template (uclaml/SPIN generate.py builds the same string by hand).
INSTRUCTION_TEMPLATE = "### Instruction: {prompt}\n\n### Response: "


def render_prompt(tokenizer, messages: list[dict[str, str]], prompt_format: PromptFormat) -> str:
    """Text the model continues: the chat template with a generation prompt, or the paper's template.

    The instruction template has no notion of turns, so only the last user message is used there.
    """
    if prompt_format is PromptFormat.INSTRUCTION:
        return INSTRUCTION_TEMPLATE.format(prompt=messages[-1]["content"])
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("the tokenizer has no chat template; use generation.prompt_format=instruction")
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
