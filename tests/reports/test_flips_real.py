"""`spin-bench compare --flips` and `--baseline` on real lm-eval per-sample logs of the embedded model.

Two real checkpoints (the tiny embedded SFT model and the pretrained model it was fine-tuned from) are evaluated by
lm-eval through spin-bench's own evaluation path. The flips the CLI lists are checked against the samples
files read here directly (not through reports.samples) and against McNemar's p. For --baseline, the same
checkpoint evaluated again under another label is a copy of the baseline (never flagged), and a
regression is planted by storing the baseline's own logs with every right Winogrande answer made wrong.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from scipy.stats import binomtest

from spin_bench.store import EvaluationRecord, ResultsStore, ScoreRecord
from tests.bench.conftest import evaluate

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TASKS = ("leaderboard", "arc_challenge,winogrande,gsm8k_v040")
METRICS = {"arc_challenge": "acc_norm", "winogrande": "acc", "gsm8k_v040": "exact_match"}
FILTERS = {"arc_challenge": "none", "winogrande": "none", "gsm8k_v040": "get-answer"}
SCRIPT = "<script>document.body.setAttribute('data-pwned','flip')</script>"


@pytest.fixture(scope="module")
def store(tiny_sft_model, tmp_path_factory) -> Path:
    """Labels: sft (the baseline), again (sft evaluated again), pretrained (the checkpoint SFT started from:
    a real, different model the embedded build keeps beside it), planted (a regression planted in sft's logs)."""
    tmp = tmp_path_factory.mktemp("flips-real")
    db = tmp / "store.db"
    pretrained = Path(tiny_sft_model).parent / "pretrained"
    assert (pretrained / "config.json").is_file(), "the embedded build no longer keeps its pretrained stage"
    # 16 new tokens: GSM8K's own 256 would make this the slowest test for no gain (a deviation both sides share).
    settings = {"batch_size": 16, "max_gen_toks": 16, "limit": 30}
    # One lm-eval session for both checkpoints (labelled by their directory names: sft, pretrained).
    evaluate([tiny_sft_model, pretrained], TASKS, db, tmp / "both", **settings)
    evaluate([tiny_sft_model], TASKS, db, tmp / "again", label="again", force=True, **settings)
    _plant_regression(db, tmp / "planted")
    return db


def _plant_regression(db: Path, directory: Path) -> None:
    """The baseline's evaluation again, with its Winogrande log's right answers all made wrong, a changed
    batch size (a setting the provenance diff must name) and ARC's task config changed (not comparable)."""
    def wrong(line: dict) -> None:
        line["acc"] = 0.0

    store_edited_copy(db, "sft", "planted", directory, "winogrande", wrong, batch_size=64,
                      configs={"arc_challenge": "changed"})


def store_edited_copy(db: Path, label: str, new_label: str, directory: Path, task: str, edit, *,
                      configs: dict[str, str] | None = None, **changes) -> None:
    """Store ``label``'s newest evaluation again as ``new_label``: its samples copied to ``directory`` with
    ``edit`` applied to every line of ``task``'s file, evaluation fields ``changes`` and task ``configs``."""
    with ResultsStore(db) as handle:
        evaluation = handle.evaluations(label=label).iloc[-1].to_dict()
        scores = handle.scores(labels=[label])
    directory.mkdir()
    for path in Path(evaluation["samples_path"]).glob("samples_*.jsonl"):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if path.name.startswith(f"samples_spin_{task}_"):
            for line in lines:
                edit(line)
        (directory / path.name).write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    fields = {name: evaluation[name] for name in EvaluationRecord.__dataclass_fields__ if name in evaluation}
    limit = None if evaluation["limit"] != evaluation["limit"] else evaluation["limit"]  # NaN in the frame
    record = EvaluationRecord(**{**fields, "eval_key": new_label, "label": new_label, "limit": limit, "iteration": None,
                                 "samples_path": str(directory), **changes})
    mine = scores[scores["evaluation_id"] == evaluation["evaluation_id"]]
    records = [ScoreRecord(task=row["task"], metric=row["metric"], filter=row["filter"], value=float(row["value"]),
                           stderr=None, n=int(row["n"]), n_shot=int(row["n_shot"]),
                           task_config_hash=(configs or {}).get(row["task"], row["task_config_hash"]),
                           data_source=row["data_source"], deviations=tuple(row["deviations"]))
               for row in mine.to_dict("records")]
    with ResultsStore(db) as handle:
        assert handle.add(record, records)


def run_compare(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spin_bench", "compare", *args, "--store", str(db), "--n-boot", "500"],
                          cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=300)


def raw_outcomes(db: Path, label: str, task: str) -> dict[object, float]:
    """doc_id -> per-document metric, read straight from the label's lm-eval samples file."""
    with ResultsStore(db) as handle:
        directory = Path(handle.evaluations(label=label).iloc[-1]["samples_path"])
    (path,) = directory.glob(f"samples_spin_{task}_*.jsonl")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {line["doc_id"]: float(line[METRICS[task]]) for line in lines if line["filter"] == FILTERS[task]}


def test_flips_are_mcnemars_discordant_pairs_on_real_logs(store: Path):
    result = run_compare(store, "sft", "pretrained", "--flips", "--max-flips", "0", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)
    tests = {task["task"]: task for task in document["tasks"]}
    (flips,) = document["flips"]
    listed = {task["task"]: task for task in flips["tasks"] if task["reason"] is None}
    assert set(listed) == set(METRICS)
    total = 0
    for task, entry in listed.items():
        a, b = raw_outcomes(store, "sft", task), raw_outcomes(store, "pretrained", task)
        lost = sorted(doc for doc in a if a[doc] == 1 and b[doc] == 0)
        gained = sorted(doc for doc in a if a[doc] == 0 and b[doc] == 1)
        assert (entry["right_to_wrong"], entry["wrong_to_right"]) == (len(lost), len(gained)), task
        assert sorted(int(i["doc"]) for i in entry["items"]["right_to_wrong"]) == lost
        assert sorted(int(i["doc"]) for i in entry["items"]["wrong_to_right"]) == gained
        # The p beside the counts is McNemar's on exactly these discordant pairs.
        expected_p = binomtest(len(gained), len(lost) + len(gained), 0.5).pvalue if lost or gained else 1.0
        assert tests[task]["p"] == pytest.approx(expected_p) == pytest.approx(entry["mcnemar_p"])
        for item in entry["items"]["right_to_wrong"] + entry["items"]["wrong_to_right"]:
            assert item["prompt"] and item["gold"] and item["a_answer"] and item["b_answer"], item
        total += len(lost) + len(gained)
    assert total > 0, "the two checkpoints flipped no item: the test would check nothing"
    gsm8k = listed["gsm8k_v040"]["items"]
    if gsm8k["right_to_wrong"] or gsm8k["wrong_to_right"]:  # generated answers: the text, not an option letter
        item = (gsm8k["right_to_wrong"] + gsm8k["wrong_to_right"])[0]
        assert "####" in item["gold"]


def test_flipped_item_text_is_escaped_in_text_and_markdown(store: Path, tmp_path: Path):
    """Model text with markup and terminal escapes in a real log: shown inert in every format."""
    def hostile(line: dict) -> None:
        line["resps"] = [[f"{SCRIPT}\x1b[2J| *bold* \u202e"]]
        line["exact_match"] = 1.0 - float(line["exact_match"])  # every item flips

    db = tmp_path / "store.db"
    with sqlite3.connect(store) as source, sqlite3.connect(db) as target:
        source.backup(target)  # the store may hold its newest rows in a WAL file beside it
    store_edited_copy(db, "sft", "hostile", tmp_path / "hostile", "gsm8k_v040", hostile)
    text = run_compare(db, "sft", "hostile", "--flips", "--max-flips", "1")
    assert text.returncode in (0, 1), text.stderr
    assert "\x1b" not in text.stdout and "\u202e" not in text.stdout
    assert "\\u001b[2J" in text.stdout and "\\u202e" in text.stdout
    markdown = run_compare(db, "sft", "hostile", "--flips", "--max-flips", "1", "--format", "markdown")
    assert "<script>" not in markdown.stdout and "\\<script\\>" in markdown.stdout
    assert "\\| \\*bold\\*" in markdown.stdout


def test_baseline_flags_the_planted_regression_and_not_the_copy(store: Path):
    result = run_compare(store, "--baseline", "sft", "again", "pretrained", "planted", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    table = json.loads(result.stdout)
    cells = {(cell["label"], cell["task"]): cell for cell in table["cells"]}
    regressed = {key for key, cell in cells.items() if cell["regressed"]}
    assert ("planted", "winogrande") in regressed
    assert not any(label == "again" for label, _ in regressed)
    for task in METRICS:
        assert cells[("again", task)]["diff"] == 0 and cells[("again", task)]["p_adjusted"] == 1.0
    # Holm across the whole table: every tested cell is corrected for all of them.
    raw = sorted(cell["p"] for cell in table["cells"])
    assert cells[("planted", "winogrande")]["p_adjusted"] == pytest.approx(min(1.0, len(raw) * raw[0]))
    # ARC's task config changed in the planted evaluation: listed as not compared, with the reason.
    (arc,) = [entry for entry in table["not_compared"] if entry["label"] == "planted" and entry["kind"] != "average"]
    assert arc["task"] == "arc_challenge" and "task_config_hash" in arc["reason"]
    # The provenance diff names the changed setting, and nothing for the copy.
    planted = {d["setting"]: d for d in table["settings_differ"]["planted"]}
    assert planted["batch size"]["a"] == "16" and planted["batch size"]["b"] == "64"
    assert "task config hash" in planted and planted["task config hash"]["tasks"] == ["arc_challenge"]
    assert table["settings_differ"]["again"] == []
    # Three of the six leaderboard tasks were scored: no Average row, and the table says why for each label.
    averages = {e["label"]: e["reason"] for e in table["not_compared"] if e["kind"] == "average"}
    assert set(averages) == {"again", "pretrained", "planted"}
    assert all(reason.startswith("needs all 6 leaderboard tasks compared") for reason in averages.values())
    assert any(d["setting"] == "model revision (hash)" for d in table["settings_differ"]["pretrained"])

    text = run_compare(store, "--baseline", "sft", "again", "planted")
    assert text.returncode == 1
    assert "regressed significantly: planted / winogrande" in text.stdout
    assert "batch size: baseline 16, this 64" in text.stdout
    assert "planted / arc_challenge: the evaluation setup differs" in text.stdout
    assert "settings that differ, sft vs again: none" in text.stdout


def test_a_copy_of_the_baseline_alone_passes(store: Path):
    result = run_compare(store, "--baseline", "sft", "again")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no significant regression" in result.stdout
