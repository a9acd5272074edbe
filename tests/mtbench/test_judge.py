"""The judge client against real loopback HTTP servers: ratings, retries, timeouts, errors, the cache."""

import math

import pytest

from spin_bench.core.errors import UserError
from spin_bench.mtbench.cache import JudgmentCache
from spin_bench.mtbench.config import MTBenchConfig
from spin_bench.mtbench.judge import Judge, JudgeSettings, public_url
from spin_bench.mtbench.protocol import FAILED, JudgeMode
from tests.mtbench.judge_servers import ScriptedJudge, completion, error, prefill


@pytest.fixture
def cache(tmp_path):
    cache = JudgmentCache(tmp_path / "judgments.sqlite")
    yield cache
    cache.close()


def _judge(server, cache, mode=JudgeMode.FAITHFUL, **kwargs):
    defaults = MTBenchConfig()  # the client settings a recipe or `spin-bench eval` would give
    client = {"concurrency": defaults.concurrency, "timeout_s": defaults.timeout_s, "max_retries": defaults.retries,
              **kwargs}
    settings = JudgeSettings(base_url=server.url, model="judge", mode=mode, api_key_env="SPIN_TEST_JUDGE_KEY", **client)
    return Judge(settings, cache)


def test_faithful_rating_request_follows_fastchat(cache, monkeypatch):
    monkeypatch.setenv("SPIN_TEST_JUDGE_KEY", "sk-test-123")
    with ScriptedJudge(lambda body: completion("Good answer. Rating: [[7]]")) as server:
        judgment = _judge(server, cache).judge("system text", "user text")
    assert judgment.score == 7.0 and judgment.error is None
    body = server.requests[0]
    assert body["model"] == "judge" and body["temperature"] == 0.0 and body["max_tokens"] == 2048
    assert body["messages"] == [{"role": "system", "content": "system text"}, {"role": "user", "content": "user text"}]
    assert server.authorizations == ["Bearer sk-test-123"]


def test_no_rating_is_failed_and_cached(cache):
    with ScriptedJudge(lambda body: completion("I cannot rate this.")) as server:
        judge = _judge(server, cache)
        first, second = judge.judge("s", "u"), judge.judge("s", "u")
    assert first.score == second.score == FAILED and "no [[rating]]" in first.error and not first.retryable
    assert len(server.requests) == 1  # same judge, same prompt: asked once


def test_server_errors_are_retried_then_succeed(cache):
    replies = iter([error(500), error(503), completion("[[9]]")])
    with ScriptedJudge(lambda body: next(replies)) as server:
        judgment = _judge(server, cache, max_retries=2).judge("s", "u")
    assert judgment.score == 9.0 and len(server.requests) == 3


def test_persistent_500_is_retryable_failure_not_cached(cache):
    with ScriptedJudge(lambda body: error(500)) as server:
        judge = _judge(server, cache, max_retries=1)
        first = judge.judge("s", "u")
        assert first.score == FAILED and first.retryable and "InternalServerError" in first.error
        assert len(server.requests) == 2  # one try and one retry
        judge.judge("s", "u")
        assert len(server.requests) == 4  # failures are not cached: asked again


def test_timeout_is_retryable_failure(cache):
    with ScriptedJudge(lambda body: completion("[[5]]"), delay_s=2.0) as server:
        judgment = _judge(server, cache, timeout_s=0.3, max_retries=1).judge("s", "u")
    assert judgment.score == FAILED and judgment.retryable and "Timeout" in judgment.error
    assert len(server.requests) == 2


@pytest.mark.parametrize(("status", "message"), [(401, "refused the API key"), (404, "not found")])
def test_caller_errors_stop_the_run(cache, status, message):
    with ScriptedJudge(lambda body: error(status)) as server, pytest.raises(UserError, match=message):
        _judge(server, cache).judge("s", "u")


def test_expected_mode_reads_probabilities_after_the_prefix(cache):
    def reply(body):
        assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
        assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["max_tokens"] == 1
        if prefill(body) == "Rating: [[":
            return completion("1", {"1": 0.5, "6": 0.3, "The": 0.2})
        assert prefill(body) == "Rating: [[1"
        return completion("0", {"0": 0.6, "]": 0.4})

    with ScriptedJudge(reply) as server:
        judgment = _judge(server, cache, mode=JudgeMode.EXPECTED).judge("s", "u")
    assert len(server.requests) == 2
    assert judgment.coverage == pytest.approx(0.8)
    assert judgment.score == pytest.approx((10 * 0.3 + 1 * 0.2 + 6 * 0.3) / 0.8)


def test_expected_mode_skips_the_second_request_when_one_is_negligible(cache):
    with ScriptedJudge(lambda body: completion("7", {"7": 0.9, "8": 0.0999, "1": 0.0001})) as server:
        judgment = _judge(server, cache, mode=JudgeMode.EXPECTED).judge("s", "u")
    assert len(server.requests) == 1 and judgment.score == pytest.approx((6.3 + 0.7992 + 0.0001) / 1.0, rel=1e-3)


def test_expected_mode_fails_a_judge_that_is_not_rating(cache):
    with ScriptedJudge(lambda body: completion("The", {"The": 0.95, "5": 0.05})) as server:
        judgment = _judge(server, cache, mode=JudgeMode.EXPECTED).judge("s", "u")
    assert judgment.score == FAILED and "only 0.050" in judgment.error and not judgment.retryable
    assert math.isclose(judgment.coverage, 0.05)


def test_expected_mode_needs_logprobs(cache):
    with ScriptedJudge(lambda body: completion("7")) as server, pytest.raises(UserError, match="no logprobs"):
        _judge(server, cache, mode=JudgeMode.EXPECTED).judge("s", "u")


def test_public_url_hides_credentials():
    assert public_url("https://user:secret@host.example:8443/v1") == "https://host.example:8443/v1"
