"""The pure parts of MT-Bench: FastChat's parse chain and routing, the expected rating, the aggregation."""

import math

import pytest

from spin_bench.mtbench.protocol import (
    FAILED,
    TurnScore,
    aggregate,
    judge_prompt_name,
    parse_rating,
    rating_distribution,
    render_judge_user,
    temperature_for,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("The answer is fine. Rating: [[7]]", 7.0),
    ("Rating: [[8.5]]", 8.5),
    ("[[3]] and later [[9]]", 3.0),  # the first match, as re.search
    ("Rating: [6]", 6.0),  # FastChat's single-bracket fallback
    ("see reference [1]. Rating: [[4]]", 4.0),  # the double bracket wins over an earlier single one
    ("see reference [1], good answer", 1.0),  # ... and the fallback's known false positive is kept
    ("Rating: [[11]]", 11.0),  # FastChat does not clamp
    ("Rating: 7/10", FAILED),
    ("", FAILED),
])
def test_parse_rating_follows_fastchat(text, expected):
    assert parse_rating(text) == expected


def test_prompt_routing_and_temperatures():
    assert judge_prompt_name("writing", 1) == "single-v1"
    assert judge_prompt_name("writing", 2) == "single-v1-multi-turn"
    assert judge_prompt_name("math", 1) == "single-math-v1"
    assert judge_prompt_name("coding", 2) == "single-math-v1-multi-turn"
    assert judge_prompt_name("note", 1, reference_categories={"note"}) == "single-math-v1"
    assert [temperature_for(c) for c in ("writing", "math", "stem", "unknown")] == [0.7, 0.0, 0.1, 0.7]


def test_render_fills_both_turns_and_references():
    question = {"turns": ["Q1", "Q2"], "reference": ["R1", "R2"]}
    one = render_judge_user("{question}|{answer}|{ref_answer_1}", question, ("A1", "A2"), 1)
    two = render_judge_user("{question_1}|{answer_1}|{question_2}|{answer_2}|{ref_answer_1}|{ref_answer_2}",
                            question, ("A1", "A2"), 2)
    assert one == "Q1|A1|R1"
    assert two == "Q1|A1|Q2|A2|R1|R2"
    with pytest.raises(KeyError):  # a reference-guided template without a reference cannot be filled
        render_judge_user("{ref_answer_1}", {"turns": ["Q1", "Q2"]}, ("A1", "A2"), 1)


def _lp(probs):
    return {token: math.log(p) for token, p in probs.items()}


def test_expected_rating_single_token_ten():
    dist = rating_distribution(_lp({"10": 0.5, "5": 0.25, "Your": 0.25}), None)
    assert dist.coverage == pytest.approx(0.75)
    assert dist.expected == pytest.approx((10 * 0.5 + 5 * 0.25) / 0.75)


def test_expected_rating_splits_one_into_one_and_ten():
    first = _lp({"1": 0.4, "8": 0.4, "x": 0.2})
    after_one = _lp({"0": 0.75, "]": 0.2, "1": 0.05})  # "11" is neither 1 nor 10: renormalised away
    dist = rating_distribution(first, after_one)
    assert dist.probabilities[10] == pytest.approx(0.4 * 0.75 / 0.95)
    assert dist.probabilities[1] == pytest.approx(0.4 * 0.2 / 0.95)
    assert dist.expected == pytest.approx((10 * 0.4 * 0.75 / 0.95 + 0.4 * 0.2 / 0.95 + 8 * 0.4) / 0.8)
    # Leading spaces (sentencepiece-style tokens) are the same rating; "07" or "1.5" are not ratings.
    assert rating_distribution(_lp({" 7": 0.5, "07": 0.2, "1.5": 0.1}), None).probabilities[7] == pytest.approx(0.5)


def test_aggregate_drops_failures_like_show_result():
    scores = [TurnScore(1, "writing", 1, 8.0), TurnScore(1, "writing", 2, FAILED),
              TurnScore(2, "math", 1, 4.0), TurnScore(2, "math", 2, 6.0)]
    result = aggregate(scores)
    assert (result.overall, result.turn1, result.turn2) == (6.0, 6.0, 6.0)
    assert result.categories == {"math": 5.0, "writing": 8.0}
    assert (result.judged, result.failed) == (3, 1)
    assert result.stderr == pytest.approx(math.sqrt(4.0 / 3))  # sample sd 2 over sqrt(3)
    empty = aggregate([TurnScore(1, "writing", 1, FAILED)])
    assert math.isnan(empty.overall) and empty.failed == 1 and empty.stderr is None
