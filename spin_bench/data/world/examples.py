"""The embedded world: a deterministic, seeded generator of instruction data for the tiny default model.

Why it exists: the embedded default trains a Llama of a few million parameters on CPU in a minute or two,
so the whole SPIN pipeline (pre-train, SFT, SPIN iterations, DPO baseline, benchmarks) runs offline.
That needs data a tiny model can partly learn quickly (a few hundred words, regular templates) yet not
master at once, so later stages have headroom to show an improvement.

Design:
- A fictional knowledge base is drawn from the seed (object colours and materials, animal diets and
  homes, city countries, what substances do when heated, athletes' sports); several skills quiz the same
  facts in different formats, so learning one format helps another.
- `skills.py` holds the vocabulary and one generator per skill. Each skill mimics a benchmark format
  (GSM8K, ARC/MMLU, HellaSwag, Winogrande, TruthfulQA, BBH) and keeps structured `fields` so the
  benchmark module can render the same item in the real schema.
- Every skill draws from its own `random.Random`, seeded from a string (hashed with SHA-512 by the
  standard library, not with the salted `hash()`), so adding a draw to one skill never shifts another.
- Prompts are de-duplicated globally, so splits are disjoint by prompt text and by uid.
- Splits are filled in a fixed order, smallest and most precious first (`FILL_ORDER`): the eval items
  depend only on the seed and the eval size, not on how much training data was asked for. Within a
  split, skills take turns, so every split but pre-training holds all skills in equal shares.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Any, Mapping, Sequence

from spin_bench.data.world.knowledge import Knowledge, build_knowledge
from spin_bench.data.world.skills import GENERATORS
from spin_bench.data.world.vocabulary import Draft

SKILLS: tuple[str, ...] = (
    "arithmetic", "multiple_choice", "completion", "fill_blank",
    "true_false", "yes_no", "validity", "chat",
)
SPLITS: tuple[str, ...] = ("pretrain", "sft", "spin", "heldout", "preferences", "eval")
FILL_ORDER: tuple[str, ...] = ("eval", "heldout", "spin", "preferences", "sft", "pretrain")

# A skill counts as exhausted after this many draws in a row that only repeat known prompts. Far above
# what the default sizes meet (every skill has thousands of distinct prompts), far below a visible hang.
MAX_MISSES = 2000

# Preference scores in the 1-10 range of ultrafeedback_binarized: a wrong answer scores lower than a
# terse but correct-in-spirit chat reply.
SCORE_CHOSEN = 9.0
SCORE_REJECTED = {"chat": 4.0}
SCORE_REJECTED_DEFAULT = 2.0


# ------------------------------------------------------------------- examples

@dataclass(frozen=True)
class Example:
    """One instruction item; `fields` keeps what a benchmark renderer needs (JSON-serialisable)."""

    uid: str
    skill: str
    prompt: str
    response: str
    rejected: str
    followup: str | None = None
    followup_response: str | None = None
    # Left out of the hash (dicts are unhashable) but kept in ==, so examples still work as set members.
    fields: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class WorldConfig:
    """How many examples each split gets; sizes must be non-negative integers."""

    seed: int = 0
    pretrain: int = 6000
    sft: int = 3000
    spin: int = 512
    heldout: int = 128
    preferences: int = 512
    eval: int = 1600  # 200 items per skill: enough for the paired tests to see a few points (README)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        for f in dataclass_fields(self):
            value = getattr(self, f.name)
            # bool is an int subclass; accepting True as a size would hide a config mistake.
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"WorldConfig.{f.name} must be an int, got {value!r}")
            if f.name != "seed" and value < 0:
                raise ValueError(f"WorldConfig.{f.name} must be >= 0, got {value}")

    def size(self, split: str) -> int:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        return int(getattr(self, split))


def example_uid(skill: str, prompt: str) -> str:
    return hashlib.sha256(f"{skill}\x1f{prompt}".encode("utf-8")).hexdigest()[:16]


class _SkillStream:
    """Unique examples of one skill, drawn from its own seeded generator."""

    def __init__(self, skill: str, seed: int, knowledge: Knowledge, seen: set[str]) -> None:
        self.skill = skill
        self._rng = random.Random(f"spin-bench-world:{seed}:{skill}")
        self._knowledge = knowledge
        self._seen = seen  # shared across skills: prompts must be unique world-wide
        self.exhausted = False

    def next(self) -> Example | None:
        """The next unseen example, or None (and `exhausted` set) when the skill has run dry."""
        generate = GENERATORS[self.skill]
        for _ in range(MAX_MISSES):
            draft = generate(self._rng, self._knowledge)
            if draft.prompt in self._seen:
                continue
            self._seen.add(draft.prompt)
            return _to_example(self.skill, draft)
        self.exhausted = True
        return None


def _to_example(skill: str, draft: Draft) -> Example:
    # A rejected answer equal to the chosen one would make a preference pair with zero signal.
    if draft.rejected == draft.response:
        raise AssertionError(f"{skill} generator produced rejected == response: {draft.response!r}")
    return Example(
        uid=example_uid(skill, draft.prompt), skill=skill, prompt=draft.prompt, response=draft.response,
        rejected=draft.rejected, followup=draft.followup, followup_response=draft.followup_response,
        fields=draft.fields,
    )


def _fill_balanced(split: str, size: int, streams: list[_SkillStream]) -> list[Example]:
    out: list[Example] = []
    for i in range(size):
        stream = streams[i % len(streams)]
        example = stream.next()
        if example is None:
            raise ValueError(
                f"embedded world ran out of unique {stream.skill!r} prompts while filling split "
                f"{split!r} ({len(out)} of {size} made); ask for fewer examples"
            )
        out.append(example)
    return out


def _fill_any(split: str, size: int, streams: list[_SkillStream]) -> list[Example]:
    # Pre-training text needs no balance, so skills that run dry are skipped instead of failing the build.
    out: list[Example] = []
    turn = 0
    while len(out) < size:
        live = [s for s in streams if not s.exhausted]
        if not live:
            raise ValueError(
                f"embedded world ran out of unique prompts while filling split {split!r} "
                f"({len(out)} of {size} made); ask for fewer examples"
            )
        example = live[turn % len(live)].next()
        turn += 1
        if example is not None:
            out.append(example)
    return out


def build_world(config: WorldConfig) -> dict[str, list[Example]]:
    """All splits of the world for `config`: exact sizes, pairwise disjoint, byte-identical per config."""
    config.validate()
    knowledge = build_knowledge(random.Random(f"spin-bench-world:{config.seed}:knowledge"))
    seen: set[str] = set()
    streams = [_SkillStream(skill, config.seed, knowledge, seen) for skill in SKILLS]
    built: dict[str, list[Example]] = {}
    for split in FILL_ORDER:
        fill = _fill_any if split == "pretrain" else _fill_balanced
        built[split] = fill(split, config.size(split), streams)
    return {split: built[split] for split in SPLITS}


def turns(example: Example) -> list[dict[str, str]]:
    messages = [{"role": "user", "content": example.prompt},
                {"role": "assistant", "content": example.response}]
    if example.followup is not None and example.followup_response is not None:
        messages += [{"role": "user", "content": example.followup},
                     {"role": "assistant", "content": example.followup_response}]
    return messages


def sft_records(examples: Sequence[Example]) -> list[dict]:
    """Rows in the HuggingFaceH4/ultrachat_200k schema."""
    return [{"prompt": ex.prompt, "prompt_id": ex.uid, "messages": turns(ex)} for ex in examples]


def preference_records(examples: Sequence[Example]) -> list[dict]:
    """Rows in the HuggingFaceH4/ultrafeedback_binarized schema (first turn only)."""
    rows = []
    for ex in examples:
        user = {"role": "user", "content": ex.prompt}
        rows.append({
            "prompt": ex.prompt,
            "prompt_id": ex.uid,
            "chosen": [user, {"role": "assistant", "content": ex.response}],
            "rejected": [dict(user), {"role": "assistant", "content": ex.rejected}],
            "score_chosen": SCORE_CHOSEN,
            "score_rejected": SCORE_REJECTED.get(ex.skill, SCORE_REJECTED_DEFAULT),
        })
    return rows
