"""The README's main job on the real embedded default (not the tiny variant): every output it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.training.cli_runs import REPO

pytestmark = pytest.mark.slow


def test_embedded_recipe_leaves_three_iterations_and_the_baselines(tmp_path):
    out = tmp_path / "embedded"
    result = subprocess.run([sys.executable, "-m", "spin_bench", "run", "--recipe", "embedded", "--out", str(out)],
                            cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-4000:]
    for name in ("iter0", "iter1", "iter2", "baselines/sft_epoch", "baselines/dpo"):
        assert (out / name / "model.safetensors").is_file(), name
        timings = json.loads((out / name / "timings.json").read_text())
        assert timings["training_seconds"] > 0
        assert json.loads((out / name / "metrics.json").read_text())["steps"], name
    summary = json.loads((out / "run.json").read_text())
    assert [row["label"] for row in summary["heldout"]] == ["sft", "iter0", "iter1", "iter2", "sft_epoch", "dpo"]
    assert "real logp/tok" in result.stdout and f"Run directory: {out}" in result.stdout
