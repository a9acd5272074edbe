"""`spin-bench track`: scores from a real results store, logged to each installed tracker and read back with
the tracker's own reader (W&B offline run file, MLflow's client, TensorBoard's EventAccumulator)."""

from __future__ import annotations

import importlib.util
import json
import struct
import sys
from pathlib import Path

import pytest

from reports.trackers import log_scores, plan_runs, trajectory_step
from spin_bench.cli import main
from spin_bench.core.errors import UserError
from spin_bench.store import EvaluationRecord, ResultsStore, ScoreRecord

# label -> (ARC acc_norm, Winogrande acc); the non-paper metric "acc" of ARC must not be logged.
TOY = {"toy/sft": (0.40, 0.60), "toy/iter0": (0.45, 0.62), "toy/iter1": (0.50, 0.65), "toy/dpo": (0.47, 0.61)}
# step = number of SPIN iterations behind the checkpoint: SFT 0, iter<t> t + 1.
STEPS = {"toy/sft": 0, "toy/iter0": 1, "toy/iter1": 2}


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


needs_wandb = pytest.mark.skipif(not _installed("wandb"), reason="wandb not installed: pip install 'spin-bench[wandb]'")
needs_mlflow = pytest.mark.skipif(not _installed("mlflow"),
                                  reason="mlflow not installed (850 MB, not in the test extra): "
                                  "pip install 'spin-bench[mlflow]'")
needs_tensorboard = pytest.mark.skipif(not _installed("tensorboard"),
                                       reason="tensorboard not installed: pip install 'spin-bench[tensorboard]'")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb-default"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb-cache"))
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb-data"))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    with ResultsStore(path) as store:
        for label, (arc, wino) in TOY.items():
            stage = label.split("/")[1]
            record = EvaluationRecord(
                eval_key=f"key-{label}", model_path=f"/runs/{label}", model_hash=f"hash-{label}", label=label,
                iteration=int(stage[4:]) if stage.startswith("iter") else None, suite="leaderboard",
                backend="hf", dtype="float32", batch_size=8, add_bos=False, lm_eval_version="0.4.13",
                results_path=f"/runs/{label}/results.json")
            common = {"filter": "none", "stderr": 0.01, "n": 100, "task_config_hash": "cfg",
                      "data_source": "embedded"}
            store.add(record, [
                ScoreRecord(task="arc_challenge", metric="acc_norm", value=arc, n_shot=25, **common),
                ScoreRecord(task="arc_challenge", metric="acc", value=0.99, n_shot=25, **common),
                ScoreRecord(task="winogrande", metric="acc", value=wino, n_shot=5, **common),
            ])
    return path


@pytest.fixture
def scores(store_path: Path):
    with ResultsStore(store_path) as store:
        return store.scores()


def expected(metric_index: int) -> dict[int, float]:
    return {STEPS[label]: values[metric_index] for label, values in TOY.items() if label in STEPS}


# ------------------------------------------------------------------ planning (no tracker needed)


def test_trajectory_step_and_plan(scores):
    assert trajectory_step("toy/sft") == ("toy", 0)
    assert trajectory_step("toy/iter0") == ("toy", 1)
    assert trajectory_step("toy/iter3") == ("toy", 4)
    assert trajectory_step("toy/iter0-epoch1") is None
    assert trajectory_step("toy/dpo") is None
    assert trajectory_step("sft") is None
    runs = {run.name: run for run in plan_runs(scores, "exp")}
    assert sorted(runs) == ["exp/toy", "exp/toy/dpo"]
    trajectory, baseline = runs["exp/toy"], runs["exp/toy/dpo"]
    assert trajectory.trajectory and not baseline.trajectory
    assert trajectory.labels == {0: "toy/sft", 1: "toy/iter0", 2: "toy/iter1"}
    assert trajectory.points[2] == {"arc_challenge/acc_norm": 0.50, "winogrande/acc": 0.65}
    assert baseline.points == {0: {"arc_challenge/acc_norm": 0.47, "winogrande/acc": 0.61}}


def test_unknown_tracker_and_empty_scores(scores, tmp_path):
    with pytest.raises(UserError, match="unknown tracker 'neptune'"):
        log_scores(scores, "neptune", tmp_path, "exp")
    with pytest.raises(UserError, match="no scores"):
        log_scores(scores.iloc[0:0], "tensorboard", tmp_path, "exp")


@pytest.mark.parametrize("tracker, modules", [
    ("wandb", ["wandb"]),
    ("mlflow", ["mlflow"]),
    ("tensorboard", ["tensorboard", "torch.utils.tensorboard"]),
])
def test_missing_package_is_a_user_error_naming_the_extra(scores, tmp_path, monkeypatch, tracker, modules):
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    with pytest.raises(UserError, match=rf"pip install 'spin-bench\[{tracker}\]'"):
        log_scores(scores, tracker, tmp_path / "out", "exp")


# ------------------------------------------------------------------ TensorBoard


@needs_tensorboard
def test_tensorboard_event_files_hold_the_steps(scores, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    line = log_scores(scores, "tensorboard", tmp_path / "tb", "exp")
    assert line.startswith("tensorboard: 2 run(s), 4 checkpoint(s)") and str(tmp_path / "tb") in line

    def read(run_dir: Path) -> EventAccumulator:
        acc = EventAccumulator(str(run_dir))
        acc.Reload()
        return acc

    trajectory = read(tmp_path / "tb" / "exp" / "toy")
    assert sorted(trajectory.Tags()["scalars"]) == ["arc_challenge/acc_norm", "winogrande/acc"]
    for tag, index in (("arc_challenge/acc_norm", 0), ("winogrande/acc", 1)):
        got = {event.step: event.value for event in trajectory.Scalars(tag)}
        assert got == pytest.approx(expected(index))
    baseline = read(tmp_path / "tb" / "exp" / "toy" / "dpo")
    assert [(e.step, e.value) for e in baseline.Scalars("arc_challenge/acc_norm")] == [(0, pytest.approx(0.47))]


# ------------------------------------------------------------------ W&B (offline)


def _wandb_records(run_file: Path):
    """The protobuf Records of an offline ``run-<id>.wandb`` file (LevelDB log format behind a 7-byte W&B
    header), decoded with wandb's own message classes."""
    from wandb.proto import wandb_internal_pb2

    data = run_file.read_bytes()
    assert data[:4] == b":W&B"
    block, pos, pending = 32768, 7, b""
    while pos + 7 <= len(data):
        room = block - pos % block
        if room < 7:  # block trailer padding
            pos += room
            continue
        length, kind = struct.unpack("<HB", data[pos + 4:pos + 7])
        chunk = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 0 and length == 0:
            continue
        pending += chunk
        if kind in (1, 4):  # FULL or LAST
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


def _wandb_runs(root: Path) -> dict[str, dict]:
    """run name -> {"history": {step: {key: value}}, "summary": {...}, "mode": ...} from the offline dirs."""
    runs = {}
    for run_dir in sorted(root.glob("offline-run-*")):
        (run_file,) = run_dir.glob("run-*.wandb")
        info: dict = {"history": {}, "summary": {}}
        for record in _wandb_records(run_file):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                info["name"] = record.run.display_name
            elif kind == "history":
                items = {item.key or "/".join(item.nested_key): json.loads(item.value_json)
                         for item in record.history.item}
                info["history"][int(items.pop("_step"))] = {k: v for k, v in items.items() if not k.startswith("_")}
            elif kind == "summary":
                for item in record.summary.update:
                    info["summary"][item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
        runs[info["name"]] = info
    return runs


@needs_wandb
def test_wandb_offline_runs_hold_the_steps(scores, tmp_path, monkeypatch):
    import wandb

    modes = []
    real_init = wandb.init

    def spy(*args, **kwargs):
        modes.append(kwargs.get("mode"))
        return real_init(*args, **kwargs)

    monkeypatch.setattr(wandb, "init", spy)
    line = log_scores(scores, "wandb", tmp_path / "wb", "exp")
    assert modes == ["offline", "offline"]  # never online: no network
    assert line.startswith("wandb: 2 run(s)") and "wandb sync" in line
    root = tmp_path / "wb" / "wandb"
    assert len(list(root.glob("offline-run-*"))) == 2 and not list(root.glob("run-*"))

    runs = _wandb_runs(root)
    assert sorted(runs) == ["exp/toy", "exp/toy/dpo"]
    history = runs["exp/toy"]["history"]
    assert sorted(history) == [0, 1, 2]
    for key, index in (("arc_challenge/acc_norm", 0), ("winogrande/acc", 1)):
        assert {step: values[key] for step, values in history.items()} == pytest.approx(expected(index))
    assert runs["exp/toy/dpo"]["history"] == {0: pytest.approx({"arc_challenge/acc_norm": 0.47,
                                                                 "winogrande/acc": 0.61})}
    assert runs["exp/toy/dpo"]["summary"]["arc_challenge/acc_norm"] == pytest.approx(0.47)


# ------------------------------------------------------------------ MLflow (sqlite store)


@needs_mlflow
def test_mlflow_sqlite_store_holds_the_steps(scores, tmp_path):
    from mlflow.tracking import MlflowClient

    line = log_scores(scores, "mlflow", tmp_path / "ml", "exp")
    uri = f"sqlite:///{tmp_path / 'ml' / 'mlflow.db'}"
    assert uri in line
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("spin-bench")
    runs = {run.info.run_name: run for run in client.search_runs([experiment.experiment_id])}
    assert sorted(runs) == ["exp/toy", "exp/toy/dpo"]
    trajectory = runs["exp/toy"].info.run_id
    for key, index in (("arc_challenge/acc_norm", 0), ("winogrande/acc", 1)):
        got = {m.step: m.value for m in client.get_metric_history(trajectory, key)}
        assert got == pytest.approx(expected(index))
    baseline = client.get_metric_history(runs["exp/toy/dpo"].info.run_id, "arc_challenge/acc_norm")
    assert [(m.step, m.value) for m in baseline] == [(0, pytest.approx(0.47))]


# ------------------------------------------------------------------ CLI


@needs_tensorboard
def test_track_cli_with_label_pattern(store_path, tmp_path, capsys):
    assert main(["track", "--to", "tensorboard", "--dest", str(tmp_path / "tb"), "--store", str(store_path),
                 "--label", "toy/iter*"]) == 0
    assert capsys.readouterr().out.startswith("tensorboard: 1 run(s), 2 checkpoint(s)")
    assert (tmp_path / "tb" / "spin-bench" / "toy").is_dir()
    assert not (tmp_path / "tb" / "spin-bench" / "toy" / "dpo").exists()


def test_track_cli_errors_are_one_line(store_path, tmp_path, capsys):
    assert main(["track", "--to", "tensorboard", "--dest", str(tmp_path / "tb"), "--store",
                 str(tmp_path / "missing.db")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["track", "--to", "tensorboard", "--dest", str(tmp_path / "tb"), "--store", str(store_path),
                 "--label", "nope/*"]) == 2
    assert "no label matches 'nope/*'" in capsys.readouterr().err
