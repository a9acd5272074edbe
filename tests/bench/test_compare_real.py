"""`spin-bench compare` on real lm-eval evaluations: the same checkpoint evaluated twice is never flagged."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.conftest import evaluate

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def test_two_evaluations_of_one_checkpoint_are_not_a_regression(tiny_sft_model, tmp_path):
    store = tmp_path / "store.db"
    for label in ("first", "second"):
        evaluate([tiny_sft_model], ("leaderboard", "arc_challenge,winogrande"), store, tmp_path / label,
                 limit=20, batch_size=8)
    # The second evaluation came from the cache under the first label; store it again under a new label
    # by forcing a fresh run, as a nightly job re-evaluating an unchanged checkpoint would.
    evaluate([tiny_sft_model], ("leaderboard", "arc_challenge,winogrande"), store, tmp_path / "again",
             limit=20, batch_size=8, label="again", force=True)
    result = subprocess.run([sys.executable, "-m", "spin_bench", "compare", Path(tiny_sft_model).name, "again",
                             "--store", str(store), "--format", "json"],
                            cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    import json

    report = json.loads(result.stdout)
    assert report["tasks"] and not report["regressed"]
    for task in report["tasks"]:
        assert task["diff"] == 0 and not task["significant"], task
        # The same checkpoint answers every document alike: no discordance, so no MDE to plan from.
        assert task["mde"] is None, task
    # Two of the six leaderboard tasks: the Average is not tested, and says so.
    assert report["average"]["p"] is None and report["holm_family"] == len(report["tasks"])
    assert report["average"]["reason"].startswith("needs all 6 leaderboard tasks compared (scored for neither: ")
