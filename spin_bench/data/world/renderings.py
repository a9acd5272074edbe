"""The world's items as an exam page shows them: the pre-training text of the embedded model.

Why: a real base model meets quizzes, worked problems and "Q:/A:" pages in its pre-training text long before
anyone evaluates it, and that is what lets it read a benchmark's few-shot prompt. The embedded model's
pre-training text therefore holds, beside the plain chat turns, pre-training items laid out the way lm-eval
lays out a solved few-shot example of the benchmark each skill mimics (ARC's "Question:/Answer:", MMLU's
lettered options, HellaSwag's "activity: context ending", Winogrande's filled sentence, TruthfulQA's "Q:/A:",
BBH's chain of thought, GSM8K's worked answer ending "#### N"). Items of one skill are joined into pages of
several solved examples, as a few-shot prompt is, so the model also learns to carry a format along a page.
Only pre-training items are rendered; evaluation items are a disjoint split and never appear.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from spin_bench.data.world.examples import Example, turns
from spin_bench.data.world.vocabulary import LETTERS

# Solved examples per page: 8 pages fill the 512-token pre-training window about as a 5- to 10-shot prompt does.
EXAMPLES_PER_PAGE = 8
# lm-eval's own separator between few-shot examples.
FEWSHOT_DELIMITER = "\n\n"


def _arc(e: Example) -> str:
    f = e.fields
    return f"Question: {f['question']}\nAnswer: {f['choices'][f['answer']]}"


def _openbookqa(e: Example) -> str:
    f = e.fields
    return f"{f['question']} {f['choices'][f['answer']]}"


def _mmlu(e: Example) -> str:
    f = e.fields
    options = "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(f["choices"]))
    return f"{f['question']}\n{options}\nAnswer: {LETTERS[f['answer']]}"


def _hellaswag(e: Example) -> str:
    f = e.fields
    return f"{f['activity']}: {f['context']} {f['endings'][f['answer']]}"


def _winogrande(e: Example) -> str:
    f = e.fields
    return f["sentence"].replace("_", f["option" + f["answer"]])


def _truthfulqa(e: Example) -> str:
    f = e.fields
    return f"Q: {f['question']}\nA: {f['correct'][0]}"


def _bbh(e: Example) -> str:
    return f"Q: {e.fields['input']}\nA: Let's think step by step.\n{e.response}"


def _gsm8k(e: Example) -> str:
    return f"Question: {e.fields['question']}\nAnswer: {e.fields['solution']}"


# Skill -> the benchmark layouts it is shown in; a skill quizzed by several benchmarks takes turns.
LAYOUTS: dict[str, tuple[Callable[[Example], str], ...]] = {
    "arithmetic": (_gsm8k,),
    "multiple_choice": (_arc, _mmlu, _openbookqa),
    "completion": (_hellaswag,),
    "fill_blank": (_winogrande,),
    "true_false": (_truthfulqa,),
    "yes_no": (_bbh,),
    "validity": (_bbh,),
}


def exam_pages(examples: Sequence[Example]) -> list[str]:
    """Pages of solved examples, one skill and one layout per page, in a fixed order (deterministic)."""
    by_layout: dict[tuple[str, int], list[str]] = defaultdict(list)
    counters: dict[str, int] = defaultdict(int)
    for example in examples:
        layouts = LAYOUTS.get(example.skill)
        if not layouts:
            continue
        turn = counters[example.skill] % len(layouts)
        counters[example.skill] += 1
        by_layout[(example.skill, turn)].append(layouts[turn](example))
    pages = []
    for key in sorted(by_layout):
        items = by_layout[key]
        pages += [FEWSHOT_DELIMITER.join(items[i:i + EXAMPLES_PER_PAGE])
                  for i in range(0, len(items), EXAMPLES_PER_PAGE)]
    return pages


def pretrain_texts(examples: Sequence[Example]) -> list[str]:
    """The embedded model's pre-training documents: every item's turns joined by newlines (as a chat log
    reads), then the exam pages of the same items."""
    return ["\n".join(m["content"] for m in turns(ex)) for ex in examples] + exam_pages(examples)
