"""Keyed stages: every piece of training work (an SFT, DPO or SPIN training, an opponent's answers) is a
directory published whole, holding ``stage.json`` with the key of its inputs.

A directory is only ever moved into place whole (see spin_bench.core.atomic), so "the directory exists and
its key matches" means "this exact work is finished". A changed input or config changes the key, and the
stage is computed again and replaces the old output. :func:`run_stage` is the one place that decides
whether to work, and that clears a stage's scratch once its output is published.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.core.atomic import write_json_atomic
from spin_bench.core.run_layout import STAGE_FILE
from spin_bench.inference.checkpoints import ResolvedModel
from spin_bench.inference.distributed import barrier, is_main_process


@dataclass(frozen=True)
class Checkpoint:
    """A model plus the identity that downstream stage keys are built from."""

    label: str  # its name in logs and in the monitor ("sft", "iter0", "dpo", ...)
    model: ResolvedModel
    identity: str  # the stage key that produced it, or the content hash of a given model


@dataclass(frozen=True)
class KeyedStage:
    """One resumable unit of work: where its output goes, the hash of every input, its scratch directory."""

    name: str | None  # what the log calls it ("iter0 training", "baseline dpo"); None: work silently
    out: Path
    key: str
    work: Path  # resumable scratch (generation shards, trainer checkpoints), removed once ``out`` is published

    def done(self) -> bool:
        return stage_done(self.out, self.key, self.name)

    def checkpoint(self) -> Checkpoint:
        """The model this stage published, identified by the stage's key."""
        return Checkpoint(label=self.out.name, model=ResolvedModel(path=str(self.out)), identity=self.key)


def run_stage(stage: KeyedStage, produce: Callable[[KeyedStage], Any]) -> bool:
    """Call ``produce(stage)`` unless the stage is already finished; True if it ran.

    Every rank calls this. ``produce`` publishes ``stage.out`` (atomically, marker last); then the main
    process removes the stage's scratch, and every rank waits for that before going on.
    """
    if stage.done():
        return False
    produce(stage)
    if is_main_process():
        shutil.rmtree(stage.work, ignore_errors=True)
    barrier()
    return True


def stage_done(directory: Path, key: str, label: str | None = None) -> bool:
    """True when ``directory`` holds the finished output of this exact stage; with a label, say which."""
    marker = directory / STAGE_FILE
    done = False
    if marker.is_file():
        try:
            done = json.loads(marker.read_text(encoding="utf-8")).get("key") == key
        except (OSError, json.JSONDecodeError):
            done = False
    if label is not None:
        _announce(f"{label}: {'finished earlier, skipped' if done else 'running'} -> {directory}")
    return done


def _announce(message: str) -> None:
    if is_main_process():
        print(f"[spin-bench] {message}", file=sys.stderr, flush=True)


def write_stage_marker(directory: Path, key: str, **info: Any) -> None:
    write_json_atomic(directory / STAGE_FILE, {"key": key, **info})


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
