"""The chat skill of the embedded world: a request, an answer, and a follow-up turn (MT-Bench style)."""

from __future__ import annotations

import random
from collections.abc import Callable

from spin_bench.data.world.knowledge import Knowledge
from spin_bench.data.world.vocabulary import (
    ANIMALS,
    DAYS,
    OBJECTS,
    PEOPLE,
    Draft,
    cap,
    two_people,
)

PACKING: dict[str, tuple[str, ...]] = {
    "the beach": ("a towel", "a hat", "water", "sun cream", "a ball"),
    "a picnic": ("a blanket", "bread", "apples", "water", "cups"),
    "a camping trip": ("a tent", "a warm coat", "a lamp", "water", "a map"),
    "school": ("a pen", "books", "a bag", "lunch", "water"),
    "a football game": ("a ball", "boots", "water", "a warm coat", "a hat"),
}
OCCASIONS = ("a picnic", "a football game", "the book club", "a bike ride", "the school concert")
PARTIES = ("birthday party", "tea party", "garden party", "game night")


def _chat_note(rng: random.Random, kb: Knowledge) -> tuple[str, ...]:
    (a, _), (b, _) = two_people(rng)
    topic = f"{rng.choice(OCCASIONS)} on {rng.choice(DAYS)}"
    return (f"Write a short note from {a} to {b} about {topic}.",
            f"Hi {b},\nJust a reminder about {topic}. I hope you can come, so please let me know soon.\n{a}",
            f"Note: {topic}.", "Now make it shorter.", f"Hi {b}, do not forget {topic}! {a}")


def _chat_thanks(rng: random.Random, kb: Knowledge) -> tuple[str, ...]:
    b = rng.choice(PEOPLE)[0]
    thing = rng.choice(OBJECTS)
    gift = f"{kb.relation('colour').facts['the ' + thing]} {thing}"
    why = rng.choice(("", " for my birthday", " you sent me"))
    return (f"Write a thank you message to {b} for the {gift}{why}.",
            f"Dear {b},\nThank you so much for the {gift}. It is lovely and I will use it every day.\n"
            "Best wishes",
            "Thanks.", "Now make it shorter.", f"Thanks for the {gift}, {b}! I love it.")


def _chat_list(rng: random.Random, kb: Knowledge) -> tuple[str, ...]:
    name, he = rng.choice(PEOPLE)
    place = rng.choice(sorted(PACKING))
    things = rng.sample(PACKING[place], 4)
    listing = "\n".join(f"{i + 1}. {t}" for i, t in enumerate(things))
    return (f"{name} is going to {place} on {rng.choice(DAYS)}. List three things {he} should bring.",
            listing[:listing.rindex("\n")], f"Just bring {things[0]}.", "Add one more thing.", listing)


def _chat_describe(rng: random.Random, kb: Knowledge) -> tuple[str, ...]:
    ask = rng.choice(("Describe {} in one sentence.", "Tell me about {} in one sentence."))
    if rng.random() < 0.5:
        thing = f"the {rng.choice(OBJECTS)}"
        colour, material = kb.relation("colour").facts[thing], kb.relation("material").facts[thing]
        return (ask.format(thing), f"{cap(thing)} is {colour} and made of {material}.",
                f"{cap(thing)} is a thing.", "What colour is it?", f"It is {colour}.")
    animal = f"the {rng.choice(ANIMALS)}"
    place, food = kb.relation("habitat").facts[animal], kb.relation("diet").facts[animal]
    return (ask.format(animal), f"{cap(animal)} lives in the {place} and eats {food}.",
            f"{cap(animal)} is an animal.", "What does it eat?", f"It eats {food}.")


def _chat_invite(rng: random.Random, kb: Knowledge) -> tuple[str, ...]:
    (a, _), (b, _) = two_people(rng)
    party, day = rng.choice(PARTIES), rng.choice(DAYS)
    return (f"Write an invitation from {a} to {b} for a {party} on {day}.",
            f"Dear {b},\nYou are invited to my {party} on {day}. There will be food, games and music. "
            f"I hope you can come!\n{a}",
            f"Party on {day}.", "Now make it shorter.", f"{b}, come to my {party} on {day}! {a}")


CHATS: dict[str, Callable[[random.Random, Knowledge], tuple[str, ...]]] = {
    "note": _chat_note, "thanks": _chat_thanks, "list": _chat_list,
    "describe": _chat_describe, "invite": _chat_invite,
}


def gen_chat(rng: random.Random, kb: Knowledge) -> Draft:
    category = rng.choice(sorted(CHATS))
    prompt, response, rejected, followup, followup_response = CHATS[category](rng, kb)
    return Draft(prompt, response, rejected, {"category": category}, followup, followup_response)
