"""Stage bookkeeping: a stage's output is a directory holding `stage.json` with the key of its inputs.

A directory is only ever moved into place whole (see spin_bench.atomic), so "the directory exists and its
key matches" means "this exact work is finished". A changed input or config changes the key, and the stage
is computed again and replaces the old output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spin_bench.atomic import write_json_atomic

STAGE_FILE = "stage.json"


def stage_done(directory: Path, key: str) -> bool:
    marker = directory / STAGE_FILE
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("key") == key
    except (OSError, json.JSONDecodeError):
        return False


def write_stage_marker(directory: Path, key: str, **info: Any) -> None:
    write_json_atomic(directory / STAGE_FILE, {"key": key, **info})


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
