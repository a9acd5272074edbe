"""`spin-bench eval --suite mt_bench`: answers -> judgments -> scores in the results store.

An evaluation is keyed by the model's content, the questions and judge prompts, the answer settings and
the judge's identity (model name, mode, fingerprint; not its URL, so a local judge on a new port is the
same judge). A stored key returns its scores without loading a model or starting a judge.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from spin_bench.core.errors import UserError
from spin_bench.core.hashing import stable_hash
from spin_bench.core.paths import safe_name
from spin_bench.inference.models import ModelRef
from spin_bench.mtbench.answers import (
    AnswerSettings,
    answer_key,
    generate_answers,
    settings_for_model,
)
from spin_bench.mtbench.cache import JudgmentCache
from spin_bench.mtbench.dataset import MTBenchData
from spin_bench.mtbench.judge import Judge, JudgedTurn, JudgeSettings
from spin_bench.mtbench.judges import JudgeStarter
from spin_bench.mtbench.protocol import (
    TurnScore,
    aggregate,
    judge_prompt_name,
    render_judge_user,
)
from spin_bench.mtbench.results import evaluation_record, score_records, write_results
from spin_bench.store import ResultsStore
from spin_bench.store.cache import SuiteOutcome, lookup_outcome, store_key_for

SUITE = "mt_bench"


def mt_bench_key(model: ModelRef, data: MTBenchData, answers: AnswerSettings, judge: JudgeSettings) -> str:
    return stable_hash({"model": model.model_hash, "suite": SUITE, "data": data.content_hash(),
                        "answers": asdict(answers), "judge": judge.identity(), "protocol": 1})


def evaluate_mt_bench(models: list[ModelRef], data: MTBenchData, answers: AnswerSettings, judge: JudgeSettings,
                      start_judge: JudgeStarter, store: ResultsStore, out_root: Path, work_root: Path,
                      force: bool = False) -> list[SuiteOutcome]:
    """Every model on MT-Bench; the judge is started only if some model is not in the store yet."""
    outcomes, todo = [], []
    for model in models:
        settings = settings_for_model(answers, model.path)  # fastchat:auto -> the template FastChat matches
        key = mt_bench_key(model, data, settings, judge)
        if (hit := lookup_outcome(store, key, model, SUITE, force)) is not None:
            outcomes.append(hit)
        else:
            todo.append((model, key, settings))
    if not todo:
        return outcomes
    # Every model answers before the judge starts: the judge and a generating model never share the CPU.
    answered = [(model, key, settings, *answer_model(model, data, settings, work_root)) for model, key, settings in todo]
    cache = JudgmentCache(work_root / "mt-bench-judgments.sqlite")
    try:
        unreachable: list[tuple[str, list[JudgedTurn]]] = []
        with start_judge() as live:
            judge_client = Judge(live, cache)
            for model, key, settings, model_answers, seconds in answered:
                started = time.perf_counter()
                judged = judge_answers(judge_client, data, model_answers, model.label)
                if failed := [j for j in judged if j.judgment.retryable]:
                    unreachable.append((model.label, failed))  # no score from a partly judged model
                    continue
                outcomes.append(_store(model, key, data, settings, live, model_answers, judged, store, out_root,
                                       force, {"answer_seconds": seconds, "judge_seconds": time.perf_counter() - started}))
    finally:
        cache.close()
    if unreachable:
        count = sum(len(failed) for _, failed in unreachable)
        label, failed = unreachable[0]
        raise UserError(f"MT-Bench: {count} judgment(s) of {', '.join(l for l, _ in unreachable)} failed at the judge "
                        f"even after retries (first: {label} question {failed[0].question_id} turn {failed[0].turn}: "
                        f"{failed[0].judgment.error}); the other judgments are cached: rerun to ask only these again")
    return outcomes


def answer_model(model: ModelRef, data: MTBenchData, settings: AnswerSettings, work_root: Path):
    """The model's answers (from its answer file when complete, else generated) and the seconds it took."""
    started = time.perf_counter()
    path = work_root / "mt-bench-answers" / f"{answer_key(model.model_hash, data, settings)}.json"
    return generate_answers(model.path, data, settings, path, model.revision), time.perf_counter() - started


def judge_answers(judge: Judge, data: MTBenchData, answers: dict[int, tuple[str, str]], label: str) -> list[JudgedTurn]:
    """Both turns of every question, ``concurrency`` requests in flight; order of the result is stable."""
    from tqdm.auto import tqdm

    jobs = [(q, turn) for q in data.questions for turn in (1, 2)]

    def run(question, turn) -> JudgedTurn:
        name = judge_prompt_name(question.category, turn, data.reference_categories)
        prompt = data.prompts[name]
        user = render_judge_user(prompt.prompt_template, question.as_dict(), answers[question.question_id], turn)
        return JudgedTurn(question.question_id, question.category, turn, name, judge.judge(prompt.system_prompt, user))

    results: dict[tuple[int, int], JudgedTurn] = {}
    with ThreadPoolExecutor(max_workers=judge.settings.concurrency) as pool, \
            tqdm(total=len(jobs), desc=f"MT-Bench judge {label}", unit="turn", leave=False) as bar:
        futures = [pool.submit(run, q, turn) for q, turn in jobs]
        for future in as_completed(futures):
            judged = future.result()
            results[(judged.question_id, judged.turn)] = judged
            bar.update(1)
    return [results[(q.question_id, turn)] for q, turn in jobs]


def turn_scores(judged: list[JudgedTurn]) -> list[TurnScore]:
    return [TurnScore(j.question_id, j.category, j.turn, j.judgment.score) for j in judged]


def _store(model: ModelRef, key: str, data: MTBenchData, answers: AnswerSettings, judge: JudgeSettings,
           model_answers, judged: list[JudgedTurn], store: ResultsStore, out_root: Path, force: bool,
           timing: dict[str, float]) -> SuiteOutcome:
    summary = aggregate(turn_scores(judged))
    directory = out_root / safe_name(model.label) / f"mt_bench-{key[:12]}"
    results_file, samples_dir = write_results(directory.absolute(), data, model_answers, judged, summary, judge)
    scores = score_records(summary, judged, data, answers, judge)
    store_key = store_key_for(store, key, model.label, force)
    record = evaluation_record(
        model, store_key, SUITE, answers, {**judge.provenance(), "prompts_hash": data.prompts_hash()}, results_file,
        samples_dir, {**timing, "questions": len(data.questions), "judged": summary.judged, "failed": summary.failed,
                      "data_source": dict(data.source), "answer_settings": asdict(answers)})
    store.add(record, scores)
    return SuiteOutcome(model, SUITE, store_key, False, scores, timing["answer_seconds"] + timing["judge_seconds"])
