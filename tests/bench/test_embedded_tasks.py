"""The embedded world's benchmark items as lm-eval itself builds them: its answers use the formats the tasks'
own filters read, and BBH's shots are the world's chains of thought (not BBH's exemplars about real people)."""

from __future__ import annotations

import re

import pytest

from spin_bench.bench.data_source import open_bench_data
from spin_bench.bench.suites import BBH, LEADERBOARD
from spin_bench.bench.taskdir import lm_eval_name, write_task_dir


def _lm_eval_tasks(specs, data_dir, tmp_path) -> dict:
    from lm_eval.tasks import TaskManager, get_task_dict

    bench = open_bench_data(str(data_dir), specs)
    directory = write_task_dir(specs, bench, tmp_path / "tasks")
    manager = TaskManager(include_path=str(directory), include_defaults=False)
    return get_task_dict([lm_eval_name(spec) for spec in specs], manager)


@pytest.mark.parametrize("spec", BBH, ids=lambda spec: spec.name)
def test_bbh_shots_are_the_worlds_chains_of_thought(spec, embedded_data_dir, tmp_path):
    task = _lm_eval_tasks((spec,), embedded_data_dir, tmp_path)[lm_eval_name(spec)]
    docs = list(task.test_docs())
    assert len(docs) >= 80  # causal and sports share the yes/no skill's 200 items (README: items per task)
    context = task.fewshot_context(docs[0], num_fewshot=spec.shots)
    # Three shots, each "Q: ...\nA: Let's think step by step.\n<reasoning> So the answer is X.", then the item.
    assert context.count("A: Let's think step by step.") == spec.shots + 1
    assert "Bam Adebayo" not in context and "Santi Cazorla" not in context  # none of BBH's own exemplars
    shots = _shots(context)
    assert len(shots) == spec.shots
    targets = {doc["target"] for doc in docs}
    assert len(targets) == 2  # BBH's two answers of the task, both present among the items
    pattern = task.config.filter_list[0]["filter"][0]["regex_pattern"]
    for shot in shots:
        assert re.search(pattern, shot.rsplit("\n", 1)[-1]).group(1) in targets
    # Every item gets the same shots, as BBH's fixed exemplars give.
    assert _shots(task.fewshot_context(docs[1], num_fewshot=spec.shots)) == shots


def _shots(context: str) -> list[str]:
    """The solved examples of a BBH prompt (its description and the open item left out)."""
    return [chunk for chunk in context.split("\n\n")
            if chunk.startswith("Q: ") and not chunk.endswith("A: Let's think step by step.\n")]


def test_world_answers_pass_the_gsm8k_filters(embedded_data_dir, tmp_path):
    """The world's worked answers end in "#### N", which both GSM8K filters read back as the answer."""
    specs = tuple(spec for spec in LEADERBOARD if spec.name.startswith("gsm8k"))
    tasks = _lm_eval_tasks(specs, embedded_data_dir, tmp_path)
    for spec in specs:
        task = tasks[lm_eval_name(spec)]
        docs = list(task.test_docs())
        assert len(docs) >= 100
        pattern = next(f for f in task.config.filter_list if f["name"] == spec.filter)["filter"][0]["regex_pattern"]
        for doc in docs:
            found = re.findall(pattern, " " + doc["answer"])
            value = found[0] if isinstance(found[0], str) else next(group for group in found[0] if group)
            assert value.strip() == doc["answer"].rsplit("#### ", 1)[1], (spec.name, doc["answer"])
