"""The MT-Bench judge over any OpenAI-compatible chat-completions endpoint, through the `openai` client.

Retries with exponential backoff on timeouts, connection errors, 429 and 5xx are the client's own
(``max_retries``); what still fails after them is reported back as retryable, and the caller stores no
score for that model, so a rerun asks only those requests again. A judge output without a rating is a
failed rating (-1, counted), as in FastChat. Answers the caller must fix (a wrong key, an unknown model, a server without the prefill flags) stop the run with
one line. Every successful response is cached by its request, so no request is ever sent twice.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from spin_bench.core.errors import UserError
from spin_bench.mtbench.cache import JudgmentCache
from spin_bench.mtbench.protocol import (
    FAILED,
    JUDGE_MAX_TOKENS,
    RATING_PREFIX,
    JudgeMode,
    parse_rating,
    rating_distribution,
)

TOP_LOGPROBS = 20
# Below this probability of "1" the distribution after "1" (one more request) cannot move the expected
# rating by more than 9 x 0.001 = 0.009, so it is not asked for.
SPLIT_ONE_ABOVE = 1e-3
# A judge that puts less than this on the ten ratings is not rating: the judgment counts as failed.
MIN_COVERAGE = 0.1


@dataclass(frozen=True, kw_only=True)
class JudgeSettings:
    """Which judge, and how to reach it (made from an MT-Bench section, whose defaults these are). The API key
    is read from ``api_key_env`` when the client is made and is never a field here, so it cannot reach a
    file through this object."""

    base_url: str
    model: str
    mode: JudgeMode
    api_key_env: str
    concurrency: int
    timeout_s: float
    max_retries: int
    fingerprint: str | None = None  # e.g. the content hash of a local judge model

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.timeout_s <= 0 or self.max_retries < 0:
            raise UserError("judge: concurrency must be >= 1, timeout > 0 and retries >= 0")

    def identity(self) -> dict[str, Any]:
        """What decides a judgment's value: recorded with every score and part of every cache key."""
        return {"model": self.model, "mode": self.mode.value, "fingerprint": self.fingerprint}

    def provenance(self) -> dict[str, Any]:
        return {**self.identity(), "endpoint": public_url(self.base_url), "api_key_env": self.api_key_env}


def public_url(url: str) -> str:
    """The endpoint without user:password, which must not reach the store."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Judgment:
    score: float  # FAILED when no rating could be read
    output: str  # the judge's text (faithful) or the rating distribution (expected)
    error: str | None = None
    coverage: float | None = None
    probabilities: Mapping[int, float] | None = None
    retryable: bool = False  # the endpoint failed (timeouts, 5xx) even after retries; nothing was cached


@dataclass(frozen=True)
class JudgedTurn:
    """One turn of one question, as judged."""

    question_id: int
    category: str
    turn: int
    prompt: str  # the judge prompt's name
    judgment: Judgment


class Judge:
    def __init__(self, settings: JudgeSettings, cache: JudgmentCache) -> None:
        import openai

        self.settings = settings
        self._cache = cache
        self._openai = openai
        self._client = openai.OpenAI(base_url=settings.base_url, api_key=os.environ.get(settings.api_key_env) or "EMPTY",
                                     timeout=settings.timeout_s, max_retries=settings.max_retries)

    def judge(self, system: str, user: str) -> Judgment:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        try:
            if self.settings.mode is JudgeMode.FAITHFUL:
                return self._faithful(messages)
            return self._expected(messages)
        except RequestFailed as failure:
            return Judgment(FAILED, "", error=str(failure), retryable=True)

    def text(self, system: str, user: str) -> str:
        """The judge's answer to [system, user] at temperature 0 (FastChat's request), from the cache when
        asked before; raises RequestFailed when the endpoint still fails after the client's retries."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return self._ask({"messages": messages, "temperature": 0.0, "max_tokens": JUDGE_MAX_TOKENS})["text"]

    def next_token(self, system: str, user: str, prefix: str) -> dict[str, float]:
        """Top log-probabilities of the token the judge writes after starting its answer with ``prefix``
        (cached like every request); raises RequestFailed as :meth:`text` does."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return self._ask(_prefilled(messages, prefix))["top_logprobs"]

    def _faithful(self, messages: list[dict[str, str]]) -> Judgment:
        response = self._ask({"messages": messages, "temperature": 0.0, "max_tokens": JUDGE_MAX_TOKENS})
        text = response["text"]
        score = parse_rating(text)
        return Judgment(score, text, error=None if score != FAILED else "no [[rating]] in the judge's output")

    def _expected(self, messages: list[dict[str, str]]) -> Judgment:
        first = self._ask(_prefilled(messages, RATING_PREFIX))["top_logprobs"]
        p_one = rating_distribution(first, None).probabilities[1]
        after_one = self._ask(_prefilled(messages, RATING_PREFIX + "1"))["top_logprobs"] if p_one > SPLIT_ONE_ABOVE else None
        dist = rating_distribution(first, after_one)
        shown = ", ".join(f"{r}:{p:.3f}" for r, p in dist.probabilities.items() if p >= 0.001)
        if dist.coverage < MIN_COVERAGE:
            return Judgment(FAILED, shown, error=f"the judge put only {dist.coverage:.3f} on ratings 1-10",
                            coverage=dist.coverage, probabilities=dist.probabilities)
        return Judgment(dist.expected, shown, coverage=dist.coverage, probabilities=dist.probabilities)

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """The response for ``request``: from the cache, else from the endpoint (and then cached)."""
        key = self._cache.key(self.settings.identity(), request)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        response = self._post(request)
        self._cache.put(key, response)
        return response

    def _post(self, request: dict[str, Any]) -> dict[str, Any]:
        openai = self._openai
        extra = {k: request[k] for k in ("continue_final_message", "add_generation_prompt") if k in request}
        wants_logprobs = "continue_final_message" in request
        params: dict[str, Any] = {"model": self.settings.model, "messages": request["messages"],
                                  "temperature": request.get("temperature", 0.0), "max_tokens": request["max_tokens"]}
        if wants_logprobs:
            params |= {"logprobs": True, "top_logprobs": TOP_LOGPROBS, "extra_body": extra}
        try:
            completion = self._client.chat.completions.create(**params)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as err:
            raise UserError(f"judge {public_url(self.settings.base_url)}: refused the API key from "
                            f"${self.settings.api_key_env} ({err.status_code})") from None
        except openai.NotFoundError:
            raise UserError(f"judge {public_url(self.settings.base_url)}: model {self.settings.model!r} not found "
                            "(check --judge-model and --judge-url)") from None
        except openai.BadRequestError as err:
            hint = (" (expected mode needs a server that continues a prefilled assistant message: vLLM, or "
                    "spin-bench's local judge server)" if wants_logprobs else "")
            raise UserError(f"judge {public_url(self.settings.base_url)} rejected the request: "
                            f"{_message(err)}{hint}") from None
        except (openai.APITimeoutError, openai.APIConnectionError, openai.APIStatusError) as err:
            raise RequestFailed(f"{type(err).__name__}: {_message(err)}") from None
        return _response_payload(completion, wants_logprobs)


class RequestFailed(Exception):
    """Still failing after the client's retries: this judgment is failed, the run goes on."""


def _message(err: Exception) -> str:
    return str(getattr(err, "message", None) or err).splitlines()[0][:200]


def _prefilled(messages: list[dict[str, str]], prefix: str) -> dict[str, Any]:
    return {"messages": [*messages, {"role": "assistant", "content": prefix}], "temperature": 0.0, "max_tokens": 1,
            "continue_final_message": True, "add_generation_prompt": False}


def _response_payload(completion: Any, wants_logprobs: bool) -> dict[str, Any]:
    if not completion.choices:
        raise RequestFailed("the judge answered with no choices")
    choice = completion.choices[0]
    if not wants_logprobs:
        return {"text": choice.message.content or ""}
    content = getattr(choice.logprobs, "content", None) if choice.logprobs is not None else None
    if not content:
        raise UserError("the judge returned no logprobs; expected mode needs an endpoint that returns "
                        "top_logprobs (vLLM, or spin-bench's local judge server)")
    top: dict[str, float] = {}
    for entry in content[0].top_logprobs or []:
        top[entry.token] = max(top.get(entry.token, -math.inf), entry.logprob)
    return {"top_logprobs": top}
