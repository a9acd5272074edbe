"""The recipe's bench.mt_bench section: typed, validated when loaded, in both built-in recipes."""

import pytest

from spin_bench.core.errors import ConfigError
from spin_bench.mtbench.protocol import JudgeMode
from spin_bench.recipe import load_recipe


def test_builtin_recipes_judge_as_documented():
    embedded = load_recipe("embedded").bench.mt_bench
    assert embedded.enabled and embedded.judge_local == "smollm2-135m-instruct"
    assert embedded.judge_mode is JudgeMode.EXPECTED and embedded.data == "embedded"
    paper = load_recipe("paper-zephyr-7b").bench.mt_bench
    assert (paper.judge_model, paper.judge_mode, paper.max_new_tokens, paper.questions_per_category) == (
        "gpt-4", JudgeMode.FAITHFUL, 1024, None)


@pytest.mark.parametrize(("override", "message"), [
    ("bench.mt_bench.judge_local=null", "needs a judge: judge_url and judge_model, or judge_local"),
    ("bench.mt_bench.judge_url=http://x/v1", "give judge_local or judge_url, not both"),
    ("bench.mt_bench.judge_mode=median", "'median' is not one of"),
    ("bench.mt_bench.questions_per_category=0", "questions_per_category must be >= 1"),
    ("bench.mt_bench.judge_key=abc", "unknown key"),
])
def test_bad_mt_bench_settings_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_recipe("embedded", [override])
