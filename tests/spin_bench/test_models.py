"""What `--model` expands to: a run directory whose SFT model is a Hub id (the paper recipe) included."""

import json

import pytest

from spin_bench.core.errors import UserError
from spin_bench.inference.models import expand_models


def _run(tmp_path, checkpoints, sft_model):
    (tmp_path / "iter0").mkdir()
    (tmp_path / "iter0" / "config.json").write_text("{}")
    (tmp_path / "run.json").write_text(json.dumps({"recipe": "paper", "checkpoints": checkpoints,
                                                   "sft_model": sft_model}))
    return tmp_path


def test_hub_sft_model_keeps_its_id_and_revision(tmp_path):
    hub = "alignment-handbook/zephyr-7b-sft-full"
    run = _run(tmp_path, {"sft": hub, "iter0": "iter0"},
               {"path": hub, "revision": "ac6e600", "gguf_file": None, "content_hash": "hub-hash"})
    sft, iter0 = expand_models([str(run)])
    assert (sft.path, sft.revision, sft.model_hash, sft.label) == (hub, "ac6e600", "hub-hash", "paper/sft")
    assert sft.iteration is None and (iter0.label, iter0.iteration, iter0.revision) == ("paper/iter0", 0, None)


def test_missing_local_checkpoint_is_still_an_error(tmp_path):
    run = _run(tmp_path, {"sft": "sft", "iter0": "iter0"}, {"path": "/gone/sft", "content_hash": "x"})
    with pytest.raises(UserError, match=r"run.json: checkpoint sft at .*/sft is missing"):
        expand_models([str(run)])
