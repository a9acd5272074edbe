"""`spin-bench ablate`'s pure parts: the typed ablations section, the labels the report reads, nested sampling."""

from __future__ import annotations

from pathlib import Path

import pytest

from spin_bench.cli import main
from spin_bench.core.enums import LossKind
from spin_bench.core.errors import ConfigError
from spin_bench.core.names import CheckpointName, Kind
from spin_bench.recipe import load_recipe
from training.ablations import epoch_checkpoints, nested_subset
from training.config import Study
from training.data import PreferencePair, load_sft
from training.spin_iteration import IterationPairs


def test_builtin_recipes_carry_the_papers_ablation_settings():
    paper = load_recipe("paper-zephyr-7b").ablations.studies
    assert paper.epochs.max_epochs == 5
    assert paper.size.sizes == (14_000, 26_000, 50_000) and paper.size.epochs == 1.0 and paper.size.sft_epochs == 2
    assert paper.loss.losses == tuple(LossKind) and paper.loss.betas == (0.1, 5.0)
    assert load_recipe("paper-zephyr-7b").train.spin_data.num_samples == max(paper.size.sizes)
    embedded = load_recipe("embedded")
    # The largest size is the main run's prompt count, so the size study reuses the main run's pairs.
    assert max(embedded.ablations.studies.size.sizes) == embedded.train.spin_data.num_samples
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


def test_study_checkpoints_are_named_by_the_grammar():
    """Every name a study writes parses back to what it is; directories keep the stage's own name."""
    assert epoch_checkpoints(Path("iter0"), 3, lambda k: CheckpointName.of_epoch(0, k)) == {
        "iter0-epoch1": Path("iter0-epoch1"), "iter0-epoch2": Path("iter0-epoch2"), "iter0-epoch3": Path("iter0")}
    assert epoch_checkpoints(Path("sft_continued"), 2, CheckpointName.of_sft_curve) == {
        "sft-epoch1": Path("sft_continued-epoch1"), "sft-epoch2": Path("sft_continued")}
    assert CheckpointName.of_loss(LossKind.HINGE, 5.0).format() == "loss-hinge-beta5"
    assert CheckpointName.of_loss("linear", 0.1).format() == "loss-linear-beta0.1"
    for loss in LossKind:
        name = CheckpointName.parse(CheckpointName.of_loss(loss, 0.01).format())
        assert (name.kind, name.loss, name.beta) == (Kind.LOSS, loss, 0.01)
    assert {s.value for s in Study} == {"epochs", "size", "loss"}


def test_larger_samples_contain_smaller_ones_and_subsets_are_prefixes():
    rows = {n: load_sft(load_recipe("embedded", [f"spin_data.num_samples={n}"]).train.spin_data, 42).rows
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
