"""The run directory: where every stage of a run puts its output, and ``run.json``, the run's summary.

This module owns the layout; training writes it, the bench expands it into models to score, the reports
read it back (through :mod:`spin_bench.core.run_artifacts`). Inside a run directory:

  recipe.yaml              the resolved recipe
  run.json                 RunSummary: the run's checkpoints (name -> CheckpointEntry), held-out rows, seconds
  pairs/iter<t>/           pairs.parquet (prompt_id, prompt, real, generated, row), provenance.json, stage.json
  iter<t>/                 a trained model: safetensors + tokenizer, spin_config.json, metrics.json, timings.json
  baselines/<name>/        the same files for each baseline (sft_epoch, dpo, spin_dpo)
  monitor/                 held-out answers and scores; heldout.json
  ablations/<study>/       a study's checkpoints and its own run.json
  .work/                   resumable scratch: generation shards, trainer checkpoints
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from spin_bench.core.errors import UserError
from spin_bench.core.names import Baseline, CheckpointName, Kind

RUN_JSON = "run.json"
RECIPE_YAML = "recipe.yaml"
STAGE_FILE = "stage.json"  # a finished stage's marker, written last (see training.stages)
PAIRS_FILE = "pairs.parquet"
TIMINGS_FILE = "timings.json"
FORMAT_VERSION = 2


@dataclass(frozen=True)
class RunLayout:
    """Paths inside one run directory (the main run's, or an ablation study's)."""

    root: Path

    @property
    def summary_file(self) -> Path:
        return self.root / RUN_JSON

    @property
    def recipe_file(self) -> Path:
        return self.root / RECIPE_YAML

    @property
    def monitor_dir(self) -> Path:
        return self.root / "monitor"

    @property
    def work_root(self) -> Path:
        return self.root / ".work"

    def work_dir(self, name: str) -> Path:
        return self.work_root / name

    def pairs_dir(self, t: int) -> Path:
        return self.root / "pairs" / CheckpointName.of_iteration(t).format()

    def iteration_dir(self, t: int) -> Path:
        return self.root / CheckpointName.of_iteration(t).format()

    def baseline_dir(self, baseline: Baseline) -> Path:
        return self.root / "baselines" / Baseline(baseline).value

    def study_dir(self, study: str) -> Path:
        return self.root / "ablations" / study

    def directories_to_clean(self) -> tuple[Path, ...]:
        """Where a killed run may have left scratch siblings behind."""
        return (self.root, self.root / "pairs", self.root / "baselines")


def epoch_dir(final: Path, epoch: int) -> Path:
    """Where a stage that keeps its weights after every epoch puts epoch ``epoch`` (the last is ``final``)."""
    return final.with_name(f"{final.name}-epoch{epoch}")


# ------------------------------------------------------------------ run.json


@dataclass(frozen=True)
class CheckpointEntry:
    """Where one checkpoint of a run is: a directory (relative to the run directory, or absolute) or a
    HuggingFace Hub id pinned by ``revision``."""

    path: str
    hub: bool = False
    revision: str | None = None
    gguf_file: str | None = None
    content_hash: str | None = None  # known for the SFT model and Hub ids; the bench hashes directories itself

    @classmethod
    def for_directory(cls, directory: Path | str, run_root: Path, content_hash: str | None = None,
                      gguf_file: str | None = None) -> CheckpointEntry:
        """A directory, recorded relative to the run directory when inside it (so the run can be moved)."""
        resolved = Path(directory).resolve()
        try:
            shown = str(resolved.relative_to(run_root.resolve()))
        except ValueError:
            shown = str(resolved)
        return cls(path=shown, content_hash=content_hash, gguf_file=gguf_file)

    def location(self, run_root: Path) -> str:
        """What transformers loads: the Hub id, or the directory resolved against the run directory."""
        return self.path if self.hub else str(run_root / self.path)


@dataclass(frozen=True)
class HeldoutRow:
    """The held-out monitor's measurements of one checkpoint (training.monitor)."""

    label: str  # the checkpoint's name in the run
    heldout_prompts: int
    real_logp_per_token: float  # mean log-likelihood per token of the human answers
    reference: str | None = None  # the checkpoint it is measured against (its opponent)
    beta: float | None = None
    margin: float | None = None  # SPIN reward margin, human answer vs the reference's own answer
    accuracy: float | None = None  # share of prompts with a positive margin
    logratio_margin: float | None = None  # the margin without beta
    generated_logp_per_token: float | None = None  # the same mean, of the reference's own answers
    # Both means under the reference: the margin's log-ratios are the changes from these.
    reference_real_logp_per_token: float | None = None
    reference_generated_logp_per_token: float | None = None


@dataclass(frozen=True)
class RunSummary:
    """``run.json``: what a training run (or an ablation study) produced, in one typed record."""

    recipe: str
    checkpoints: Mapping[str, CheckpointEntry]  # checkpoint name -> where it is, in training order
    study: str | None = None
    heldout: tuple[HeldoutRow, ...] = ()
    pairs: str | None = None  # an ablation study's iteration-0 pairs directory
    seconds: Mapping[str, float] = field(default_factory=dict)  # sft_model, monitor, wall

    def __post_init__(self) -> None:
        for name in self.checkpoints:
            CheckpointName.parse(name)  # every key is a name of the grammar

    def names(self) -> list[CheckpointName]:
        return [CheckpointName.parse(name) for name in self.checkpoints]

    def iteration_names(self) -> list[str]:
        return [name for name in self.checkpoints if CheckpointName.parse(name).kind is Kind.ITERATION]

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT_VERSION, "recipe": self.recipe, "study": self.study,
                "checkpoints": {name: asdict(entry) for name, entry in self.checkpoints.items()},
                "heldout": [asdict(row) for row in self.heldout], "pairs": self.pairs, "seconds": dict(self.seconds)}

    @classmethod
    def from_json(cls, payload: Any, where: str) -> RunSummary:
        """Validate a decoded run.json; a file that does not fit raises one UserError naming ``where``."""
        if not isinstance(payload, dict):
            raise UserError(f"{where}: expected a JSON object, got {type(payload).__name__}")
        if not isinstance(payload.get("recipe"), str) or not payload["recipe"]:
            raise UserError(f"{where}: no 'recipe' (the recipe name)")
        checkpoints = payload.get("checkpoints")
        if not isinstance(checkpoints, dict) or not checkpoints:
            raise UserError(f"{where}: no 'checkpoints' (a mapping of checkpoint name to location)")
        entries = {str(name): _entry(value, payload, f"{where}: checkpoints.{name}") for name, value in checkpoints.items()}
        for name in entries:
            if CheckpointName.try_parse(name) is None:
                raise UserError(f"{where}: checkpoints: {name!r} is not a checkpoint name")
        return cls(recipe=payload["recipe"], checkpoints=entries, study=_optional_text(payload, "study", where),
                   heldout=tuple(_heldout(row, f"{where}: heldout[{i}]") for i, row in
                                 enumerate(_list(payload.get("heldout", []), f"{where}: heldout"))),
                   pairs=_optional_text(payload, "pairs", where), seconds=_seconds(payload))

    @classmethod
    def read(cls, path: Path) -> RunSummary:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"{path}: no such file") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise UserError(f"{path}: not valid JSON ({getattr(err, 'msg', err)})") from None
        return cls.from_json(payload, str(path))


def _entry(value: Any, payload: Mapping[str, Any], where: str) -> CheckpointEntry:
    if isinstance(value, str):  # format 1: a bare path; its SFT model's details were under "sft_model"
        # Format 1 wrote a local SFT model as an absolute path, so a relative one equal to it was a Hub id.
        legacy = payload.get("sft_model") or {}
        if isinstance(legacy, dict) and value == legacy.get("path") and not Path(value).is_absolute():
            return CheckpointEntry(path=value, hub=True, revision=legacy.get("revision"),
                                   content_hash=legacy.get("content_hash"))
        return CheckpointEntry(path=value)
    if not isinstance(value, dict) or not isinstance(value.get("path"), str):
        raise UserError(f"{where}: expected an object with a 'path'")
    known = {f.name for f in fields(CheckpointEntry)}
    if unknown := sorted(set(value) - known):
        raise UserError(f"{where}: unknown key(s) {', '.join(unknown)}")
    return CheckpointEntry(**value)


def _heldout(row: Any, where: str) -> HeldoutRow:
    if not isinstance(row, dict):
        raise UserError(f"{where}: expected an object")
    known = {f.name for f in fields(HeldoutRow)}
    try:
        return HeldoutRow(**{k: v for k, v in row.items() if k in known})
    except TypeError as err:
        raise UserError(f"{where}: {err}") from None


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UserError(f"{where}: expected a list")
    return value


def _optional_text(payload: Mapping[str, Any], key: str, where: str) -> str | None:
    value = payload.get(key)
    if value is not None and not isinstance(value, str):
        raise UserError(f"{where}: {key} must be a string")
    return value


def _seconds(payload: Mapping[str, Any]) -> dict[str, float]:
    if isinstance(payload.get("seconds"), dict):
        return {str(k): float(v) for k, v in payload["seconds"].items() if isinstance(v, int | float)}
    legacy = {"sft_model": "sft_model_seconds", "monitor": "monitor_seconds", "wall": "wall_seconds"}
    return {k: float(payload[v]) for k, v in legacy.items() if isinstance(payload.get(v), int | float)}
