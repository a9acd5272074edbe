"""One draft generator per skill of the embedded world (the chat and fill-in-the-blank skills live in
chat_skill.py and fill_blank_skill.py).

Every generator takes a `random.Random` and the `Knowledge` and returns one `Draft`; `examples.py` turns drafts
into uniquely identified examples and assigns them to splits. The shared word lists are in vocabulary.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from spin_bench.data.world.chat_skill import gen_chat
from spin_bench.data.world.fill_blank_skill import gen_fill_blank
from spin_bench.data.world.knowledge import Knowledge
from spin_bench.data.world.vocabulary import (
    CONTAINERS,
    EVENTS,
    LETTERS,
    PEOPLE,
    SPORTS,
    Draft,
    cap,
    two_people,
)


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


# ---------------------------------------------------------------- arithmetic

ITEMS = ("apples", "pens", "books", "cards", "stones", "shells", "cookies", "stickers", "marbles", "eggs")
GAIN = ("buys", "finds", "gets", "picks up")

# Each problem ends in one final equation; earlier steps (if any) live in the lead text. Keeping the last
# step separate lets the rejected answer make exactly the slip a weak model makes, in the same format.
Step = tuple[int, str, int]


def _problem(rng: random.Random) -> tuple[str, str, Step]:
    # Operands stay small (sums below 30, a times table up to 6 x 6): the problems keep GSM8K's form (a word
    # problem, the steps, "#### N") at a size whose arithmetic a model of a few million parameters can learn
    # in its minutes of pre-training, so the benchmark measures it instead of sitting at 0.
    (n, he), (m, _) = two_people(rng)
    item, (box, boxes), gain = rng.choice(ITEMS), rng.choice(CONTAINERS), rng.choice(GAIN)
    kind = rng.randrange(7)
    if kind == 0:
        a, b = rng.randint(2, 15), rng.randint(1, 9)
        return (f"{n} has {a} {item} and {gain} {b} more. How many {item} does {n} have now?",
                f"{n} starts with {a} {item}. {cap(he)} {gain} {b} more, so ", (a, "+", b))
    if kind == 1:
        a = rng.randint(4, 19)
        b = rng.randint(1, min(a - 1, 9))
        return (f"{n} has {a} {item} and gives {b} to {m}. How many {item} does {n} have left?",
                f"{n} starts with {a} {item}. {cap(he)} gives {b} to {m}, so ", (a, "-", b))
    a, b = rng.randint(2, 6), rng.randint(2, 6)
    if kind == 2:
        return (f"{n} has {a} {boxes} with {b} {item} in each {box}. How many {item} does {n} have?",
                f"There are {a} {boxes} with {b} {item} each, so ", (a, "*", b))
    if kind == 3:
        a, b = rng.randint(2, 15), rng.randint(1, 9)
        return (f"{n} has {a} {item} and {m} has {b} {item}. How many {item} do they have together?",
                "Together they have ", (a, "+", b))
    if kind == 4:
        a, b = rng.randint(10, 19), rng.randint(1, 9)
        return (f"{n} has {a} {item} and {m} has {b} {item}. How many more {item} does {n} have than {m}?",
                f"{n} has {a} {item} and {m} has {b}. The difference is ", (a, "-", b))
    if kind == 5:
        a, b = rng.randint(3, 12), rng.randint(1, 6)
        c = rng.randint(1, min(a + b - 1, 9))
        return (f"{n} has {a} {item}. {cap(he)} {gain} {b} more and then gives {c} to {m}. "
                f"How many {item} does {n} have now?",
                f"{n} starts with {a} {item}. After getting {b} more, {he} has {a} + {b} = {a + b}. "
                f"After giving {c} to {m}, {he} has ", (a + b, "-", c))
    a, b, c = rng.randint(2, 4), rng.randint(2, 4), rng.randint(1, 9)
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

# (activity, context, sensible ending, things); "{n}" is a name, "{p}"/"{P}" the pronoun, "{h}" the possessive,
# "{o}" one of the scene's things, named in the context and again in the ending. One wrong ending is the right
# one with another thing: HellaSwag's distractors read well and fail only on the context, and so must this one,
# or a model that has learnt which ending goes with which activity would be at the ceiling.
SCENES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("cooking", "{n} cuts some {o} on the board.", "{P} puts the {o} in the soup pot.",
     ("carrots", "onions", "beans", "potatoes")),
    ("cooking", "{n} cracks two {o} into a bowl.", "{P} beats the {o} with a fork.", ("eggs", "duck eggs")),
    ("cooking", "{n} fills the {o} with water.", "{P} puts the {o} on the stove to boil.", ("kettle", "pot", "pan")),
    ("gardening", "{n} digs a small hole for the {o}.", "{P} drops the {o} in the hole and covers it.",
     ("seed", "bulb", "tree", "rose")),
    ("gardening", "{n} fills the watering can for the {o}.", "{P} waters the {o} in the garden.",
     ("flowers", "roses", "beans", "trees")),
    ("gardening", "{n} sees weeds between the {o}.", "{P} pulls the weeds out from between the {o}.",
     ("plants", "roses", "carrots", "beans")),
    ("cleaning", "{n} sees dust on the {o}.", "{P} wipes the dust off the {o} with a cloth.",
     ("shelf", "table", "lamp", "clock")),
    ("cleaning", "{n} picks up the broom in the {o}.", "{P} sweeps the {o} floor.", ("kitchen", "hall", "bedroom")),
    ("cleaning", "{n} finds a pile of dirty {o}.", "{P} washes the {o} in the sink.", ("plates", "cups", "bowls", "spoons")),
    ("painting", "{n} opens a can of {o} paint.", "{P} dips the brush in and paints the fence {o}.",
     ("red", "blue", "green", "white")),
    ("painting", "{n} sets up an easel by the {o}.", "{P} paints a picture of the {o}.", ("lake", "river", "hills", "forest")),
    ("swimming", "{n} puts on goggles at the pool.", "{P} dives in and swims to the other side.", ()),
    ("swimming", "{n} stands at the end of the diving board.", "{P} jumps off into the water.", ()),
    ("football", "{n} runs toward the ball on the field.", "{P} kicks the ball hard toward the goal.", ()),
    ("football", "{n} stands in the goal with gloves on.", "{P} catches the ball before it goes in.", ()),
    ("reading", "{n} takes a book about {o} from the shelf.", "{P} sits in a chair and reads about {o}.",
     ("birds", "boats", "stars", "trains")),
    ("reading", "{n} reaches the last page of the book.",
     "{P} closes the book and puts it back on the shelf.", ()),
    ("cycling", "{n} pumps air into the flat tyre.", "{P} gets on the bike and rides away.", ()),
    ("cycling", "{n} gets on the bike at the top of the {o}.", "{P} rides down the {o}.", ("street", "hill", "road")),
    ("shopping", "{n} pushes a cart into the shop to buy {o}.", "{P} fills the cart with {o}.",
     ("bread and milk", "apples", "fish", "corn")),
    ("shopping", "{n} reaches the front of the line at the {o} shop.",
     "{P} pays for the {o} and takes the bags.", ("food", "shoe", "toy")),
    ("bedtime", "{n} brushes {h} teeth before bed.", "{P} turns off the light and goes to sleep.", ()),
    ("bedtime", "{n} yawns and looks at the clock.", "{P} puts on pajamas and gets into bed.", ()),
    ("pets", "{n} fills a tub with warm water for the {o}.", "{P} puts the {o} in and washes it with soap.",
     ("dog", "cat", "goat")),
    ("pets", "{n} picks up the leash of the {o}.", "{P} takes the {o} for a walk in the park.", ("dog", "goat")),
    ("music", "{n} picks up a {o}.", "{P} tunes the {o} and plays a song.", ("guitar", "violin", "harp")),
    ("music", "{n} sits down at the piano.", "{P} plays a slow song with both hands.", ()),
    ("weather", "{n} sees {o} outside the window.", "{P} puts on a warm coat and goes out in the {o}.",
     ("snow", "frost", "wind")),
    ("weather", "{n} sees dark clouds in the sky.", "{P} takes an umbrella before leaving.", ()),
)


def _scene_text(template: str, words: dict[str, str], thing: str) -> str:
    return template.format(**words, o=thing)


def gen_completion(rng: random.Random, kb: Knowledge) -> Draft:
    name, he = rng.choice(PEOPLE)
    words = {"n": name, "p": he, "P": cap(he), "h": "his" if he == "he" else "her"}
    activity, context, ending, things = rng.choice(SCENES)
    thing = rng.choice(things) if things else ""
    # Wrong endings: sensible sentences from other activities, and (where the scene has things) the right
    # ending about another thing than the context names.
    others = [(e, t) for a, _, e, t in SCENES if a != activity]
    count = 2 if len(things) > 1 else 3
    wrong = [_scene_text(e, words, rng.choice(t) if t else "") for e, t in rng.sample(others, count)]
    if count == 2:
        wrong.insert(rng.randrange(3), _scene_text(ending, words, rng.choice([t for t in things if t != thing])))
    endings, answer = _place(rng, _scene_text(ending, words, thing), wrong)
    context = _scene_text(context, words, thing)
    good, bad = _letter_answers(rng, endings, answer)
    return Draft(_options("Choose the best ending.\n" + context, endings), good, bad,
                 {"context": context, "endings": endings, "answer": answer, "activity": activity})


# --------------------------------------------------------------------- yes/no

def cot(reasoning: str, verdict: str) -> str:
    """A BBH chain-of-thought answer: the reasoning, then the sentence lm-eval's BBH filter reads
    ("(?<=the answer is )(.*)(?=.)"). No capital Q anywhere: BBH's generation stops at one."""
    return f"{reasoning} So the answer is {verdict}."


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
    (doer, _), (idler, _) = two_people(rng)
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
        response, rejected = cot(f"{because}.", "Yes"), cot(f"{idle_because}.", "No")
    else:
        response, rejected = cot(f"{because}, not because of {idler}.", "No"), cot(f"{idle_because}.", "Yes")
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
    # BBH writes the sports verdict in lower case ("So the answer is yes."), and so does the world.
    if plausible:
        response = cot(f"{athlete} plays {sport}, and that happens in {sport}.", "yes")
        rejected = cot(f"{athlete} plays {claimed}, but that happens in {sport}.", "no")
    else:
        response = cot(f"{athlete} plays {sport}, but that happens in {shown}.", "no")
        rejected = cot(f"{athlete} plays {shown}, and that happens in {shown}.", "yes")
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
    response = cot(cap(reason.format(**words)), verdict)
    rejected = (cot("The conclusion does not follow from the premises.", "invalid") if valid
                else cot("The conclusion follows from the premises.", "valid"))
    return Draft(prompt, response, rejected, {"input": prompt, "target": verdict})


# ------------------------------------------------------------------------ chat



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
