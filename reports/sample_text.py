"""What one lm-eval per-sample line says in words: the prompt, the gold answer and the model's answer.

lm-eval writes, per document, the requests it made (``arguments``: one (context, continuation) per choice
for a multiple-choice task, one (context, generation kwargs) for a generative one), the model's raw
responses (``resps``: a log-likelihood per choice, or the generated text), the filtered ones and the
target. The choice a model picked is not written, so it is read back here from the log-likelihoods the
way lm-eval's ``ConfigurableTask.process_results`` picks it (argmax; divided by the choice's length for
``acc_norm``), and kept only when it agrees with the line's own per-document metric: a pick that
disagrees is shown as the log-likelihoods, never as a claim.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class SampleText:
    """One document as text: ``answer`` is the model's (its chosen option, or what it generated)."""

    prompt: str
    gold: str
    answer: str


def describe(line: Mapping[str, Any], metric: str) -> SampleText:
    """The prompt, gold answer and model answer of one lm-eval sample line scored on ``metric``."""
    requests = _requests(line)
    if len(requests) == 1 and isinstance(requests[0][1], Mapping):  # generate_until: (context, gen kwargs)
        return SampleText(str(requests[0][0]), str(line.get("target", "")), _generated(line))
    return _multiple_choice(line, requests, metric)


def _requests(line: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """(context, continuation or generation kwargs) per request, from either layout lm-eval has written:
    {"gen_args_0": {"arg_0": ..., "arg_1": ...}} (0.4.3 on) or [[context, continuation], ...] (before)."""
    arguments = line.get("arguments") or []
    if isinstance(arguments, Mapping):
        arguments = [arguments[name] for name in sorted(arguments, key=_request_index)]
    out = []
    for request in arguments:
        if isinstance(request, Mapping):
            request = [request.get("arg_0", ""), request.get("arg_1", "")]
        out.append((request[0] if len(request) > 0 else "", request[1] if len(request) > 1 else ""))
    return out


def _request_index(name: str) -> int:
    digits = name.rsplit("_", 1)[-1]
    return int(digits) if digits.isdigit() else 0


def _generated(line: Mapping[str, Any]) -> str:
    """The generated text, and what the task's filter extracted from it when that is something else."""
    raw = _first_text(line.get("resps"))
    extracted = _first_text(line.get("filtered_resps"))
    if extracted is None or extracted == raw:
        return raw or ""
    return f"{raw or ''}\n[extracted answer: {extracted}]"


def _first_text(value: Any) -> str | None:
    while isinstance(value, list) and value:
        value = value[0]
    return None if isinstance(value, list) or value is None else str(value)


def _multiple_choice(line: Mapping[str, Any], requests: Sequence[tuple[Any, Any]], metric: str) -> SampleText:
    contexts = [str(context) for context, _ in requests]
    continuations = [str(continuation) for _, continuation in requests]
    if len(set(continuations)) == 1 and len(set(contexts)) > 1:
        # lm-eval's multiple_input tasks (Winogrande): the options sit inside the contexts, one
        # continuation is scored after each. Show the shared text with a blank, and the options.
        prefix, suffix = os.path.commonprefix(contexts), _common_suffix(contexts)
        options = [context[len(prefix): len(context) - len(suffix)] for context in contexts]
        prompt = f"{prefix}___{suffix}{continuations[0]}"
    else:
        # A target delimiter (a space) precedes every choice in its continuation; lm-eval's choice is without it.
        options = [continuation.removeprefix(" ") for continuation in continuations]
        prompt = contexts[0] if contexts else ""
    gold = _gold_index(line.get("target"), options)
    pick = _pick(line, options, metric, gold)
    if gold is None and pick is not None and line.get(metric) in (1, 1.0, True):
        gold = pick  # scored right, so its pick is the gold choice (Winogrande's target is the continuation)
    gold_text = _option(gold, options) if gold is not None else str(line.get("target", ""))
    if pick is not None:
        answer = _option(pick, options)
    else:
        answer = "picked option not recoverable; log-likelihoods: " + ", ".join(
            f"{LETTERS[i % 26]} {ll:.3f}" for i, ll in enumerate(_loglikelihoods(line)))
    return SampleText(prompt, gold_text, answer)


def _common_suffix(texts: Sequence[str]) -> str:
    return os.path.commonprefix([text[::-1] for text in texts])[::-1]


def _option(index: int, options: Sequence[str]) -> str:
    letter = LETTERS[index % 26]
    return letter if options[index].strip() == letter else f"{letter}. {options[index]}"  # MMLU's choices are letters


def _gold_index(target: Any, options: Sequence[str]) -> int | None:
    """The gold choice: lm-eval writes a single-input task's target as its index, else as the text."""
    text = str(target).strip()
    if text.isdigit() and int(text) < len(options):
        return int(text)
    return options.index(text) if text in options else None


def _loglikelihoods(line: Mapping[str, Any]) -> list[float]:
    """One log-likelihood per choice: filtered_resps holds [ll, is_greedy] per choice (resps one more level)."""
    out = []
    for response in line.get("filtered_resps") or line.get("resps") or []:
        while isinstance(response, list) and response and isinstance(response[0], list):
            response = response[0]
        try:
            out.append(float(response[0] if isinstance(response, list) else response))
        except (TypeError, ValueError, IndexError):
            return []
    return out


def _pick(line: Mapping[str, Any], options: Sequence[str], metric: str, gold: int | None) -> int | None:
    """The chosen option under ``metric``, or None when it cannot be recomputed consistently with the line."""
    lls = _loglikelihoods(line)
    if len(lls) != len(options) or not lls or not all(math.isfinite(ll) for ll in lls):
        return None
    if metric == "acc_norm":
        scores = [ll / max(len(option), 1) for ll, option in zip(lls, options, strict=True)]
    else:
        scores = lls
    pick = max(range(len(scores)), key=scores.__getitem__)
    value = line.get(metric)
    if isinstance(value, bool | int | float) and gold is not None and float(value) != float(pick == gold):
        return None  # the recomputed pick disagrees with lm-eval's own score of the line
    return pick
