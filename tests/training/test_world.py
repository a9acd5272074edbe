"""The embedded world generator: determinism, split bookkeeping, answer correctness and record schemas."""

from __future__ import annotations

import dataclasses
import json
import random
import re
import time
from collections import Counter

import pytest

from spin_bench.data.world.examples import (
    SKILLS,
    SPLITS,
    Example,
    WorldConfig,
    build_world,
    example_uid,
    preference_records,
    sft_records,
)
from spin_bench.data.world.knowledge import build_knowledge
from spin_bench.data.world.renderings import EXAMPLES_PER_PAGE, exam_pages, pretrain_texts
from spin_bench.data.world.fill_blank_skill import BLANK_RELATIONS

SIZE_FIELDS = ("pretrain", "sft", "spin", "heldout", "preferences", "eval")


@pytest.fixture(scope="module")
def world() -> dict[str, list[Example]]:
    return build_world(WorldConfig())


def _all(world: dict[str, list[Example]]) -> list[Example]:
    return [ex for split in SPLITS for ex in world[split]]


def _of(world: dict[str, list[Example]], skill: str) -> list[Example]:
    return [ex for ex in _all(world) if ex.skill == skill]


def _dump(world: dict[str, list[Example]]) -> str:
    return json.dumps({s: [dataclasses.asdict(ex) for ex in world[s]] for s in SPLITS}, sort_keys=True)


def test_skills_and_splits_constants() -> None:
    assert SKILLS == ("arithmetic", "multiple_choice", "completion", "fill_blank",
                      "true_false", "yes_no", "validity", "chat")
    assert SPLITS == ("pretrain", "sft", "spin", "heldout", "preferences", "eval")


def test_deterministic_and_seed_dependent(world: dict[str, list[Example]]) -> None:
    again = build_world(WorldConfig())
    assert again == world
    assert _dump(again) == _dump(world)
    other = build_world(WorldConfig(seed=1))
    assert [ex.prompt for ex in other["eval"]] != [ex.prompt for ex in world["eval"]]


def test_default_build_is_fast() -> None:
    start = time.perf_counter()
    build_world(WorldConfig(seed=7))
    assert time.perf_counter() - start < 2.0


def test_exact_split_sizes(world: dict[str, list[Example]]) -> None:
    config = WorldConfig()
    assert list(world) == list(SPLITS)
    for split in SPLITS:
        assert len(world[split]) == getattr(config, split)
    small = WorldConfig(seed=3, pretrain=5, sft=9, spin=0, heldout=1, preferences=17, eval=8)
    built = build_world(small)
    assert {s: len(built[s]) for s in SPLITS} == {s: getattr(small, s) for s in SPLITS}


def test_splits_pairwise_disjoint(world: dict[str, list[Example]]) -> None:
    examples = _all(world)
    assert len({ex.prompt for ex in examples}) == len(examples)
    assert len({ex.uid for ex in examples}) == len(examples)


def test_uid_is_sha256_of_skill_and_prompt(world: dict[str, list[Example]]) -> None:
    for ex in world["eval"]:
        assert ex.uid == example_uid(ex.skill, ex.prompt)
        assert re.fullmatch(r"[0-9a-f]{16}", ex.uid)


@pytest.mark.parametrize("split", ["pretrain", "sft", "spin", "heldout", "preferences", "eval"])
def test_every_skill_in_balanced_shares(world: dict[str, list[Example]], split: str) -> None:
    counts = Counter(ex.skill for ex in world[split])
    assert set(counts) == set(SKILLS)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_eval_does_not_depend_on_training_sizes(world: dict[str, list[Example]]) -> None:
    # Changing how much training data is made must not change what the model is evaluated on.
    built = build_world(WorldConfig(pretrain=10, sft=20, spin=3, preferences=0))
    assert built["eval"] == world["eval"]
    assert built["heldout"] == world["heldout"]


def test_arithmetic_solutions_are_correct(world: dict[str, list[Example]]) -> None:
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
    examples = _of(world, "arithmetic")
    assert examples
    for ex in examples:
        f = ex.fields
        assert set(f) == {"question", "answer_value", "solution"}
        assert f["question"] == ex.prompt and f["solution"] == ex.response
        equations = re.findall(r"(\d+) ([-+*]) (\d+) = (\d+)", f["solution"])
        assert 1 <= len(equations) <= 2
        for a, op, b, result in equations:
            assert ops[op](int(a), int(b)) == int(result), ex.response
        assert int(equations[-1][3]) == f["answer_value"]
        assert f["solution"].splitlines()[-1] == f"#### {f['answer_value']}"
        assert 0 < f["answer_value"] < 40  # small operands: arithmetic a tiny model can learn
        # The first operand comes from the question, so the solution works on the stated numbers.
        assert re.search(rf"\b{equations[0][0]}\b", f["question"])
        assert ex.rejected.splitlines()[-1] != f"#### {f['answer_value']}"
        assert re.fullmatch(r"#### \d+", ex.rejected.splitlines()[-1])


def test_multiple_choice_items(world: dict[str, list[Example]]) -> None:
    for ex in _of(world, "multiple_choice"):
        f = ex.fields
        assert len(f["choices"]) == 4 and len(set(f["choices"])) == 4
        assert 0 <= f["answer"] < 4
        assert ex.response == f"The answer is {'ABCD'[f['answer']]}: {f['choices'][f['answer']]}."
        assert re.fullmatch(r"The answer is [ABCD]: .+\.", ex.rejected)
        assert f["question"] in ex.prompt and f["topic"]


def test_completion_items(world: dict[str, list[Example]]) -> None:
    for ex in _of(world, "completion"):
        f = ex.fields
        assert len(f["endings"]) == 4 and len(set(f["endings"])) == 4
        assert 0 <= f["answer"] < 4
        assert f["context"] in ex.prompt and f["activity"]
        assert ex.response.endswith(f["endings"][f["answer"]])


def test_fill_blank_items(world: dict[str, list[Example]]) -> None:
    for ex in _of(world, "fill_blank"):
        f = ex.fields
        assert f["answer"] in {"1", "2"}
        assert "_" in f["sentence"] and f["option1"] != f["option2"]
        assert ex.response == f"The answer is {f['option' + f['answer']]}."



def test_fact_twins_are_resolved_by_the_worlds_facts_alone(world: dict[str, list[Example]]) -> None:
    """A fact twin states one thing's fact with the blank in its place: filled with the answer the sentence
    is true in the world, filled with the other option false. The rest are Winogrande's trigger-word twins."""
    kb = build_knowledge(random.Random("spin-bench-world:0:knowledge"))
    facts = {(s.removeprefix("the "), rel.topic): rel for rel in map(kb.relation, BLANK_RELATIONS) for s in rel.facts}
    fact_twins = 0
    items = _of(world, "fill_blank")
    for ex in items:
        f = ex.fields
        right, wrong = f["option" + f["answer"]], f["option" + ("2" if f["answer"] == "1" else "1")]
        for topic in BLANK_RELATIONS:
            if (right, topic) not in facts or (wrong, topic) not in facts:
                continue
            rel = facts[(right, topic)]
            article = "the " if f"the {right}" in rel.facts else ""
            truths = [rel.positive.format(s=article + option, v=rel.facts[article + option])
                      for option in (right, wrong)]
            if truths[0] in f["sentence"].replace("_", right):
                fact_twins += 1
                assert truths[1] not in f["sentence"].replace("_", wrong), ex.fields
    assert 0.4 < fact_twins / len(items) < 0.6, (fact_twins, len(items))


def test_true_false_items(world: dict[str, list[Example]]) -> None:
    answers = Counter()
    for ex in _of(world, "true_false"):
        f = ex.fields
        assert isinstance(f["answer"], bool)
        answers[f["answer"]] += 1
        assert ex.response.startswith("True." if f["answer"] else "False.")
        assert ex.rejected.startswith("False." if f["answer"] else "True.")
        assert f["correct"] and f["incorrect"] and not set(f["correct"]) & set(f["incorrect"])
        assert f["statement"] in ex.prompt
    assert min(answers.values()) > 0.4 * sum(answers.values())


def test_yes_no_and_validity_items(world: dict[str, list[Example]]) -> None:
    kinds = Counter()
    for ex in _of(world, "yes_no"):
        f = ex.fields
        assert f["target"] in {"Yes", "No"} and f["input"] == ex.prompt
        # BBH's chain of thought: reasoning, then the sentence its filter reads (sports verdicts in lower case).
        verdict = f["target"].lower() if f["kind"] == "sports" else f["target"]
        assert ex.response.endswith(f" So the answer is {verdict}.") and "Q" not in ex.response
        assert re.search(r"(?<=the answer is )(.*)(?=.)", ex.response).group(1) == verdict
        assert not ex.rejected.endswith(f" So the answer is {verdict}.")
        kinds[f["kind"]] += 1
    assert set(kinds) == {"causal", "sports"}
    for ex in _of(world, "validity"):
        f = ex.fields
        assert f["target"] in {"valid", "invalid"} and f["input"] == ex.prompt
        assert "deductively valid or invalid" in ex.prompt
        assert ex.response.endswith(f" So the answer is {f['target']}.") and "Q" not in ex.response
        assert not ex.rejected.endswith(f" So the answer is {f['target']}.")


def test_only_chat_has_followups(world: dict[str, list[Example]]) -> None:
    for ex in _all(world):
        if ex.skill == "chat":
            assert ex.followup and ex.followup_response and ex.fields["category"]
        else:
            assert ex.followup is None and ex.followup_response is None


def test_rejected_differs_from_response(world: dict[str, list[Example]]) -> None:
    for ex in _all(world):
        assert ex.rejected and ex.rejected != ex.response


def test_responses_are_short(world: dict[str, list[Example]]) -> None:
    lengths = [len(ex.response.split()) for ex in _all(world)]
    assert max(lengths) <= 40


def test_vocabulary_stays_small(world: dict[str, list[Example]]) -> None:
    words: set[str] = set()
    for text in pretrain_texts(_all(world)):
        words.update(re.findall(r"[a-z]+", text.lower()))
    assert 200 < len(words) < 700


def test_fields_json_round_trip(world: dict[str, list[Example]]) -> None:
    for ex in _all(world):
        assert json.loads(json.dumps(ex.fields)) == ex.fields


def test_sft_records_schema(world: dict[str, list[Example]]) -> None:
    examples = world["sft"][:16]
    records = sft_records(examples)
    assert len(records) == len(examples)
    for ex, rec in zip(examples, records):
        assert set(rec) == {"prompt", "prompt_id", "messages"}
        assert rec["prompt"] == ex.prompt and rec["prompt_id"] == ex.uid
        roles = [m["role"] for m in rec["messages"]]
        assert roles == (["user", "assistant"] * (2 if ex.skill == "chat" else 1))
        assert rec["messages"][0]["content"] == ex.prompt
        assert rec["messages"][1]["content"] == ex.response
        if ex.skill == "chat":
            assert rec["messages"][2]["content"] == ex.followup
            assert rec["messages"][3]["content"] == ex.followup_response
    json.dumps(records)


def test_preference_records_schema(world: dict[str, list[Example]]) -> None:
    examples = world["preferences"]
    records = preference_records(examples)
    for ex, rec in zip(examples, records, strict=True):
        assert set(rec) == {"prompt", "prompt_id", "chosen", "rejected", "score_chosen", "score_rejected"}
        assert rec["prompt_id"] == ex.uid
        for side, text in (("chosen", ex.response), ("rejected", ex.rejected)):
            assert [m["role"] for m in rec[side]] == ["user", "assistant"]
            assert rec[side][0]["content"] == ex.prompt and rec[side][1]["content"] == text
        assert isinstance(rec["score_chosen"], float) and isinstance(rec["score_rejected"], float)
        assert rec["score_chosen"] > rec["score_rejected"]
    json.dumps(records)


def test_pretrain_texts(world: dict[str, list[Example]]) -> None:
    chat = _of(world, "chat")[0]
    other = _of(world, "validity")[0]
    texts = pretrain_texts([other, chat])
    assert texts[0] == other.prompt + "\n" + other.response
    assert texts[1] == "\n".join([chat.prompt, chat.response, chat.followup, chat.followup_response])
    # Then the exam page of the validity item, laid out as lm-eval's BBH chain-of-thought shot; chat has none.
    assert texts[2:] == [f"Q: {other.prompt}\nA: Let's think step by step.\n{other.response}"]


def test_exam_pages_lay_items_out_as_lm_eval_shots(world: dict[str, list[Example]]) -> None:
    pretrain = world["pretrain"]
    pages = exam_pages(pretrain)
    rendered = [item for page in pages for item in page.split("\n\n")]
    # Every item but chat is on some page exactly once; a page holds one layout's items.
    assert len(rendered) == sum(ex.skill != "chat" for ex in pretrain)
    assert all(len(page.split("\n\n")) <= EXAMPLES_PER_PAGE for page in pages)
    mc = next(ex for ex in pretrain if ex.skill == "multiple_choice")
    f = mc.fields
    assert f"Question: {f['question']}\nAnswer: {f['choices'][f['answer']]}" in rendered
    arithmetic = next(ex for ex in pretrain if ex.skill == "arithmetic")
    assert f"Question: {arithmetic.prompt}\nAnswer: {arithmetic.response}" in rendered
    blank = next(ex for ex in pretrain if ex.skill == "fill_blank")
    filled = blank.fields["sentence"].replace("_", blank.fields["option" + blank.fields["answer"]])
    assert filled in rendered
    assert any(re.fullmatch(r"[^\n]+\nA\. .+\nB\. .+\nC\. .+\nD\. .+\nAnswer: [ABCD]", item) for item in rendered)
    # Never an evaluation item (the splits are disjoint by prompt): no GSM8K question or BBH input of eval.
    scored = [ex.prompt for ex in world["eval"] if ex.skill in ("arithmetic", "yes_no", "validity")]
    text = "\n\n".join(pages)
    assert scored and not any(f"Question: {p}\n" in text or f"Q: {p}\n" in text for p in scored)


@pytest.mark.parametrize("name", SIZE_FIELDS)
def test_negative_size_rejected(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        WorldConfig(**{name: -1})


def test_non_integer_size_rejected() -> None:
    with pytest.raises(ValueError, match="sft"):
        WorldConfig(sft=True)
    with pytest.raises(ValueError, match="eval"):
        WorldConfig(eval=1.5)  # type: ignore[arg-type]


def test_empty_world() -> None:
    built = build_world(WorldConfig(pretrain=0, sft=0, spin=0, heldout=0, preferences=0, eval=0))
    assert built == {split: [] for split in SPLITS}


def test_running_out_of_prompts_is_a_clear_error() -> None:
    # The true/false skill has a few thousand distinct statements; a balanced split this large cannot exist.
    with pytest.raises(ValueError, match="ran out of unique"):
        build_world(WorldConfig(pretrain=0, sft=0, spin=0, heldout=0, preferences=0, eval=40_000))


def test_pretrain_skips_skills_that_run_dry() -> None:
    # Pre-training text needs no balance, so a large request still builds from the skills with room left.
    built = build_world(WorldConfig(pretrain=16_000))
    counts = Counter(ex.skill for ex in built["pretrain"])
    assert len(built["pretrain"]) == 16_000
    assert counts["true_false"] < counts["arithmetic"]


def test_examples_are_hashable(world: dict[str, list[Example]]) -> None:
    assert len(set(world["eval"])) == len(world["eval"])


def test_completion_scenes_name_their_thing_in_context_and_ending() -> None:
    from spin_bench.data.world.skills import SCENES

    for _, context, ending, things in SCENES:
        # A scene with things names one in both sentences, so the distractor about another thing is wrong.
        assert ("{o}" in context) == ("{o}" in ending) == bool(things), context
        assert len(things) != 1, context
