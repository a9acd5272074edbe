"""`spin-bench ablate`'s pure parts: the typed ablations section, the labels the report reads, nested sampling."""

from __future__ import annotations

import pytest

from reports.ablation_figures import EPOCH, LOSS, SFT_CURVE, SIZE
from spin_bench.cli import main
from spin_bench.errors import ConfigError
from training.ablations import (
    epoch_checkpoints,
    epoch_label,
    loss_label,
    nested_subset,
    sft_curve_label,
    size_label,
)
from training.config import LossKind, Study, load_recipe
from training.data import PreferencePair, load_sft
from training.spin_iteration import IterationPairs


def test_builtin_recipes_carry_the_papers_ablation_settings():
    paper = load_recipe("paper-zephyr-7b").ablations
    assert paper.epochs.max_epochs == 5
    assert paper.size.sizes == (14_000, 26_000, 50_000) and paper.size.epochs == 1.0 and paper.size.sft_epochs == 2
    assert paper.loss.losses == tuple(LossKind) and paper.loss.betas == (0.1, 5.0)
    assert load_recipe("paper-zephyr-7b").spin_data.num_samples == max(paper.size.sizes)
    embedded = load_recipe("embedded")
    # The largest size is the main run's prompt count, so the size study reuses the main run's pairs.
    assert max(embedded.ablations.size.sizes) == embedded.spin_data.num_samples
    assert embedded.ablations.suites == "leaderboard,openbookqa"


@pytest.mark.parametrize(("override", "message"), [
    ("ablations.epochs.max_epochs=0", "max_epochs must be >= 1"),
    ("ablations.epochs.max_epochs=2.5", "expected int"),
    ("ablations.size.sizes=[128,64]", "strictly increasing"),
    ("ablations.size.sizes=[]", "at least one size"),
    ("ablations.size.sft_epochs=0", "sft_epochs must be >= 1"),
    ("ablations.loss.betas=[0.1,-1]", "beta must be > 0"),
    ("ablations.loss.betas=[0.1,0.1]", "each once"),
    ("ablations.loss.losses=[logistic,squared]", "'squared' is not one of"),
    ("ablations.epochs.epochs=3", "unknown key(s): ablations.epochs.epochs"),
    ("ablations.sizes=[1]", "unknown key(s): ablations.sizes"),
])
def test_bad_ablation_settings_fail_naming_the_key(override, message):
    with pytest.raises(ConfigError) as info:
        load_recipe("embedded", [override])
    assert message in str(info.value) and "\n" not in str(info.value)


def test_labels_are_the_ones_the_report_reads():
    assert epoch_checkpoints("iter0", 3, epoch_label) == {
        "iter0-epoch1": "iter0-epoch1", "iter0-epoch2": "iter0-epoch2", "iter0-epoch3": "iter0"}
    assert epoch_checkpoints("sft_continued", 2, sft_curve_label) == {
        "sft-epoch1": "sft_continued-epoch1", "sft-epoch2": "sft_continued"}
    assert loss_label(LossKind.HINGE, 5.0) == "loss-hinge-beta5" and loss_label("linear", 0.1) == "loss-linear-beta0.1"
    assert EPOCH.fullmatch(epoch_label(4)).group(1) == "4"
    assert SIZE.fullmatch(size_label(14_000)).group(1) == "14000"
    assert SFT_CURVE.fullmatch(sft_curve_label(2)).group(1) == "2"
    for loss in LossKind:
        match = LOSS.fullmatch(loss_label(loss, 0.01))
        assert match.group(1) == loss.value and float(match.group(2)) == 0.01
    assert {s.value for s in Study} == {"epochs", "size", "loss"}


def test_larger_samples_contain_smaller_ones_and_subsets_are_prefixes():
    rows = {n: load_sft(load_recipe("embedded", [f"spin_data.num_samples={n}"]).spin_data, 42).rows
            for n in (16, 64, 256)}
    assert rows[64][:16] == rows[16] and rows[256][:64] == rows[64]
    pairs = tuple(PreferencePair(r.prompt_id, r.prompt, r.response, "mine", r.row) for r in rows[256])
    subset = nested_subset(IterationPairs(key="k", pairs=pairs, generation_seconds=1.0), 64)
    assert [p.prompt_id for p in subset.pairs] == [r.prompt_id for r in rows[64]]
    assert subset.key != nested_subset(IterationPairs(key="k", pairs=pairs, generation_seconds=1.0), 16).key
    with pytest.raises(ValueError):
        nested_subset(IterationPairs(key="k", pairs=pairs[:8], generation_seconds=1.0), 16)


def test_bad_study_and_too_large_size_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["ablate", "--recipe", "embedded", "--study", "beta"])
    assert info.value.code == 2 and "invalid choice: 'beta'" in capsys.readouterr().err
    out = tmp_path / "run"
    code = main(["ablate", "--recipe", "embedded", "--study", "size", "--out", str(out),
                 "ablations.size.sizes=[64,999999]"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("spin-bench: error: embedded:spin: num_samples=999999") and "\n" not in err
    assert not out.exists()  # checked before anything is written
