"""Parity: the scores spin-bench stores are the ones the lm-eval CLI prints for the same model, data, task
configs and settings, to the last digit (a multiple-choice task, a generation task, and a group)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spin_bench.core.enums import Precision
from tests.bench.conftest import evaluate

pytestmark = pytest.mark.slow

TASKS = "arc_challenge,gsm8k_v040,mmlu"


def _lm_eval_cli(model: Path, task_dir: Path, out: Path, limit: int) -> dict:
    command = [sys.executable, "-m", "lm_eval", "run", "--model", "hf",
               "--model_args", f"pretrained={model},dtype=float32,add_bos_token=False",
               "--tasks", "spin_arc_challenge,spin_gsm8k_v040,spin_mmlu", "--include_path", str(task_dir),
               "--limit", str(limit), "--batch_size", "8", "--device", "cpu", "--output_path", str(out),
               "--seed", "0,1234,1234,1234"]
    result = subprocess.run(command, env={**os.environ, "TQDM_DISABLE": "1"}, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    files = sorted(out.rglob("results_*.json"))
    assert files, result.stdout[-2000:]
    return json.loads(files[-1].read_text()), result.stdout


def test_stored_scores_equal_the_lm_eval_cli(tiny_sft_model, embedded_data_dir, tmp_path):
    from spin_bench.bench.data_source import open_bench_data
    from spin_bench.bench.suites import resolve_suites, select_tasks
    from spin_bench.bench.taskdir import write_task_dir
    from spin_bench.store import ResultsStore

    limit = 6
    evaluate([tiny_sft_model], ("leaderboard", TASKS), tmp_path / "store.db", tmp_path, limit=limit,
             batch_size=8, precision=Precision.FP32)
    stored = ResultsStore(tmp_path / "store.db").scores()

    specs = tuple(s for v in select_tasks(resolve_suites("leaderboard"), TASKS).values() for s in v)
    task_dir = write_task_dir(specs, open_bench_data("embedded", specs), Path(os.environ["SPIN_BENCH_CACHE"]) / "lm-eval-tasks")
    cli, printed = _lm_eval_cli(tiny_sft_model, task_dir, tmp_path / "cli", limit)

    def stored_value(task, metric, filter_name, column="value"):
        row = stored[(stored.task == task) & (stored.metric == metric) & (stored["filter"] == filter_name)]
        assert len(row) == 1, (task, metric, filter_name)
        return row.iloc[0][column]

    checks = [("arc_challenge", "spin_arc_challenge", "acc_norm", "none"),
              ("arc_challenge", "spin_arc_challenge", "acc", "none"),
              ("gsm8k_v040", "spin_gsm8k_v040", "exact_match", "get-answer")]
    for task, cli_task, metric, filter_name in checks:
        assert stored_value(task, metric, filter_name) == cli["results"][cli_task][f"{metric},{filter_name}"]
        assert stored_value(task, metric, filter_name, "stderr") == cli["results"][cli_task][f"{metric}_stderr,{filter_name}"]
        assert stored_value(task, metric, filter_name, "n") == cli["n-samples"][cli_task]["effective"]
    # The group: lm-eval's size-weighted MMLU, and every subject.
    assert stored_value("mmlu", "acc", "none") == cli["groups"]["spin_mmlu"]["acc,none"]
    for subtask in cli["group_subtasks"]["spin_mmlu"]:
        assert stored_value(subtask.removeprefix("spin_"), "acc", "none") == cli["results"][subtask]["acc,none"]
    macro = [cli["results"][t]["acc,none"] for t in cli["group_subtasks"]["spin_mmlu"]]
    assert stored_value("mmlu", "acc_macro", "none") == pytest.approx(sum(macro) / len(macro), abs=0)
    # What the CLI prints (4 decimals) is the same number.
    assert f"{cli['results']['spin_arc_challenge']['acc_norm,none']:.4f}" in printed
