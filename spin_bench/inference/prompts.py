"""Prompt rendering for generation, shared by the SPIN opponent, the held-out monitor and MT-Bench answers.

Besides the model's own chat template and the paper's instruction template, MT-Bench answers can use
FastChat's hand-written conversation templates (``fastchat:<name>``, or ``fastchat:auto`` for FastChat's own
model-to-template matching), so that answers are prompted exactly as FastChat's gen_model_answer.py
prompts them. fschat is imported only when such a template is chosen: it is an extra (``spin-bench[fastchat]``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from spin_bench.core.errors import UserError
from spin_bench.inference.config import PromptFormat

# The paper's generation template (uclaml/SPIN generate.py builds the same string by hand).
INSTRUCTION_TEMPLATE = "### Instruction: {prompt}\n\n### Response: "

CHAT_TEMPLATE = "chat_template"
FASTCHAT_PREFIX = "fastchat:"
FASTCHAT_AUTO = FASTCHAT_PREFIX + "auto"  # FastChat has no template of that name, so it cannot clash
FASTCHAT_MISSING = "FastChat conversation templates need fschat: pip install 'spin-bench[fastchat]'"

Messages = list[dict[str, str]]


def render_prompt(tokenizer, messages: Messages, prompt_format: PromptFormat) -> str:
    """Text the model continues: the chat template with a generation prompt, or the paper's template.

    The instruction template has no notion of turns, so only the last user message is used there.
    """
    if prompt_format is PromptFormat.INSTRUCTION:
        return INSTRUCTION_TEMPLATE.format(prompt=messages[-1]["content"])
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("the tokenizer has no chat template; use generation.prompt_format=instruction")
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def check_template(template: str) -> None:
    """Fail before any model work when a ``fastchat:`` template cannot be used (no fschat, unknown name)."""
    if template == FASTCHAT_AUTO:
        _fastchat_matching()
    elif template.startswith(FASTCHAT_PREFIX):
        fastchat_conversation(template.removeprefix(FASTCHAT_PREFIX))
    elif template != CHAT_TEMPLATE:
        raise UserError(f"MT-Bench template {template!r} is neither {CHAT_TEMPLATE}, {FASTCHAT_AUTO} nor "
                        f"{FASTCHAT_PREFIX}<FastChat template name>")


def fastchat_conversation(name: str) -> Any:
    """A fresh copy of FastChat's registered conversation template ``name`` (fastchat.conversation)."""
    try:
        from fastchat.conversation import conv_templates, get_conv_template
    except ImportError:
        raise UserError(FASTCHAT_MISSING) from None
    if name not in conv_templates:
        raise UserError(f"FastChat has no conversation template {name!r} (known: {', '.join(sorted(conv_templates))})")
    return get_conv_template(name)


def match_fastchat_template(names: Sequence[str]) -> tuple[str, str]:
    """FastChat's own model-to-template matching, as gen_model_answer.py does it with the model id.

    Each name (a model path or id) is tried in turn; the first one a FastChat model adapter claims decides.
    When none is claimed, FastChat's fallback for the first name applies (its one-shot template), as in
    FastChat itself.

    Returns:
        (template name, the name it was matched on)
    """
    base_adapter, get_model_adapter, get_conversation_template = _fastchat_matching()
    for name in names:
        if type(get_model_adapter(name)) is not base_adapter:
            return get_conversation_template(name).name, name
    return get_conversation_template(names[0]).name, names[0]


def _fastchat_matching() -> tuple[type, Callable[[str], Any], Callable[[str], Any]]:
    try:
        # fastchat.model imports torch and transformers (seconds): only when fastchat:auto is asked for.
        from fastchat.model.model_adapter import (
            BaseModelAdapter,
            get_conversation_template,
            get_model_adapter,
        )
    except ImportError:
        raise UserError(FASTCHAT_MISSING) from None
    return BaseModelAdapter, get_model_adapter, get_conversation_template


def fastchat_renderer(tokenizer, name: str) -> Callable[[Messages], str]:
    """Render messages with FastChat's template ``name``, as the generators encode text.

    gen_model_answer.py encodes its prompt with ``tokenizer([prompt])``, so a Llama/Mistral tokenizer adds
    BOS; our generators encode with ``add_special_tokens=False`` (chat templates write their own BOS). The
    special tokens the tokenizer would add are therefore written into the text, and each prompt is checked to
    encode to exactly FastChat's token ids.
    """
    template = fastchat_conversation(name)
    prefix, suffix = _added_special_text(tokenizer)
    # A tokenizer that marks a word boundary only at the very start of a text (Llama's non-legacy Metaspace)
    # no longer sees the prompt's start after a written BOS; a space there restores the same tokens.
    starts = (prefix, prefix + " ") if prefix else (prefix,)

    def render(messages: Messages) -> str:
        prompt = fastchat_prompt(template.copy(), messages)
        wanted = tokenizer(prompt)["input_ids"]
        for start in starts:
            text = start + prompt + suffix
            if tokenizer(text, add_special_tokens=False)["input_ids"] == wanted:
                return text
        raise UserError(f"FastChat template {name!r}: no text encodes to FastChat's token ids with this tokenizer; "
                        "use the model's chat_template instead")

    return render


def fastchat_prompt(conv: Any, messages: Messages) -> str:
    """The prompt a FastChat Conversation gives for ``messages``, ending with the assistant's empty turn."""
    for message in messages:
        if message["role"] == "system":
            conv.set_system_message(message["content"])
        else:
            conv.append_message(conv.roles[0 if message["role"] == "user" else 1], message["content"])
    conv.append_message(conv.roles[1], None)
    return conv.get_prompt()


def _added_special_text(tokenizer) -> tuple[str, str]:
    """The text of the special tokens the tokenizer puts before and after a text (BOS for Llama/Mistral)."""
    plain = tokenizer("x", add_special_tokens=False)["input_ids"]
    full = tokenizer("x")["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start:start + len(plain)] == plain:
            before, after = full[:start], full[start + len(plain):]
            return tokenizer.decode(before), tokenizer.decode(after)
    return "", ""
