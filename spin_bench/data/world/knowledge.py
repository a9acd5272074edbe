"""The world's fictional facts, drawn from its seed: every quiz, true/false item and chat reads the same facts."""

from __future__ import annotations

import random
from dataclasses import dataclass

from spin_bench.data.world.vocabulary import (
    ANIMALS,
    CITIES,
    COLOURS,
    COUNTRIES,
    FOODS,
    MATERIALS,
    OBJECTS,
    PEOPLE,
    PLACES,
    SPORTS,
    SUBSTANCES,
    SURNAMES,
    cap,
)


@dataclass(frozen=True)
class Relation:
    """One kind of fact: every subject has exactly one value, drawn from the seed."""

    topic: str
    facts: dict[str, str]  # subject phrase -> value
    values: tuple[str, ...]
    question: str  # "{s}" is the subject
    choice: str  # how a value reads as an answer option
    positive: str  # "{s}", "{v}"
    negative: str

    def say(self, subject: str, value: str, negated: bool = False) -> str:
        return cap((self.negative if negated else self.positive).format(s=subject, v=value))

    def correction(self, subject: str, wrong: str) -> str:
        # "The lamp is blue, not red." serves as the reason for both a false claim and a true negation.
        return self.say(subject, self.facts[subject])[:-1] + ", not " + self.choice.format(v=wrong) + "."


@dataclass(frozen=True)
class Knowledge:
    """The fictional facts of one seed; quizzes, true/false and chat all read the same facts."""

    relations: tuple[Relation, ...]
    athletes: dict[str, str]  # athlete -> sport

    def relation(self, topic: str) -> Relation:
        return next(r for r in self.relations if r.topic == topic)


def _assign(rng: random.Random, subjects: tuple[str, ...], values: tuple[str, ...]) -> dict[str, str]:
    # Cycle through a shuffled value list so every value is some subject's truth: no option is a giveaway.
    pool = list(values)
    rng.shuffle(pool)
    return {s: pool[i % len(pool)] for i, s in enumerate(subjects)}


def build_knowledge(rng: random.Random) -> Knowledge:
    """The facts of one seed: every subject of every relation gets one value, athletes get sports."""
    objects = tuple(f"the {o}" for o in OBJECTS)
    animals = tuple(f"the {a}" for a in ANIMALS)
    spec = (
        ("colour", objects, COLOURS, "What colour is {s}?", "{v}", "{s} is {v}.", "{s} is not {v}."),
        ("material", objects, MATERIALS, "What is {s} made of?", "{v}",
         "{s} is made of {v}.", "{s} is not made of {v}."),
        ("diet", animals, FOODS, "What does {s} eat?", "{v}", "{s} eats {v}.", "{s} does not eat {v}."),
        ("habitat", animals, PLACES, "Where does {s} live?", "in the {v}",
         "{s} lives in the {v}.", "{s} does not live in the {v}."),
        ("country", CITIES, COUNTRIES, "In which country is the city of {s}?", "{v}",
         "{s} is a city in {v}.", "{s} is not a city in {v}."),
        ("heat", SUBSTANCES, COLOURS, "What colour does {s} turn when it is heated?", "{v}",
         "When it is heated, {s} turns {v}.", "When it is heated, {s} does not turn {v}."),
    )
    relations = tuple(
        Relation(topic, _assign(rng, subjects, values), values, q, c, pos, neg)
        for topic, subjects, values, q, c, pos, neg in spec
    )
    names = [f"{first} {last}" for first, _ in PEOPLE for last in SURNAMES]
    chosen = rng.sample(names, 3 * len(SPORTS))
    sports = sorted(SPORTS)
    return Knowledge(relations, {a: sports[i % len(sports)] for i, a in enumerate(chosen)})
