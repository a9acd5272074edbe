"""The checkpoint-name grammar: every name round-trips, nothing else parses, and labels sort in training order."""

from __future__ import annotations

import random

import pytest

from spin_bench.core.enums import LossKind
from spin_bench.core.names import (
    Baseline,
    CheckpointName,
    Kind,
    iterations_of,
    label_sort_key,
    run_label,
    split_label,
)

EVERY_KIND = [
    CheckpointName.sft(), CheckpointName.of_iteration(0), CheckpointName.of_iteration(12),
    CheckpointName.of_epoch(0, 1), CheckpointName.of_epoch(3, 5), CheckpointName.of_size(64),
    CheckpointName.of_sft_curve(2), *(CheckpointName.of_loss(loss, beta) for loss in LossKind for beta in (0.1, 5.0)),
    *(CheckpointName.of_baseline(b) for b in Baseline),
]


@pytest.mark.parametrize("name", EVERY_KIND, ids=str)
def test_every_name_round_trips(name):
    text = name.format()
    assert CheckpointName.parse(text) == name and str(name) == text
    assert split_label(run_label("embedded", name)) == ("embedded", name)


def test_the_grammar_spells_the_names_the_store_and_run_directory_hold():
    assert [n.format() for n in EVERY_KIND[:7]] == ["sft", "iter0", "iter12", "iter0-epoch1", "iter3-epoch5",
                                                    "size64", "sft-epoch2"]
    assert CheckpointName.of_loss("hinge", 5.0).format() == "loss-hinge-beta5"
    assert {CheckpointName.of_baseline(b).format() for b in Baseline} == {"sft_epoch", "dpo", "spin_dpo"}


@pytest.mark.parametrize("text", ["", "SFT", "iter", "iter-1", "iter01", "iterx", "iter0-epoch0", "size0", "size",
                                  "loss-squared-beta0.1", "loss-hinge-betax", "sft-epoch", "model", "dpo2", " sft"])
def test_anything_else_is_not_a_name(text):
    assert CheckpointName.try_parse(text) is None
    with pytest.raises(ValueError, match="not a checkpoint name"):
        CheckpointName.parse(text)


def test_constructors_refuse_impossible_names():
    for make in (lambda: CheckpointName.of_iteration(-1), lambda: CheckpointName.of_epoch(0, 0),
                 lambda: CheckpointName.of_size(0), lambda: CheckpointName.of_loss("squared", 0.1),
                 lambda: CheckpointName.of_iteration(True)):
        with pytest.raises(ValueError):
            make()


def test_labels_sort_in_training_order():
    ordered = ["embedded/sft", "embedded/iter0-epoch1", "embedded/iter0-epoch2", "embedded/iter0", "embedded/iter1",
               "embedded/iter10", "embedded/dpo", "embedded/loss-hinge-beta0.1", "embedded/sft_epoch",
               "embedded/size64", "other/sft", "zephyr-7b"]
    shuffled = ordered[:]
    random.Random(0).shuffle(shuffled)
    assert sorted(shuffled, key=label_sort_key) == ordered


def test_relations_between_names():
    assert CheckpointName.of_iteration(0).previous_stage() == CheckpointName.sft()
    assert CheckpointName.of_iteration(3).previous_stage() == CheckpointName.of_iteration(2)
    assert CheckpointName.of_baseline("dpo").previous_stage() is None
    assert [CheckpointName.parse(t).spin_steps() for t in ("sft", "iter0", "iter2", "dpo")] == [0, 1, 3, None]
    assert iterations_of(["iter2", "sft", CheckpointName.of_iteration(0), "iter0-epoch1", "junk"]) == [0, 2]
    assert CheckpointName.parse("iter4-epoch2").kind is Kind.EPOCH
