"""Vocabulary and one draft generator per skill of the embedded world.

Every generator takes a `random.Random` and the `Knowledge` and returns one `Draft`; `world.py` turns drafts
into uniquely identified examples and assigns them to splits. The word lists are deliberately short and
shared between skills (the same names, objects and colours appear in arithmetic, quizzes and chat) so a
model of a few million parameters sees each word often enough to learn it within a minute of CPU training.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

if TYPE_CHECKING:  # world.py imports this module at run time; the knowledge base type lives there
    from training.embedded.world import Knowledge

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
    """A generated item before it gets a uid; world.py owns identity and split membership."""

    prompt: str
    response: str
    rejected: str
    fields: dict[str, Any]
    followup: str | None = None
    followup_response: str | None = None


def cap(text: str) -> str:
    """Upper-case the first letter only (str.capitalize would lower-case names inside the sentence)."""
    return text[:1].upper() + text[1:]


def _options(question: str, options: list[str]) -> str:
    return question + "\n" + "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))


def _place(rng: random.Random, truth: str, wrong: list[str]) -> tuple[list[str], int]:
    answer = rng.randrange(len(wrong) + 1)
    return wrong[:answer] + [truth] + wrong[answer:], answer


def _letter_answers(rng: random.Random, options: list[str], answer: int) -> tuple[str, str]:
    """The chosen answer and a same-format answer naming a wrong option."""
    miss = rng.choice([i for i in range(len(options)) if i != answer])
    return (f"The answer is {LETTERS[answer]}: {options[answer]}",
            f"The answer is {LETTERS[miss]}: {options[miss]}")


def _two_people(rng: random.Random) -> list[tuple[str, str]]:
    return rng.sample(PEOPLE, 2)


# ---------------------------------------------------------------- arithmetic

ITEMS = ("apples", "pens", "books", "cards", "stones", "shells", "cookies", "stickers", "marbles", "eggs")
CONTAINERS = (("box", "boxes"), ("bag", "bags"), ("basket", "baskets"), ("jar", "jars"))
GAIN = ("buys", "finds", "gets", "picks up")

# Each problem ends in one final equation; earlier steps (if any) live in the lead text. Keeping the last
# step separate lets the rejected answer make exactly the slip a weak model makes, in the same format.
Step = tuple[int, str, int]


def _problem(rng: random.Random) -> tuple[str, str, Step]:
    (n, he), (m, _) = _two_people(rng)
    item, (box, boxes), gain = rng.choice(ITEMS), rng.choice(CONTAINERS), rng.choice(GAIN)
    kind = rng.randrange(7)
    if kind == 0:
        a, b = rng.randint(2, 40), rng.randint(2, 20)
        return (f"{n} has {a} {item} and {gain} {b} more. How many {item} does {n} have now?",
                f"{n} starts with {a} {item}. {cap(he)} {gain} {b} more, so ", (a, "+", b))
    if kind == 1:
        a = rng.randint(5, 45)
        b = rng.randint(2, a - 1)
        return (f"{n} has {a} {item} and gives {b} to {m}. How many {item} does {n} have left?",
                f"{n} starts with {a} {item}. {cap(he)} gives {b} to {m}, so ", (a, "-", b))
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    if kind == 2:
        return (f"{n} has {a} {boxes} with {b} {item} in each {box}. How many {item} does {n} have?",
                f"There are {a} {boxes} with {b} {item} each, so ", (a, "*", b))
    if kind == 3:
        a, b = rng.randint(3, 40), rng.randint(2, 30)
        return (f"{n} has {a} {item} and {m} has {b} {item}. How many {item} do they have together?",
                "Together they have ", (a, "+", b))
    if kind == 4:
        a, b = rng.randint(12, 45), rng.randint(2, 11)
        return (f"{n} has {a} {item} and {m} has {b} {item}. How many more {item} does {n} have than {m}?",
                f"{n} has {a} {item} and {m} has {b}. The difference is ", (a, "-", b))
    if kind == 5:
        a, b = rng.randint(8, 30), rng.randint(2, 15)
        c = rng.randint(2, min(a + b - 1, 20))
        return (f"{n} has {a} {item}. {cap(he)} {gain} {b} more and then gives {c} to {m}. "
                f"How many {item} does {n} have now?",
                f"{n} starts with {a} {item}. After getting {b} more, {he} has {a} + {b} = {a + b}. "
                f"After giving {c} to {m}, {he} has ", (a + b, "-", c))
    c = rng.randint(2, 15)
    return (f"{n} has {a} {boxes} with {b} {item} in each {box}. {cap(he)} {gain} {c} more {item}. "
            f"How many {item} does {n} have in total?",
            f"The {boxes} hold {a} * {b} = {a * b} {item}. With {c} more, {n} has ", (a * b, "+", c))


def apply(a: int, op: str, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def _slip(rng: random.Random, step: Step) -> tuple[str, int]:
    """A wrong final step: either the wrong operation or an off-by-a-little result."""
    a, op, b = step
    right = apply(a, op, b)
    wrong_op = {"+": "-", "-": "+", "*": "+"}[op]
    if rng.random() < 0.5 and apply(a, wrong_op, b) >= 0 and apply(a, wrong_op, b) != right:
        return wrong_op, apply(a, wrong_op, b)
    return op, right + rng.choice([d for d in (-2, -1, 1, 2) if right + d >= 0])


def gen_arithmetic(rng: random.Random, kb: Knowledge) -> Draft:
    question, lead, (a, op, b) = _problem(rng)
    value = apply(a, op, b)
    solution = f"{lead}{a} {op} {b} = {value}.\n#### {value}"
    bad_op, bad = _slip(rng, (a, op, b))
    rejected = f"{lead}{a} {bad_op} {b} = {bad}.\n#### {bad}"
    return Draft(question, solution, rejected,
                 {"question": question, "answer_value": value, "solution": solution})


# ---------------------------------------------------------- knowledge quizzes

def gen_multiple_choice(rng: random.Random, kb: Knowledge) -> Draft:
    rel = rng.choice(kb.relations)
    subject = rng.choice(sorted(rel.facts))
    truth = rel.facts[subject]
    wrong = rng.sample([v for v in rel.values if v != truth], 3)
    values, answer = _place(rng, truth, wrong)
    options = [rel.choice.format(v=v) for v in values]
    question = cap(rel.question.format(s=subject))
    good, bad = _letter_answers(rng, options, answer)
    return Draft(_options(question, options), good + ".", bad + ".",
                 {"question": question, "choices": options, "answer": answer, "topic": rel.topic})


def gen_true_false(rng: random.Random, kb: Knowledge) -> Draft:
    rel = rng.choice(kb.relations)
    subject = rng.choice(sorted(rel.facts))
    truth = rel.facts[subject]
    others = [v for v in rel.values if v != truth]
    wrong, decoy = rng.sample(others, 2)
    # Negations double the number of true statements, which otherwise number one per subject.
    negated, claims_truth = rng.random() < 0.5, rng.random() < 0.5
    claimed = truth if claims_truth else wrong
    statement = rel.say(subject, claimed, negated)
    answer = claims_truth != negated
    fact = rel.say(subject, truth)
    if claims_truth:
        # The rejected answer backs its wrong verdict with a confident but false "fact".
        misled = rel.say(subject, decoy)[:-1] + ", not " + rel.choice.format(v=truth) + "."
        reason, wrong_reason = fact, misled
    else:
        reason, wrong_reason = rel.correction(subject, wrong), rel.say(subject, wrong)
    verdict, wrong_verdict = ("True", "False") if answer else ("False", "True")
    response, rejected = f"{verdict}. {reason}", f"{wrong_verdict}. {wrong_reason}"
    template = rng.choice(("True or false: {}", "Is this statement true or false? {}"))
    return Draft(template.format(statement), response, rejected, {
        "question": cap(rel.question.format(s=subject)), "statement": statement, "answer": answer,
        "correct": [fact], "incorrect": [rel.say(subject, v) for v in others]})


# ------------------------------------------------------------------ completion

# (activity, context, sensible ending); "{n}" is a name, "{p}"/"{P}" the pronoun, "{h}" the possessive.
SCENES: tuple[tuple[str, str, str], ...] = (
    ("cooking", "{n} cuts some carrots on the board.", "{P} puts the carrots in the soup pot."),
    ("cooking", "{n} cracks two eggs into a bowl.", "{P} beats the eggs with a fork."),
    ("cooking", "{n} fills the kettle with water.", "{P} puts the kettle on the stove to boil."),
    ("gardening", "{n} digs a small hole in the garden.", "{P} drops a seed in the hole and covers it."),
    ("gardening", "{n} fills the watering can at the tap.", "{P} waters the flowers in the garden."),
    ("gardening", "{n} sees weeds between the plants.", "{P} pulls the weeds out one by one."),
    ("cleaning", "{n} sees dust on the shelf.", "{P} wipes the dust off with a cloth."),
    ("cleaning", "{n} picks up the broom.", "{P} sweeps the kitchen floor."),
    ("cleaning", "{n} finds a pile of dirty plates.", "{P} washes the plates in the sink."),
    ("painting", "{n} opens a can of paint.", "{P} dips the brush in and paints the fence."),
    ("painting", "{n} sets up an easel by the lake.", "{P} paints a picture of the water."),
    ("swimming", "{n} puts on goggles at the pool.", "{P} dives in and swims to the other side."),
    ("swimming", "{n} stands at the end of the diving board.", "{P} jumps off into the water."),
    ("football", "{n} runs toward the ball on the field.", "{P} kicks the ball hard toward the goal."),
    ("football", "{n} stands in the goal with gloves on.", "{P} catches the ball before it goes in."),
    ("reading", "{n} takes a book from the shelf.", "{P} sits in a chair and starts to read."),
    ("reading", "{n} reaches the last page of the book.",
     "{P} closes the book and puts it back on the shelf."),
    ("cycling", "{n} pumps air into the flat tyre.", "{P} gets on the bike and rides away."),
    ("cycling", "{n} puts on a helmet and gets on the bike.", "{P} rides down the street."),
    ("shopping", "{n} pushes a cart into the shop.", "{P} fills the cart with bread and milk."),
    ("shopping", "{n} reaches the front of the line at the shop.",
     "{P} pays for the food and takes the bags."),
    ("bedtime", "{n} brushes {h} teeth before bed.", "{P} turns off the light and goes to sleep."),
    ("bedtime", "{n} yawns and looks at the clock.", "{P} puts on pajamas and gets into bed."),
    ("pets", "{n} fills a tub with warm water for the dog.", "{P} puts the dog in and washes it with soap."),
    ("pets", "{n} picks up the leash.", "{P} takes the dog for a walk in the park."),
    ("music", "{n} picks up a guitar.", "{P} tunes the guitar and plays a song."),
    ("music", "{n} sits down at the piano.", "{P} plays a slow song with both hands."),
    ("weather", "{n} sees snow outside the window.", "{P} puts on a warm coat and goes out to play."),
    ("weather", "{n} sees dark clouds in the sky.", "{P} takes an umbrella before leaving."),
)


def gen_completion(rng: random.Random, kb: Knowledge) -> Draft:
    name, he = rng.choice(PEOPLE)
    words = {"n": name, "p": he, "P": cap(he), "h": "his" if he == "he" else "her"}
    activity, context, ending = rng.choice(SCENES)
    # Wrong endings are sensible sentences from other activities: right form, wrong for this context.
    pool = sorted({e for a, _, e in SCENES if a != activity})
    wrong = [e.format(**words) for e in rng.sample(pool, 3)]
    endings, answer = _place(rng, ending.format(**words), wrong)
    context = context.format(**words)
    good, bad = _letter_answers(rng, endings, answer)
    return Draft(_options("Choose the best ending.\n" + context, endings), good, bad,
                 {"context": context, "endings": endings, "answer": answer, "activity": activity})


# ------------------------------------------------------------------ fill blank

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


def gen_fill_blank(rng: random.Random, kb: Knowledge) -> Draft:
    template, trigger_a, trigger_b = rng.choice(TWINS)
    if template.startswith("The "):
        b = rng.choice(CONTAINERS)[0]
        a = rng.choice([o for o in OBJECTS if o != b])
    else:
        (a, _), (b, _) = _two_people(rng)
    picks_a = rng.random() < 0.5
    sentence = template.format(a=a, b=b, food=rng.choice(FOODS), t=trigger_a if picks_a else trigger_b)
    # Winogrande does not always list the first-mentioned noun first, so neither does this world.
    option1, option2 = (a, b) if rng.random() < 0.5 else (b, a)
    right, wrong = (a, b) if picks_a else (b, a)
    prompt = f"Fill in the blank.\n{sentence}\nOption 1: {option1}\nOption 2: {option2}"
    return Draft(prompt, f"The answer is {right}.", f"The answer is {wrong}.", {
        "sentence": sentence, "option1": option1, "option2": option2,
        "answer": "1" if right == option1 else "2"})


# --------------------------------------------------------------------- yes/no

CAUSES = (
    ("dropped a glass on the stone floor", "the glass broke", "the glass to break"),
    ("left the ice cream in the sun", "the ice cream melted", "the ice cream to melt"),
    ("forgot to water the plant for a month", "the plant died", "the plant to die"),
    ("left the gate open", "the dog ran out of the garden", "the dog to run away"),
    ("turned off all the lights", "the room went dark", "the room to go dark"),
    ("kicked the ball at the window", "the window broke", "the window to break"),
    ("put too much salt in the soup", "the soup tasted bad", "the soup to taste bad"),
    ("left the bread out for a week", "the bread went bad", "the bread to go bad"),
)
IDLE = ("was singing in the kitchen", "wore a red hat", "read a book in the garden",
        "was talking on the phone", "ate an apple", "sat on the bench", "looked at the clock")
CAUSAL_HEAD = "How would a typical person answer each of the following questions about causation?"
OPTIONS_YES_NO = "Options:\n- Yes\n- No"


def _causal(rng: random.Random) -> Draft:
    (doer, _), (idler, _) = _two_people(rng)
    cause, effect, effect_q = rng.choice(CAUSES)
    idle = rng.choice(IDLE)
    lines = [f"{doer} {cause}.", f"{idler} {idle}."]
    rng.shuffle(lines)
    asks_doer = rng.random() < 0.5
    story = f"{' '.join(lines)} Then {effect}."
    prompt = (f"{CAUSAL_HEAD}\n{story}\nQuestion: Did {doer if asks_doer else idler} cause {effect_q}?\n"
              f"{OPTIONS_YES_NO}")
    because, idle_because = f"{cap(effect)} because {doer} {cause}", f"{cap(effect)} because {idler} {idle}"
    if asks_doer:
        response, rejected = f"Yes. {because}.", f"No. {idle_because}."
    else:
        response, rejected = f"No. {because}, not because of {idler}.", f"Yes. {idle_because}."
    return Draft(prompt, response, rejected,
                 {"input": prompt, "target": "Yes" if asks_doer else "No", "kind": "causal"})


def _sports(rng: random.Random, kb: Knowledge) -> Draft:
    athlete = rng.choice(sorted(kb.athletes))
    sport = kb.athletes[athlete]
    plausible = rng.random() < 0.5
    others = [s for s in sorted(SPORTS) if s != sport]
    shown = sport if plausible else rng.choice(others)
    sentence = f"{athlete} {rng.choice(SPORTS[shown])}{rng.choice(EVENTS)}."
    prompt = f'Is the following sentence plausible? "{sentence}"'
    claimed = rng.choice([s for s in others if s != shown])
    if plausible:
        response = f"Yes. {athlete} plays {sport}, and that happens in {sport}."
        rejected = f"No. {athlete} plays {claimed}, but that happens in {sport}."
    else:
        response = f"No. {athlete} plays {sport}, but that happens in {shown}."
        rejected = f"Yes. {athlete} plays {shown}, and that happens in {shown}."
    return Draft(prompt, response, rejected,
                 {"input": prompt, "target": "Yes" if plausible else "No", "kind": "sports"})


def gen_yes_no(rng: random.Random, kb: Knowledge) -> Draft:
    return _causal(rng) if rng.random() < 0.5 else _sports(rng, kb)


# -------------------------------------------------------------------- validity

ROLES = ("cook", "singer", "painter", "farmer", "doctor", "teacher", "runner", "dancer", "driver",
         "baker", "pilot", "nurse")
# (first premise, second premise, conclusion, valid, reason); {x} is a person, {a}/{b}/{c} are roles.
FORMS: tuple[tuple[str, str, str, bool, str], ...] = (
    ("Every {a} is a {b}.", "{x} is a {a}.", "{x} is a {b}.", True,
     "{x} is a {a}, and every {a} is a {b}."),
    ("Every {a} is a {b}.", "{x} is not a {b}.", "{x} is not a {a}.", True,
     "If {x} were a {a}, {x} would be a {b}, but {x} is not a {b}."),
    ("Every {a} is a {b}.", "Every {b} is a {c}.", "every {a} is a {c}.", True,
     "Every {a} is a {b}, and every {b} is a {c}."),
    ("No {a} is a {b}.", "{x} is a {a}.", "{x} is not a {b}.", True,
     "{x} is a {a}, and no {a} is a {b}."),
    ("Every {a} is a {b}.", "{x} is a {b}.", "{x} is a {a}.", False,
     "{x} could be a {b} without being a {a}."),
    ("Every {a} is a {b}.", "{x} is not a {a}.", "{x} is not a {b}.", False,
     "{x} could be a {b} without being a {a}."),
    ("Every {a} is a {b}.", "Every {c} is a {b}.", "every {a} is a {c}.", False,
     "A {a} and a {c} can both be a {b} and still be different."),
    ("No {a} is a {b}.", "{x} is not a {a}.", "{x} is a {b}.", False,
     "{x} could be neither a {a} nor a {b}."),
)
VALIDITY_QUESTION = ("Is the argument, given the explicitly stated premises, deductively valid or invalid?\n"
                     "Options:\n- valid\n- invalid")


def gen_validity(rng: random.Random, kb: Knowledge) -> Draft:
    first, second, conclusion, valid, reason = rng.choice(FORMS)
    a, b, c = rng.sample(ROLES, 3)
    words = {"x": rng.choice(PEOPLE)[0], "a": a, "b": b, "c": c}
    premises = [first.format(**words), second.format(**words)]
    rng.shuffle(premises)
    argument = f'"{premises[0]} {premises[1]} Therefore, {conclusion.format(**words)}"'
    prompt = f"{argument}\n{VALIDITY_QUESTION}"
    verdict = "valid" if valid else "invalid"
    response = f"The argument is {verdict}. {cap(reason.format(**words))}"
    rejected = ("The argument is invalid. The conclusion does not follow from the premises." if valid
                else "The argument is valid. The conclusion follows from the premises.")
    return Draft(prompt, response, rejected, {"input": prompt, "target": verdict})


# ------------------------------------------------------------------------ chat

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
    (a, _), (b, _) = _two_people(rng)
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
    (a, _), (b, _) = _two_people(rng)
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


GENERATORS: dict[str, Callable[[random.Random, Knowledge], Draft]] = {
    "arithmetic": gen_arithmetic,
    "multiple_choice": gen_multiple_choice,
    "completion": gen_completion,
    "fill_blank": gen_fill_blank,
    "true_false": gen_true_false,
    "yes_no": gen_yes_no,
    "validity": gen_validity,
    "chat": gen_chat,
}
