"""The ablation figures (4, 5, loss/beta) and their paired tests, from a synthetic results store."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from reports import figures
from reports.ablation_figures import AblationStudy
from reports.ablation_tests import planned
from reports.report import build_report
from spin_bench.core.names import CheckpointName
from spin_bench.store import ResultsStore
from tests.reports.test_report import (
    LEADERBOARD_TASKS,
    RUN,
    add_scores,
    write_arc_samples,
)

# ARC accuracy per checkpoint: epoch 3 and the 256-pair run jump far enough to survive Holm; hinge does not.
ARC = {"sft": 0.30, "iter1": 0.60, "iter0-epoch1": 0.32, "iter0-epoch2": 0.40, "iter0-epoch3": 0.90,
       "size64": 0.31, "size256": 0.85, "sft-epoch1": 0.30, "sft-epoch2": 0.31,
       "loss-logistic-beta0.1": 0.88, "loss-hinge-beta0.1": 0.33, "loss-logistic-beta5": 0.30}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("ablations")
    db = tmp / "store.db"
    with ResultsStore(db) as store:
        for index, (checkpoint, arc) in enumerate(ARC.items()):
            samples = tmp / "samples" / checkpoint
            write_arc_samples(samples, arc, seed=index)
            scores = {task: 0.2 + 0.01 * k for k, task in enumerate(LEADERBOARD_TASKS)}
            scores["arc_challenge"] = arc
            add_scores(store, tmp, checkpoint, "leaderboard", scores, samples=samples)
    return db


@pytest.fixture(scope="module")
def scores(store_path) -> pd.DataFrame:
    with ResultsStore(store_path) as store:
        return store.scores()


def _trace(plot, name: str, index: int = 0):
    return [t for t in plot.figure.data if t.name == name][index]


def test_figure4_plots_every_epoch_from_sft_with_iteration1_stars(scores):
    plot = figures.figure4_epochs(scores, RUN)
    arc = _trace(plot, "ARC")
    assert list(arc.x) == ["SFT", "epoch 1", "epoch 2", "epoch 3"]
    assert [round(y, 2) for y in arc.y] == [30.0, 32.0, 40.0, 90.0]
    star = _trace(plot, "ARC, iteration 1")
    assert list(star.x) == ["iteration 1"] and star.y[0] == pytest.approx(60.0)
    average = _trace(plot, "Average")
    # The paper's Average, as Table 4 prints it: (90 + 21 + 22 + 23 + 24 + 25) / 6 = 34.1667 -> 34.17.
    assert average.y[-1] == 34.17
    assert "Stars: the main run's iteration 1" in plot.caption


def test_figure5_has_spin_sizes_beside_the_sft_curve(scores):
    plot = figures.figure5_sizes(scores, RUN)
    spin, sft = _trace(plot, "ARC", 0), _trace(plot, "ARC", 1)
    assert list(spin.x) == [0, 64, 256] and [round(y) for y in spin.y] == [30, 31, 85]
    assert list(sft.x) == [0, 1, 2] and [round(y) for y in sft.y] == [30, 30, 31]
    assert "No SFT curve" not in plot.caption


def test_loss_figure_has_a_line_per_loss_over_beta_and_panels_per_task(scores):
    plot = figures.figure_loss_beta(scores, RUN)
    logistic = _trace(plot, "logistic")
    assert list(logistic.x) == ["0.1", "5"] and [round(y) for y in logistic.y] == [88, 30]
    hinge = _trace(plot, "hinge")
    assert hinge.y[0] == pytest.approx(33.0) and hinge.y[1] is None  # hinge was not run at beta 5: a gap
    panels = {a.text for a in plot.figure.layout.annotations}
    assert {"ARC", "TruthfulQA", "MMLU", "Average"} <= panels
    assert len([t for t in plot.figure.data if t.name == "logistic"]) == 7  # six tasks and the Average


def test_figures_are_left_out_with_a_reason_without_their_labels(scores):
    others = scores[~scores["label"].str.contains("epoch|size|loss")]
    for builder, needle in ((figures.figure4_epochs, "iter0-epoch<k>"), (figures.figure5_sizes, "size<N>"),
                            (figures.figure_loss_beta, "loss-<loss>-beta<b>")):
        plot = builder(others, RUN)
        assert plot.figure is None and plot.reason.startswith("left out:") and needle in plot.reason
    no_scores = scores.assign(task="mt_bench_writing")
    assert figures.figure4_epochs(no_scores, RUN).reason == \
        "left out: no per-epoch checkpoint has a leaderboard score"


def _names(texts) -> dict[str, CheckpointName]:
    return {text: CheckpointName.parse(text) for text in texts}


def test_planned_comparisons():
    checkpoints = _names(ARC)
    epochs = planned(AblationStudy.EPOCHS, checkpoints)
    assert epochs[:3] == [("iter0-epoch1", "sft"), ("iter0-epoch2", "sft"), ("iter0-epoch3", "sft")]
    assert ("iter0-epoch3", "iter1") in epochs
    assert planned(AblationStudy.EPOCHS, _names(set(ARC) - {"iter1"})) == epochs[:3]
    # Epochs of a later iteration are not Figure 4's (it is about iteration 0).
    assert planned(AblationStudy.EPOCHS, _names([*ARC, "iter1-epoch1"])) == epochs
    assert planned(AblationStudy.SIZES, checkpoints) == [("size64", "sft"), ("size256", "sft"), ("sft-epoch1", "sft"),
                                                         ("sft-epoch2", "sft")]
    loss = planned(AblationStudy.LOSS, checkpoints)
    assert ("loss-hinge-beta0.1", "loss-logistic-beta0.1") in loss and ("loss-logistic-beta5", "sft") in loss
    # Every loss of LossKind is a point, against SFT and the logistic loss at its beta.
    assert ("loss-linear-beta0.1", "loss-logistic-beta0.1") in planned(
        AblationStudy.LOSS, _names([*ARC, "loss-linear-beta0.1"]))


def test_report_shows_the_three_figures_with_holm_corrected_paired_tests(store_path, tmp_path):
    out = tmp_path / "report.html"
    with ResultsStore(store_path) as store:
        build_report(store, None, RUN, out, n_boot=500)
    page = out.read_text(encoding="utf-8")
    for key in ("figure4", "figure5", "figure_loss"):
        assert f'id="plot-{key}"' in page, key
    section = page[page.index('id="figure4"'):page.index('id="figure5"')]
    assert 'class="ablation-tests"' in section and "McNemar (exact)" in section and "Holm" in section
    assert re.search(r"iter0-epoch3 − sft</td><td>\+60\.00\*", section)  # 30% -> 90% on 200 documents
    assert re.search(r"iter0-epoch1 − sft</td><td>\+2\.00 \(", section)  # 30% -> 32%: not significant
    assert "Not tested, no per-sample logs" in section  # only ARC was stored with per-sample logs
    loss = page[page.index('id="figure_loss"'):page.index('id="figure6"')]
    assert "loss-hinge-beta0.1 − loss-logistic-beta0.1" in loss


def test_task_config_hash_is_the_same_in_every_process():
    """The ablation tables pair evaluations made by different processes; lm-eval prints `!function` fields
    with a memory address, which must not make WinoGrande and HellaSwag look like a changed setup."""
    from spin_bench.bench.scores import _config_hash
    from spin_bench.bench.taskdir import BenchData

    data = BenchData(None, None)
    config = {"doc_to_text": "<function doc_to_text at 0x7f82f1a39080>", "num_fewshot": 5}
    assert _config_hash(config, data) == _config_hash(
        {**config, "doc_to_text": "<function doc_to_text at 0x7efe7e4abd80>"}, data)
    assert _config_hash(config, data) != _config_hash(
        {**config, "doc_to_text": "<function other at 0x7f82f1a39080>"}, data)
