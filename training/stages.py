"""Stage bookkeeping: a stage's output is a directory holding `stage.json` with the key of its inputs.

A directory is only ever moved into place whole (see spin_bench.atomic), so "the directory exists and its
key matches" means "this exact work is finished". A changed input or config changes the key, and the stage
is computed again and replaces the old output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from spin_bench.atomic import write_json_atomic

STAGE_FILE = "stage.json"


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
    from training.distributed import is_main_process

    if is_main_process():
        print(f"[spin-bench] {message}", file=sys.stderr, flush=True)


def write_stage_marker(directory: Path, key: str, **info: Any) -> None:
    write_json_atomic(directory / STAGE_FILE, {"key": key, **info})


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
