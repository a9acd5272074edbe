"""What `spin-bench eval --model` accepts: a run directory (every checkpoint of a SPIN run), a model
directory, or a HuggingFace model id. Each becomes a labelled reference with its content hash."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spin_bench.core.errors import UserError
from spin_bench.core.hashing import directory_hash
from spin_bench.core.names import CheckpointName, Kind, run_label
from spin_bench.core.run_layout import RUN_JSON, RunSummary


@dataclass(frozen=True)
class ModelRef:
    """One model to evaluate, with the label its scores are filed under."""

    path: str
    label: str
    model_hash: str
    iteration: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    revision: str | None = None  # a Hub model's pinned revision (the paper recipe's SFT model)

    @property
    def checkpoint(self) -> CheckpointName | None:
        """The checkpoint's name when the model came from a run directory."""
        name = self.extra.get("checkpoint")
        return CheckpointName.try_parse(name) if name else None


def is_run_directory(argument: str) -> bool:
    return (Path(argument).expanduser() / RUN_JSON).is_file()


def expand_models(arguments: list[str], label: str | None = None) -> list[ModelRef]:
    """Every model the arguments name, in order; a run directory expands to its SFT model, iterations and
    baselines (labelled ``<run>/<checkpoint>``)."""
    if label and len(arguments) > 1 and not all(is_run_directory(a) for a in arguments):
        raise UserError("--label names one model; give one --model, or a run directory (its labels are derived)")
    refs: list[ModelRef] = []
    for argument in arguments:
        path = Path(argument).expanduser()
        if is_run_directory(argument):
            refs.extend(run_models(path, label))
        elif path.exists() or argument.startswith((".", "/", "~")):
            if path.is_file():
                raise UserError(f"{path}: is a file; --model takes a model directory, a run directory or a Hub id")
            if not (path / "config.json").is_file():
                raise UserError(f"{path}: not a model directory (no config.json) and not a run directory (no run.json)")
            refs.append(ModelRef(path=str(path), label=label or path.name, model_hash=directory_hash(path)))
        else:
            refs.append(ModelRef(path=argument, label=label or argument, model_hash=f"hub:{argument}"))
    return refs


def run_models(run_dir: Path, prefix: str | None = None) -> list[ModelRef]:
    """Every checkpoint of a run directory, as its run.json names them."""
    summary = RunSummary.read(run_dir / RUN_JSON)
    refs = []
    for name, entry in summary.checkpoints.items():
        checkpoint = CheckpointName.parse(name)
        label = run_label(prefix or summary.recipe, checkpoint)
        extra = {"run": str(run_dir), "checkpoint": name, "recipe": summary.recipe}
        iteration = checkpoint.iteration if checkpoint.kind is Kind.ITERATION else None
        if entry.hub:
            refs.append(ModelRef(path=entry.path, label=label, model_hash=entry.content_hash or f"hub:{entry.path}",
                                 iteration=iteration, extra=extra, revision=entry.revision))
            continue
        directory = Path(entry.location(run_dir))
        if not (directory / "config.json").is_file():
            raise UserError(f"{run_dir / RUN_JSON}: checkpoint {name} at {directory} is missing")
        refs.append(ModelRef(path=str(directory), label=label, model_hash=directory_hash(directory),
                             iteration=iteration, extra=extra))
    return refs
