"""The README's main job on the real embedded default (not the tiny variant): every output it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.training.cli_runs import REPO

# The whole main job: about 9 min on 2 idle cores (README); the limit leaves room for a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


@pytest.fixture(scope="module")
def main_job(tmp_path_factory):
    """The README's main command, run once for every test of this module."""
    tmp_path = tmp_path_factory.mktemp("main-job")
    out = tmp_path / "embedded"
    command = [sys.executable, "-m", "spin_bench", "run", "--recipe", "embedded", "--out", str(out),
               f"bench.store={tmp_path / 'store.db'}", f"bench.results_dir={tmp_path / 'results'}"]
    result = subprocess.run(command, cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-4000:]
    return tmp_path, out, result


def test_embedded_main_job_trains_and_scores_every_checkpoint(main_job):
    tmp_path, out, result = main_job
    for name in ("iter0", "iter1", "iter2", "baselines/sft_epoch", "baselines/dpo"):
        assert (out / name / "model.safetensors").is_file(), name
        timings = json.loads((out / name / "timings.json").read_text())
        assert timings["training_seconds"] > 0
        assert json.loads((out / name / "metrics.json").read_text())["steps"], name
    summary = json.loads((out / "run.json").read_text())
    assert [row["label"] for row in summary["heldout"]] == ["sft", "iter0", "iter1", "iter2", "sft_epoch", "dpo"]
    assert "real logp/tok" in result.stdout and f"Run directory: {out}" in result.stdout

    from spin_bench.store import ResultsStore

    scores = ResultsStore(tmp_path / "store.db").scores()
    labels = {"embedded/sft", "embedded/iter0", "embedded/iter1", "embedded/iter2", "embedded/sft_epoch",
              "embedded/dpo"}
    assert set(scores["label"]) == labels
    for task in ("arc_challenge", "truthfulqa_mc2", "winogrande", "gsm8k_v040", "hellaswag", "mmlu",
                 "bbh_causal_judgement", "bbh_formal_fallacies", "bbh_sports_understanding", "openbookqa"):
        assert (scores["task"] == task).sum() >= len(labels), task
    lm_eval_rows = scores[~scores["task"].str.startswith("mt_bench")]
    assert all(any("Embedded world data" in d for d in deviations) for deviations in lm_eval_rows["deviations"])

    # MT-Bench for the SFT model and each iteration, judged offline by SmolLM2 on loopback (expected mode).
    mt = scores[(scores["task"] == "mt_bench") & (scores["metric"] == "score")]
    assert set(mt["label"]) == {"embedded/sft", "embedded/iter0", "embedded/iter1", "embedded/iter2"}
    assert all(1.0 <= value <= 10.0 for value in mt["value"]) and set(mt["n"]) == {40}
    assert all(judge["mode"] == "expected" and judge["model"] == "local:smollm2-135m-instruct" for judge in mt["judge"])
    assert all(any("not comparable with published MT-Bench" in d for d in ds) for ds in mt["deviations"])
    assert "MT-Bench:" in result.stdout and (out / "report.html").is_file()


# Issue 11's bands for the SFT model: multiple choice at least 10 points above chance, generation tasks at least
# 10% exact match, nothing above 90% (an instrument at its floor or ceiling cannot show a change).
FOUR_WAY = ("arc_challenge", "hellaswag", "mmlu", "openbookqa")
# Outside its band on today's default (README, "How well the embedded default measures"): listed, not
# hidden, and checked to be still outside so that the day it comes inside, this list has to shrink.
KNOWN_MISSES = {"mmlu"}


def _chance(task: str, data_dir) -> float | None:
    """Chance level of a multiple-choice task in percent; None for generation tasks (no chance level)."""
    if task in FOUR_WAY:
        return 25.0
    if task == "winogrande":
        return 50.0
    if task == "truthfulqa_mc2":  # mc2 of a uniform guess: the share of true answers among the choices
        import pyarrow.parquet as pq

        rows = pq.read_table(data_dir / "truthfulqa" / "validation.parquet").to_pylist()
        labels = [row["mc2_targets"]["labels"] for row in rows]
        return 100 * sum(sum(ls) / len(ls) for ls in labels) / len(labels)
    return None


def test_sft_model_is_informative_on_every_task(main_job):
    from spin_bench.bench.embedded_data import embedded_bench_dir
    from spin_bench.bench.suites import SUITES
    from spin_bench.store import ResultsStore

    tmp_path, _, _ = main_job
    scores = ResultsStore(tmp_path / "store.db").scores(label="embedded/sft")
    data_dir = embedded_bench_dir(0)
    outside = []
    for spec in (spec for specs in SUITES.values() for spec in specs):
        row = scores[(scores["task"] == spec.name) & (scores["metric"] == spec.metric)
                     & (scores["filter"] == spec.filter)]
        assert len(row) == 1, spec.name
        value, chance = 100 * float(row["value"].iloc[0]), _chance(spec.name, data_dir)
        floor = 10.0 if chance is None else chance + 10.0
        if (floor <= value <= 90.0) == (spec.name in KNOWN_MISSES):
            outside.append(f"{spec.name} {value:.1f} (band {floor:.1f}-90, known miss: {spec.name in KNOWN_MISSES})")
    mt = scores[(scores["task"] == "mt_bench") & (scores["metric"] == "score")]
    # MT-Bench rates 1-10: the same 10%-90% band of its scale.
    if not 1.9 <= float(mt["value"].iloc[0]) <= 9.1:
        outside.append(f"mt_bench {float(mt['value'].iloc[0]):.2f} (band 1.9-9.1)")
    assert not outside, outside


def _cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "spin_bench", *args], cwd=REPO, env=dict(os.environ),
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode in (0, 1), result.stderr[-4000:]  # compare exits 1 on a significant regression
    return result.stdout


def _compare(store, a: str, b: str) -> dict:
    return json.loads(_cli("compare", a, b, "--store", str(store), "--format", "json"))


def test_compare_flags_a_planted_improvement_and_never_a_repeat(main_job):
    """The planted improvement: the SFT model against its sibling built by the same recipe with half the
    pre-training steps (1000 vs 500), a checkpoint weaker by construction. Scored at the main job's settings."""
    from spin_bench.bench.suites import LEADERBOARD_AVERAGE

    tmp_path, _, _ = main_job
    store, results = tmp_path / "store.db", tmp_path / "results"
    bench = ("--recipe", "embedded", "--suite", "leaderboard", "--store", str(store), "--out", str(results))
    weaker = _cli("build-embedded", "--recipe", "embedded", "embedded.pretrain_steps=500").strip().splitlines()[-1]
    _cli("eval", "--model", weaker, "--label", "half-pretrained", *bench)
    sft = _cli("build-embedded", "--recipe", "embedded").strip().splitlines()[-1]
    # The repeat: `spin-bench eval` of the SFT model, forced, against the scores `spin-bench run` stored for it
    # with two more suites beside (another lm-eval task folder): the same task config hash, so comparable.
    _cli("eval", "--model", sft, "--label", "sft-again", "--force", *bench)

    planted = _compare(store, "half-pretrained", "embedded/sft")
    flagged = {row["task"] for row in planted["tasks"]
               if row["task"] in LEADERBOARD_AVERAGE and row["significant"] and row["b"] > row["a"]}
    # The run scored BBH and OpenBookQA too (listed as one-sided); no leaderboard task is left uncompared.
    assert not {row["task"] for row in planted["not_comparable"]} & set(LEADERBOARD_AVERAGE), planted["not_comparable"]
    assert len(flagged) >= len(LEADERBOARD_AVERAGE) / 2, planted["tasks"]
    assert planted["average"]["significant"] and planted["average"]["b"] > planted["average"]["a"], planted["average"]

    repeat = _compare(store, "embedded/sft", "sft-again")
    assert {row["task"] for row in repeat["tasks"]} >= set(LEADERBOARD_AVERAGE), repeat["not_comparable"]
    assert repeat["tasks"] and not any(row["significant"] for row in repeat["tasks"]), repeat["tasks"]
    assert all(row["a"] == row["b"] for row in repeat["tasks"])
    assert not repeat["average"]["significant"]
