"""The whole training half through the CLI on the tiny embedded model: outputs, provenance, caching."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.training.cli_runs import run_train

pytestmark = pytest.mark.slow

MODEL_FILES = ("model.safetensors", "config.json", "tokenizer.json", "spin_config.json", "metrics.json",
               "timings.json", "stage.json")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_sft_model):
    out = tmp_path_factory.mktemp("run") / "tiny"
    run_train(out, "baselines.dpo.spin_dpo=true", "baselines.dpo.spin_dpo_epochs=1")
    return out


def test_every_stage_leaves_a_complete_model_directory(tiny_run):
    for name in ("iter0", "iter1", "baselines/sft_epoch", "baselines/dpo", "baselines/spin_dpo"):
        directory = tiny_run / name
        missing = [f for f in MODEL_FILES if not (directory / f).is_file()]
        assert not missing, f"{name} lacks {missing}"
    assert not list(tiny_run.rglob("*.partial")), "no scratch files may survive a finished run"
    assert not (tiny_run / ".work").exists() or not any((tiny_run / ".work").iterdir())


def test_pairs_hold_one_row_per_prompt_with_provenance(tiny_run):
    for t in (0, 1):
        pairs = pd.read_parquet(tiny_run / "pairs" / f"iter{t}" / "pairs.parquet")
        assert len(pairs) == 16 and pairs["prompt_id"].is_unique
        assert list(pairs.columns) == ["prompt_id", "prompt", "real", "generated", "row"]
        provenance = json.loads((tiny_run / "pairs" / f"iter{t}" / "provenance.json").read_text())
        assert provenance["opponent_label"] == ("sft" if t == 0 else "iter0")
        assert provenance["generation"]["do_sample"] is False and provenance["opponent"]["content_hash"]


def test_iterations_chain_and_mix_the_previous_pairs(tiny_run):
    first = json.loads((tiny_run / "iter0" / "spin_config.json").read_text())
    second = json.loads((tiny_run / "iter1" / "spin_config.json").read_text())
    assert first["pairs"] == 16 and first["pairs_from"] == ["iter0"]
    assert second["pairs"] == 32 and second["pairs_from"] == ["iter0", "iter1"]
    assert second["opponent"]["path"] == str(tiny_run / "iter0")
    assert second["recipe"]["spin"]["loss"] == "logistic"


def test_metrics_and_timings_per_step_and_stage(tiny_run):
    metrics = json.loads((tiny_run / "iter0" / "metrics.json").read_text())
    step = metrics["steps"][0]
    for key in ("loss", "rewards/real", "rewards/generated", "rewards/margins", "rewards/accuracies",
                "logps/real", "logps/generated", "learning_rate"):
        assert key in step, key
    assert step["loss"] == pytest.approx(0.6931, abs=1e-3)  # policy == reference at the first step
    timings = json.loads((tiny_run / "iter1" / "timings.json").read_text())
    assert timings["generation_seconds"] > 0 and timings["training_seconds"] > 0
    dpo_metrics = json.loads((tiny_run / "baselines" / "dpo" / "metrics.json").read_text())
    assert "rewards/chosen" in dpo_metrics["steps"][0]  # DPO keeps TRL's names


def test_heldout_monitor_reports_every_checkpoint(tiny_run):
    summary = json.loads((tiny_run / "run.json").read_text())
    rows = {row["label"]: row for row in summary["heldout"]}
    assert set(rows) == {"sft", "iter0", "iter1", "sft_epoch", "dpo", "spin_dpo"}
    assert rows["iter1"]["reference"] == "iter0" and rows["spin_dpo"]["reference"] == "iter1"
    for label, row in rows.items():
        assert row["real_logp_per_token"] < 0
        if label != "sft":
            assert 0 <= row["accuracy"] <= 1 and row["heldout_prompts"] == 8


def test_rerun_skips_finished_stages_and_a_changed_stage_reruns_alone(tiny_run):
    marker = {name: (tiny_run / name / "stage.json").stat().st_mtime_ns
              for name in ("iter0", "iter1", "baselines/dpo")}
    pairs0 = (tiny_run / "pairs" / "iter0" / "stage.json").stat().st_mtime_ns
    run_train(tiny_run, "baselines.dpo.spin_dpo=true", "baselines.dpo.spin_dpo_epochs=1")
    assert {n: (tiny_run / n / "stage.json").stat().st_mtime_ns for n in marker} == marker
    run_train(tiny_run, "baselines.dpo.spin_dpo=true", "baselines.dpo.spin_dpo_epochs=1",
              "spin.iterations.1.beta=0.2")
    assert (tiny_run / "iter0" / "stage.json").stat().st_mtime_ns == marker["iter0"]
    assert (tiny_run / "pairs" / "iter0" / "stage.json").stat().st_mtime_ns == pairs0
    assert (tiny_run / "iter1" / "stage.json").stat().st_mtime_ns != marker["iter1"]
    assert json.loads((tiny_run / "iter1" / "spin_config.json").read_text())["beta"] == 0.2
