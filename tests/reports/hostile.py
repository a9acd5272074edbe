"""A run whose every text that reaches the report carries markup: labels, MT-Bench categories, task and
metric names, deviations, judge names and model text (generated answers, MT-Bench questions and answers).

Every injection holds a marker starting with ``PWN`` and points at ``evil.test``. Rendered as text, a marker
always follows the literal ``>`` of its own tag; rendered live (by the browser or by plotly's pseudo-HTML),
the marker is an element's first text and the host sits in an href, src or style attribute.
"""

from __future__ import annotations

import json
from pathlib import Path

from spin_bench.store import ResultsStore
from tests.reports.test_report import LEADERBOARD_TASKS, RUN, add_scores, make_run

HOST = "evil.test"
SPAN = f'<span style="background:url(https://{HOST}/span.png)">PWN-span</span>'
LINK = f'<a href="https://{HOST}/link">PWN-link</a>'
BOLD = "<b>PWN-bold</b>"
IMG = f"<img src=\"https://{HOST}/img.png\" onerror=\"document.body.setAttribute('data-pwned','img')\">PWN-img"
SCRIPT = "<script>document.body.setAttribute('data-pwned','script')</script>PWN-script"
HOSTILE_LABEL = f"{RUN}/{SPAN}"  # a label outside the checkpoint grammar: history, radar, provenance
CATEGORIES = (LINK, BOLD, "writing")  # MT-Bench categories (tasks mt_bench_<category>)
TASK, METRIC = f"task {IMG}", f"metric {LINK}"
DEVIATION = f"deviation {SPAN} {LINK} {SCRIPT}"
JUDGE = {"model": f"judge {LINK}", "mode": f"mode {BOLD}"}


def make_hostile_run(tmp: Path) -> tuple[Path, Path]:
    """make_run's store and run directory, plus the hostile label, categories, task, metric and judge."""
    db, run_dir = make_run(tmp, deviation=DEVIATION)
    with ResultsStore(db) as store:
        for checkpoint, offset in (("sft", 0.0), (SPAN, 1.0)):
            results = _mt_bench_results(tmp / f"mt_bench_{offset:g}.json", checkpoint)
            categories = {f"mt_bench_{category}": 5.0 + offset + k for k, category in enumerate(CATEGORIES)}
            add_scores(store, tmp, checkpoint, "mt_bench", categories, judge=JUDGE, results_path=results,
                       key=":categories")
        add_scores(store, tmp, SPAN, "leaderboard", dict.fromkeys(LEADERBOARD_TASKS, 0.5), deviation=DEVIATION)
        add_scores(store, tmp, "sft", "custom", {TASK: 0.5}, metric=METRIC, key=":hostile-task")
    return db, run_dir


def _mt_bench_results(path: Path, checkpoint: str) -> Path:
    """An MT-Bench results file as spin_bench.mtbench writes it, every text hostile."""
    judgments = [{"question_id": 81, "turn": turn, "category": f"category {LINK}", "question": f"question {IMG}",
                  "answer": f"answer of {checkpoint} {SCRIPT} {SPAN}", "score": 6.5} for turn in (1, 2)]
    path.write_text(json.dumps({"judge": JUDGE, "judgments": judgments}), encoding="utf-8")
    return path
