"""Generation examples like the paper's Tables 7 and 8: a few SPIN prompts, the ground truth, and the answer
each iteration trained against (its opponent's), read from the run's pairs through RunArtifacts."""

from __future__ import annotations

import pandas as pd

from reports.sections import Answer, Example, ExamplesSection
from spin_bench.core.errors import UserError
from spin_bench.core.names import CheckpointName, Kind
from spin_bench.core.run_artifacts import RunArtifacts

EXAMPLES = 3


def generation_examples(run: RunArtifacts | None, count: int = EXAMPLES) -> ExamplesSection[Example]:
    """Up to ``count`` prompts every iteration's pairs share (else the first iteration's), with each answer."""
    if run is None:
        return ExamplesSection((), "left out: no run directory was given, so no generated answers to show")
    try:
        frames = run.pairs()
    except UserError as err:  # a corrupt pairs file: say so, the rest of the report still stands
        return ExamplesSection((), f"left out: {err}")
    if not frames:
        return ExamplesSection((), f"left out: no pairs/iter<t>/pairs.parquet in {run.layout.root}")
    order = sorted(frames)
    first = frames[order[0]].drop_duplicates("prompt_id")
    shared = set(first["prompt_id"])
    for t in order[1:]:
        shared &= set(frames[t]["prompt_id"])
    chosen = [pid for pid in first["prompt_id"] if pid in shared][:count]
    if not chosen:  # iterations drew different prompts: show the first iteration's
        chosen = list(first["prompt_id"][:count])
    rows = tuple(_example(pid, first, frames) for pid in chosen)
    note = (f"SPIN prompts from pairs/iter<t>/pairs.parquet. Iteration t's generated answer is the answer of the "
            f"model iteration t started from (its opponent): SFT for iteration 0, iteration t−1's model after "
            f"that. The model trained by iteration {order[-1]} answered no SPIN prompt, so it has no row here.")
    return ExamplesSection(rows, note)


def _example(pid: object, first: pd.DataFrame, frames: dict[int, pd.DataFrame]) -> Example:
    base = first[first["prompt_id"] == pid].iloc[0]
    answers = []
    for t in sorted(frames):
        hit = frames[t][frames[t]["prompt_id"] == pid]
        if not hit.empty:
            answers.append(Answer(f"Iteration {t} opponent ({_opponent(t)})", str(hit.iloc[0]["generated"])))
    return Example(str(pid), str(base["prompt"]), str(base["real"]), tuple(answers))


def _opponent(t: int) -> str:
    """Who answered iteration t's prompts: the checkpoint it started from."""
    opponent = CheckpointName.of_iteration(t).previous_stage()
    return "SFT model" if opponent.kind is Kind.SFT else f"iteration {opponent.iteration} model"
