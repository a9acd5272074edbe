"""Reading back what training left in a run directory: its summary, the pairs, the timings, the monitor.

The one reader of a run's artifacts, for the report and for the terminal summary. Every file is located
through :class:`~spin_bench.core.run_layout.RunLayout`; a missing file reads as "nothing there", and a
corrupt one raises a UserError naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spin_bench.core.errors import UserError
from spin_bench.core.names import CheckpointName, Kind
from spin_bench.core.run_layout import (
    PAIRS_FILE,
    TIMINGS_FILE,
    HeldoutRow,
    RunLayout,
    RunSummary,
)

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Timing:
    generation_seconds: float | None
    training_seconds: float | None


@dataclass(frozen=True)
class RunArtifacts:
    layout: RunLayout

    @classmethod
    def at(cls, root: Path) -> RunArtifacts:
        return cls(RunLayout(root))

    def summary(self) -> RunSummary | None:
        """run.json, or None when the directory has none (training has not finished)."""
        file = self.layout.summary_file
        return RunSummary.read(file) if file.is_file() else None

    def heldout(self) -> tuple[HeldoutRow, ...]:
        summary = self.summary()
        return summary.heldout if summary is not None else ()

    def iterations(self) -> list[int]:
        """The SPIN iterations whose trained model directory exists, ascending."""
        found = []
        for child in self.layout.root.glob("iter*"):
            name = CheckpointName.try_parse(child.name)
            if child.is_dir() and name is not None and name.kind is Kind.ITERATION:
                found.append(name.iteration)
        return sorted(found)

    def timings(self) -> dict[int, Timing]:
        """Generation and training seconds of each SPIN iteration (its timings.json)."""
        out = {}
        for t in self.iterations():
            payload = _read_json(self.layout.iteration_dir(t) / TIMINGS_FILE)
            if isinstance(payload, dict):
                out[t] = Timing(_number(payload.get("generation_seconds")), _number(payload.get("training_seconds")))
        return out

    def checkpoint_timing(self, directory: Path) -> Timing | None:
        payload = _read_json(directory / TIMINGS_FILE)
        if not isinstance(payload, dict):
            return None
        return Timing(_number(payload.get("generation_seconds")), _number(payload.get("training_seconds")))

    def pairs(self) -> dict[int, pd.DataFrame]:
        """Iteration -> its pairs (prompt_id, prompt, real, generated), for every finished pairs stage."""
        import pandas as pd

        frames = {}
        for child in sorted((self.layout.root / "pairs").glob("iter*")):
            name = CheckpointName.try_parse(child.name)
            file = child / PAIRS_FILE
            if name is None or name.kind is not Kind.ITERATION or not file.is_file():
                continue
            try:
                frames[name.iteration] = pd.read_parquet(file, columns=["prompt_id", "prompt", "real", "generated"])
            except (OSError, ValueError, KeyError) as err:
                raise UserError(f"{file}: not a readable pairs file ({err})") from None
        return dict(sorted(frames.items()))


def _read_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: not valid JSON ({getattr(err, 'msg', err)})") from None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
