"""The embedded world's vocabulary and the draft type every skill generator returns.

The word lists are deliberately short and shared between skills (the same names, objects and colours
appear in arithmetic, quizzes and chat) so a model of a few million parameters sees each word often enough
to learn it within a minute of CPU training.
"""

from __future__ import annotations

import random
from typing import Any, NamedTuple

PEOPLE: tuple[tuple[str, str], ...] = (
    ("Tom", "he"), ("Anna", "she"), ("Ben", "he"), ("Mia", "she"), ("Sam", "he"), ("Lily", "she"),
    ("Max", "he"), ("Emma", "she"), ("Leo", "he"), ("Zoe", "she"), ("Jack", "he"), ("Nina", "she"),
)
SURNAMES = ("Reed", "Stone", "Hill", "Park", "Cole", "Fox", "Lake", "Moss")
OBJECTS = ("lamp", "cup", "chair", "table", "ball", "hat", "kite", "bowl",
           "clock", "door", "bell", "boat", "spoon", "box", "coat", "bag")
COLOURS = ("red", "blue", "green", "yellow", "white", "black", "pink", "brown")
MATERIALS = ("wood", "glass", "stone", "metal", "paper", "cloth")
ANIMALS = ("fox", "cat", "dog", "bear", "owl", "frog", "goat", "duck", "horse", "mouse")
FOODS = ("fish", "grass", "seeds", "apples", "bread", "corn", "nuts", "berries")
PLACES = ("forest", "river", "desert", "cave", "hills", "lake")
CITIES = ("Lumo", "Brask", "Tiv", "Orla", "Kest", "Vanu", "Pelo", "Drim",
          "Sova", "Nim", "Galt", "Rook", "Azi", "Fenn", "Mott", "Quill")
COUNTRIES = ("Varda", "Kel", "Osmia", "Trell", "Zunda", "Marn")
SUBSTANCES = ("zelite", "brom", "pashium", "norrite", "quell", "tavium", "olm", "grist")
CONTAINERS = (("box", "boxes"), ("bag", "bags"), ("basket", "baskets"), ("jar", "jars"))
SPORTS: dict[str, tuple[str, ...]] = {
    "football": ("scored a penalty kick", "headed the ball into the goal", "was shown a yellow card",
                 "saved a penalty"),
    "basketball": ("made a three point shot", "dunked the ball", "caught the rebound", "missed a free throw"),
    "tennis": ("hit an ace", "served a double fault", "won the point at the net", "won the tie break"),
    "baseball": ("hit a home run", "stole second base", "threw a strike", "caught a fly ball"),
    "hockey": ("scored on the power play", "took a slap shot", "sat in the penalty box", "passed the puck"),
    "golf": ("made a birdie", "hit the ball into the sand trap", "sank a long putt", "hit a hole in one"),
}
EVENTS = ("", " in the final", " in the last game", " during practice", " on Sunday", " at the home game",
          " in the big match", " last night", " on Saturday")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LETTERS = "ABCD"


class Draft(NamedTuple):
    """A generated item before it gets a uid; examples.py owns identity and split membership."""

    prompt: str
    response: str
    rejected: str
    fields: dict[str, Any]
    followup: str | None = None
    followup_response: str | None = None


def cap(text: str) -> str:
    """Upper-case the first letter only (str.capitalize would lower-case names inside the sentence)."""
    return text[:1].upper() + text[1:]


def two_people(rng: random.Random) -> list[tuple[str, str]]:
    return rng.sample(PEOPLE, 2)

