"""The fill-in-the-blank skill of the embedded world: Winogrande's twin sentences, two options, one blank.

Half the twins are Winogrande's own kind (two people and a trigger word), half are resolved by the world's
facts about two things of one relation; the generator returns one `Draft` like every skill in skills.py.
"""

from __future__ import annotations

import random

from spin_bench.data.world.knowledge import Knowledge
from spin_bench.data.world.vocabulary import CONTAINERS, FOODS, OBJECTS, PEOPLE, Draft, two_people

# (sentence with {a}/{b} and a blank, trigger that makes {a} the answer, trigger that makes {b} the answer)
TWINS: tuple[tuple[str, str, str], ...] = (
    ("{a} gave {b} some {food} because _ was {t}.", "full", "hungry"),
    ("{a} lifted the heavy box but {b} could not, because _ is {t}.", "strong", "weak"),
    ("{a} asked {b} for help with maths because _ is {t} at it.", "bad", "good"),
    ("{a} ran faster than {b}, so _ {t} the race.", "won", "lost"),
    ("{a} lent {b} a pen because _ {t}.", "had an extra one", "forgot to bring one"),
    ("{a} woke up earlier than {b} because _ went to bed {t}.", "early", "late"),
    ("{a} thanked {b} because _ {t} with the move.", "got help", "helped"),
    ("The {a} does not fit in the {b} because the _ is too {t}.", "big", "small"),
)


# Relations whose fact reads "{s} ...": a blank in the subject's place is resolved by the fact alone.
BLANK_RELATIONS = ("colour", "material", "diet", "habitat", "country")
BLANK_LEADS = ("{n} looked at {a} and {b}, and saw that", "{n} compared {a} with {b} and found that",
               "{n} knows {a} and {b} well, and says that")


def _people_twin(rng: random.Random) -> tuple[str, str, str, bool]:
    """A twin sentence about two people or two objects, resolved by a trigger word (Winogrande's own kind)."""
    template, trigger_a, trigger_b = rng.choice(TWINS)
    if template.startswith("The "):
        b = rng.choice(CONTAINERS)[0]
        a = rng.choice([o for o in OBJECTS if o != b])
    else:
        (a, _), (b, _) = two_people(rng)
    picks_a = rng.random() < 0.5
    sentence = template.format(a=a, b=b, food=rng.choice(FOODS), t=trigger_a if picks_a else trigger_b)
    return sentence, a, b, picks_a


def _fact_twin(rng: random.Random, kb: Knowledge) -> tuple[str, str, str, bool]:
    """A twin sentence about two things of one relation, resolved by the world's facts: its trigger is one
    thing's value, so swapping it for the other's flips the answer, and only knowing the facts resolves it
    (Winogrande's blanks are resolved by knowledge about the two candidates)."""
    rel = kb.relation(rng.choice(BLANK_RELATIONS))
    a = rng.choice(sorted(rel.facts))
    b = rng.choice(sorted(s for s, v in rel.facts.items() if v != rel.facts[a]))
    picks_a = rng.random() < 0.5
    # Winogrande's options are bare nouns and its sentence says "the _".
    article = "the " if a.startswith("the ") else ""
    fact = rel.positive.format(s=article + "_", v=rel.facts[a if picks_a else b])
    lead = rng.choice(BLANK_LEADS).format(n=rng.choice(PEOPLE)[0], a=a, b=b)
    return f"{lead} {fact}", a.removeprefix(article), b.removeprefix(article), picks_a


def gen_fill_blank(rng: random.Random, kb: Knowledge) -> Draft:
    # Half the items are Winogrande's people-and-trigger twins (role binding, which a model of this size does
    # not learn in minutes: they sit near chance), half are resolved by the world's facts, which it does learn;
    # together they put the task above chance with room to move either way.
    sentence, a, b, picks_a = _fact_twin(rng, kb) if rng.random() < 0.5 else _people_twin(rng)
    # Winogrande does not always list the first-mentioned noun first, so neither does this world.
    option1, option2 = (a, b) if rng.random() < 0.5 else (b, a)
    right, wrong = (a, b) if picks_a else (b, a)
    prompt = f"Fill in the blank.\n{sentence}\nOption 1: {option1}\nOption 2: {option2}"
    return Draft(prompt, f"The answer is {right}.", f"The answer is {wrong}.", {
        "sentence": sentence, "option1": option1, "option2": option2,
        "answer": "1" if right == option1 else "2"})
