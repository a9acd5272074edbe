"""run.json: the typed summary round-trips, reads the previous format, and a bad file is one line naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spin_bench.core.errors import UserError
from spin_bench.core.run_layout import (
    CheckpointEntry,
    HeldoutRow,
    RunLayout,
    RunSummary,
    epoch_dir,
)


def _summary() -> RunSummary:
    return RunSummary(
        recipe="embedded",
        checkpoints={"sft": CheckpointEntry(path="/cache/embedded/abc/sft", content_hash="abc"),
                     "iter0": CheckpointEntry(path="iter0"), "dpo": CheckpointEntry(path="baselines/dpo")},
        heldout=(HeldoutRow(label="sft", heldout_prompts=8, real_logp_per_token=-1.2),
                 HeldoutRow(label="iter0", heldout_prompts=8, real_logp_per_token=-1.3, reference="sft", beta=0.1,
                            margin=0.2, accuracy=0.75, logratio_margin=2.0)),
        seconds={"wall": 12.5})


def test_the_summary_round_trips_through_json(tmp_path):
    summary = _summary()
    path = tmp_path / "run.json"
    path.write_text(json.dumps(summary.to_json()), encoding="utf-8")
    assert RunSummary.read(path) == summary
    assert [str(n) for n in summary.names()] == ["sft", "iter0", "dpo"] and summary.iteration_names() == ["iter0"]


def test_a_hub_model_keeps_its_id_and_revision(tmp_path):
    entry = CheckpointEntry(path="alignment-handbook/zephyr-7b-sft-full", hub=True, revision="ac6e600")
    assert entry.location(tmp_path) == "alignment-handbook/zephyr-7b-sft-full"
    assert CheckpointEntry(path="iter0").location(tmp_path) == str(tmp_path / "iter0")


def test_directories_inside_the_run_are_recorded_relative_to_it(tmp_path):
    assert CheckpointEntry.for_directory(tmp_path / "iter1", tmp_path).path == "iter1"
    outside = tmp_path.parent / "elsewhere"
    assert CheckpointEntry.for_directory(outside, tmp_path).path == str(outside.resolve())


def test_the_previous_format_still_reads(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({
        "recipe": "paper", "run_dir": "runs/paper", "wall_seconds": 3.0,
        "sft_model": {"path": "org/model", "revision": "r1", "content_hash": "hub:org/model@r1"},
        "checkpoints": {"sft": "org/model", "iter0": "iter0"},
        "heldout": [{"label": "iter0", "heldout_prompts": 4, "real_logp_per_token": -1.0, "margin": 0.1}]}))
    summary = RunSummary.read(path)
    assert summary.checkpoints["sft"] == CheckpointEntry(path="org/model", hub=True, revision="r1",
                                                         content_hash="hub:org/model@r1")
    assert summary.checkpoints["iter0"] == CheckpointEntry(path="iter0") and summary.seconds == {"wall": 3.0}
    assert summary.heldout[0].margin == 0.1


@pytest.mark.parametrize(("text", "needle"), [
    ("{not json", "not valid JSON"), ("[1, 2]", "expected a JSON object"), ('{"checkpoints": {"sft": "x"}}', "recipe"),
    ('{"recipe": "r"}', "no 'checkpoints'"), ('{"recipe": "r", "checkpoints": {"model": "x"}}', "'model' is not a "
                                              "checkpoint name"),
    ('{"recipe": "r", "checkpoints": {"sft": {"where": "x"}}}', "checkpoints.sft"),
    ('{"recipe": "r", "checkpoints": {"sft": {"path": "x", "colour": 1}}}', "unknown key(s) colour"),
    ('{"recipe": "r", "checkpoints": {"sft": "x"}, "heldout": {}}', "heldout"),
])
def test_a_bad_run_json_is_one_line_naming_the_file(tmp_path, text, needle):
    path = tmp_path / "run.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as info:
        RunSummary.read(path)
    message = str(info.value)
    assert message.startswith(str(path)) and needle in message and "\n" not in message


def test_the_layout_names_every_place():
    layout = RunLayout(Path("/runs/x"))
    assert str(layout.pairs_dir(2)) == "/runs/x/pairs/iter2" and str(layout.iteration_dir(0)) == "/runs/x/iter0"
    assert str(layout.baseline_dir("spin_dpo")) == "/runs/x/baselines/spin_dpo"
    assert str(layout.study_dir("loss")) == "/runs/x/ablations/loss"
    assert str(epoch_dir(layout.iteration_dir(0), 3)) == "/runs/x/iter0-epoch3"
