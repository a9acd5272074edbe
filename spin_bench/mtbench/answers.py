"""Two-turn MT-Bench answers with the training module's generators, resumable per temperature group.

Turn 2 is conditioned on the model's own turn-1 answer, as FastChat's gen_model_answer.py does; each
category is sampled at FastChat's temperature (greedy below 1e-4). Answers are saved after every group,
so a killed run keeps what it finished, and a finished file is reused without loading the model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from spin_bench.core.atomic import write_json_atomic
from spin_bench.core.enums import Backend, Precision
from spin_bench.core.errors import UserError
from spin_bench.core.hashing import stable_hash
from spin_bench.inference.checkpoints import ResolvedModel
from spin_bench.inference.prompts import (
    CHAT_TEMPLATE,
    FASTCHAT_AUTO,
    FASTCHAT_PREFIX,
    check_template,
    fastchat_renderer,
    match_fastchat_template,
)
from spin_bench.mtbench.dataset import MTBenchData, Question
from spin_bench.mtbench.protocol import GREEDY_BELOW, MAX_NEW_TOKENS, temperature_for

Answers = dict[int, tuple[str, str]]


@dataclass(frozen=True)
class AnswerSettings:
    backend: Backend = Backend.HF
    max_new_tokens: int = MAX_NEW_TOKENS
    batch_size: int = 8
    precision: Precision = Precision.AUTO
    template: str = CHAT_TEMPLATE  # or "fastchat:<template name>" (fastchat:auto: see settings_for_model)
    seed: int = 0  # FastChat seeds torch with the choice index; one choice, index 0
    tensor_parallel_size: int = 1

    def deviations(self) -> list[str]:
        notes = []
        if self.max_new_tokens != MAX_NEW_TOKENS:
            notes.append(f"MT-Bench answers capped at {self.max_new_tokens} new tokens (FastChat: {MAX_NEW_TOKENS})")
        return notes


def answer_key(model_hash: str, data: MTBenchData, settings: AnswerSettings) -> str:
    questions = [q.as_dict() for q in data.questions]
    return stable_hash({"model": model_hash, "questions": questions, "settings": asdict(settings)})


def load_answers(path: Path) -> Answers | None:
    """The finished answers at ``path``, or None if it is missing or partial."""
    if not path.is_file():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    if not state.get("complete"):
        return None
    return {int(qid): (pair[0], pair[1]) for qid, pair in state["answers"].items()}


def generate_answers(model_path: str, data: MTBenchData, settings: AnswerSettings, path: Path,
                     revision: str | None = None) -> Answers:
    """Answers for every question, from ``path`` when complete, else generated (continuing a partial file)."""
    done = load_answers(path)
    if done is not None:
        return done
    state = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    turn1: dict[str, str] = dict(state.get("turn1", {}))
    turn2: dict[str, str] = dict(state.get("turn2", {}))
    generator, render = _load(model_path, settings, revision)
    from tqdm.auto import tqdm

    total = 2 * len(data.questions)
    with tqdm(total=total, initial=len(turn1) + len(turn2), desc=f"MT-Bench answers {Path(model_path).name}",
              unit="turn", leave=False) as bar:
        for turn, finished in ((1, turn1), (2, turn2)):
            for temperature, group in _temperature_groups(data.questions, finished):
                prompts = [render(_messages(q, turn, turn1)) for q in group]
                generator.config = _sampling(generator.config, settings, temperature)
                outputs = generator.generate(prompts, seed=settings.seed, progress=bar.update)
                finished.update({str(q.question_id): text for q, text in zip(group, outputs, strict=True)})
                write_json_atomic(path, {"complete": False, "turn1": turn1, "turn2": turn2})
    answers = {q.question_id: (turn1[str(q.question_id)], turn2[str(q.question_id)]) for q in data.questions}
    write_json_atomic(path, {"complete": True, "settings": asdict(settings), "model": model_path,
                             "answers": {str(k): list(v) for k, v in answers.items()}})
    return answers


def _temperature_groups(questions: tuple[Question, ...], finished: dict[str, str]) -> list[tuple[float, list[Question]]]:
    groups: dict[float, list[Question]] = {}
    for question in questions:
        if str(question.question_id) not in finished:
            groups.setdefault(temperature_for(question.category), []).append(question)
    return sorted(groups.items())


def _messages(question: Question, turn: int, turn1: dict[str, str]) -> list[dict[str, str]]:
    messages = [{"role": "user", "content": question.turns[0]}]
    if turn == 2:
        messages += [{"role": "assistant", "content": turn1[str(question.question_id)]},
                     {"role": "user", "content": question.turns[1]}]
    return messages


def _sampling(config, settings: AnswerSettings, temperature: float):
    if temperature < GREEDY_BELOW:
        return replace(config, do_sample=False, max_new_tokens=settings.max_new_tokens)
    return replace(config, do_sample=True, temperature=temperature, top_p=1.0, max_new_tokens=settings.max_new_tokens)


def _load(model_path: str, settings: AnswerSettings,
          revision: str | None) -> tuple[Any, Callable[[list[dict[str, str]]], str]]:
    from spin_bench.inference.checkpoints import load_tokenizer
    from spin_bench.inference.config import GenerationConfig
    from spin_bench.inference.generation import make_generator

    model = ResolvedModel(path=model_path, revision=revision)
    config = GenerationConfig(backend=settings.backend, max_new_tokens=settings.max_new_tokens,
                              batch_size=settings.batch_size, tensor_parallel_size=settings.tensor_parallel_size)
    generator = make_generator(model, config, settings.precision)
    tokenizer = getattr(generator, "tokenizer", None) or load_tokenizer(model)
    return generator, _renderer(tokenizer, settings_for_model(settings, model_path).template)


def _renderer(tokenizer, template: str) -> Callable[[list[dict[str, str]]], str]:
    check_template(template)
    if template == CHAT_TEMPLATE:
        from spin_bench.inference.config import PromptFormat
        from spin_bench.inference.prompts import render_prompt

        if not getattr(tokenizer, "chat_template", None):
            raise UserError("the model's tokenizer has no chat template; pass --mt-bench-template fastchat:<name>")
        return lambda messages: render_prompt(tokenizer, messages, PromptFormat.CHAT_TEMPLATE)
    return fastchat_renderer(tokenizer, template.removeprefix(FASTCHAT_PREFIX))


def settings_for_model(settings: AnswerSettings, model_path: str) -> AnswerSettings:
    """The settings one model answers with: ``fastchat:auto`` becomes the template FastChat matches for it, so
    the answer and evaluation keys, and the stored provenance, name the template really used."""
    if settings.template != FASTCHAT_AUTO:
        return settings
    name, _ = match_fastchat_template([model_path, *_recorded_base_model(model_path)])
    return replace(settings, template=FASTCHAT_PREFIX + name)


def _recorded_base_model(model_path: str) -> list[str]:
    """The model a spin-bench checkpoint's recipe started from (its spin_config.json), for FastChat's matching:
    a checkpoint's own path (runs/x/iter1) rarely names the model family, its recipe's model does."""
    config = Path(model_path) / "spin_config.json"
    if not config.is_file():
        return []
    try:
        return [str(json.loads(config.read_text(encoding="utf-8"))["recipe"]["model"]["path"])]
    except (KeyError, TypeError, ValueError):  # not a spin-bench checkpoint's file after all
        return []
