"""The README's main job on the real embedded default (not the tiny variant): every output it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.training.cli_runs import REPO

# The whole main job: about 6.5 min on 2 idle cores; the limit leaves room for a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def test_embedded_main_job_trains_and_scores_every_checkpoint(tmp_path):
    out = tmp_path / "embedded"
    command = [sys.executable, "-m", "spin_bench", "run", "--recipe", "embedded", "--out", str(out),
               f"bench.store={tmp_path / 'store.db'}", f"bench.results_dir={tmp_path / 'results'}"]
    result = subprocess.run(command, cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-4000:]
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
