"""What `spin-bench eval --model` accepts: a run directory (every checkpoint of a SPIN run), a model
directory, or a HuggingFace model id. Each becomes a labelled reference with its content hash."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spin_bench.errors import UserError
from spin_bench.hashing import directory_hash

_ITERATION = re.compile(r"^iter(\d+)$")


@dataclass(frozen=True)
class ModelRef:
    path: str
    label: str
    model_hash: str
    iteration: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    revision: str | None = None  # a Hub model's pinned revision (the paper recipe's SFT model)


def expand_models(arguments: list[str], label: str | None = None) -> list[ModelRef]:
    """Every model the arguments name, in order; a run directory expands to its SFT model, iterations and
    baselines (labelled ``<run>/<checkpoint>``)."""
    refs: list[ModelRef] = []
    for argument in arguments:
        path = Path(argument).expanduser()
        if (path / "run.json").is_file():
            refs.extend(_run_models(path, label))
        elif path.exists() or argument.startswith((".", "/", "~")):
            if not (path / "config.json").is_file():
                raise UserError(f"{path}: not a model directory (no config.json) and not a run directory (no run.json)")
            refs.append(ModelRef(path=str(path), label=label or path.name, model_hash=directory_hash(path)))
        else:
            refs.append(ModelRef(path=argument, label=label or argument, model_hash=f"hub:{argument}"))
    if label and len(refs) > 1 and not all((Path(a) / "run.json").is_file() for a in arguments):
        raise UserError("--label names one model; give one --model, or a run directory (its labels are derived)")
    return refs


def _run_models(run_dir: Path, prefix: str | None) -> list[ModelRef]:
    summary = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    refs = []
    sft_model = summary.get("sft_model") or {}
    for checkpoint, path in summary["checkpoints"].items():
        directory = run_dir / path  # relative paths are inside the run directory; absolute ones stay
        label, extra = f"{prefix or summary['recipe']}/{checkpoint}", {
            "run": str(run_dir), "checkpoint": checkpoint, "recipe": summary["recipe"]}
        if not (directory / "config.json").is_file():
            if _is_hub_sft(checkpoint, path, directory, sft_model):
                refs.append(ModelRef(path=path, label=label, model_hash=sft_model.get("content_hash") or f"hub:{path}",
                                     extra=extra, revision=sft_model.get("revision")))
                continue
            raise UserError(f"{run_dir}/run.json: checkpoint {checkpoint} at {directory} is missing")
        match = _ITERATION.match(checkpoint)
        refs.append(ModelRef(path=str(directory), label=label, model_hash=directory_hash(directory),
                             iteration=int(match.group(1)) if match else None, extra=extra))
    return refs


def _is_hub_sft(checkpoint: str, path: str, directory: Path, sft_model: dict[str, Any]) -> bool:
    """The paper recipe starts from a Hub model: run.json then names it by id (and pinned revision)."""
    return (checkpoint == "sft" and path == sft_model.get("path") and not directory.exists()
            and not Path(path).is_absolute() and not path.startswith((".", "~")))
