"""`spin-bench train`: the whole recipe, top to bottom, resumable at every stage.

SFT model -> for t in iterations: opponent answers -> pairs -> train -> iter<t>; then the baselines
(SFT epoch, DPO, SPIN+DPO) and the held-out monitor. Rerunning the same command skips finished stages.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from spin_bench.atomic import clean_partials, write_json_atomic, write_text_atomic
from spin_bench.typed_config import dump_yaml
from training import baselines
from training.checkpoint import load_tokenizer, resolve_model
from training.config import Recipe
from training.data import LoadedData, load_preferences, load_sft
from training.embedded.model import build_embedded_model
from training.pairs import check_prompt_lengths
from training.monitor import MonitoredCheckpoint, monitor_checkpoints
from training.spin_iteration import Checkpoint, make_pairs, train_iteration
from training.distributed import is_main_process


def run_recipe(recipe: Recipe, run_dir: Path) -> dict[str, Any]:
    """Run every stage of ``recipe`` into ``run_dir``; returns the run summary (also saved as run.json)."""
    started = time.perf_counter()
    # Every input is read and checked before anything is written, so bad input leaves no output behind.
    world_seed = recipe.embedded.world_seed
    sft_data = load_sft(recipe.sft_data, recipe.seed, world_seed)
    spin_data = load_sft(recipe.spin_data, recipe.seed, world_seed)
    heldout = load_sft(recipe.heldout_data, recipe.seed, world_seed) if recipe.heldout_data else None
    preferences = _preferences(recipe)

    sft_started = time.perf_counter()
    sft = sft_checkpoint(recipe, sft_data)
    sft_seconds = time.perf_counter() - sft_started
    check_lengths(sft, recipe, spin_data, sft_data, preferences)

    run_dir.mkdir(parents=True, exist_ok=True)
    if is_main_process():
        for directory in (run_dir, run_dir / "pairs", run_dir / "baselines"):
            clean_partials(directory)
        write_text_atomic(run_dir / "recipe.yaml", dump_yaml(recipe))

    monitored = [MonitoredCheckpoint(label="sft", model=sft.model, identity=sft.identity)]
    iterations, history, opponent = [], [], sft
    for t, schedule in enumerate(recipe.spin.iterations):
        history.append(make_pairs(t, opponent, spin_data, recipe, run_dir))
        trained = train_iteration(t, opponent, history, schedule, recipe, run_dir)
        monitored.append(_monitored(trained, opponent, schedule.beta))
        iterations.append(trained)
        opponent = trained

    for checkpoint, reference, beta in _baselines(recipe, sft, opponent, sft_data, run_dir):
        monitored.append(_monitored(checkpoint, reference, beta))

    monitor_started = time.perf_counter()
    heldout_rows = _monitor(recipe, heldout, monitored, run_dir)
    monitor_seconds = time.perf_counter() - monitor_started
    summary = {
        "recipe": recipe.name,
        "run_dir": str(run_dir),
        "sft_model": sft.model.provenance(),
        "sft_model_seconds": sft_seconds,
        "checkpoints": {c.label: relative_to_run(c.model.path, run_dir) for c in monitored},
        "heldout": heldout_rows,
        "monitor_seconds": monitor_seconds,
        "wall_seconds": time.perf_counter() - started,
    }
    if is_main_process():
        write_json_atomic(run_dir / "run.json", summary)
    return summary


def sft_checkpoint(recipe: Recipe, sft_data: LoadedData) -> Checkpoint:
    """The run's starting point: the recipe's model, or the embedded SFT model built (or found cached)."""
    resolved = resolve_model(recipe.model, lambda: build_embedded_model(recipe.embedded, sft_data.rows, recipe.seed))
    return Checkpoint(label="sft", model=resolved, identity=resolved.content_hash())


def check_lengths(sft: Checkpoint, recipe: Recipe, *datasets: LoadedData | None) -> None:
    """Fail on an over-long prompt in any of ``datasets`` before any stage writes output."""
    tokenizer = load_tokenizer(sft.model)
    for data in datasets:
        if data is not None:
            check_prompt_lengths(data.rows, tokenizer, recipe.training, data.provenance["source"])


def relative_to_run(path: str, run_dir: Path) -> str:
    """Checkpoints inside the run directory are recorded relative to it, so the directory can be moved."""
    try:
        return str(Path(path).resolve().relative_to(run_dir.resolve()))
    except ValueError:
        return str(Path(path).resolve()) if Path(path).exists() else path


def _preferences(recipe: Recipe) -> LoadedData | None:
    dpo = recipe.baselines.dpo
    if not (dpo.enabled or dpo.spin_dpo):
        return None
    return load_preferences(dpo.data, recipe.seed, recipe.embedded.world_seed)


def _baselines(recipe: Recipe, sft: Checkpoint, last: Checkpoint, sft_data: LoadedData, run_dir: Path):
    """(checkpoint, its reference, beta) for each enabled baseline."""
    config = recipe.baselines
    if config.sft_epoch.enabled:
        # No reference in SFT; measure it against the SFT model with the DPO beta, like the DPO row.
        yield baselines.sft_epoch(sft, sft_data, recipe, run_dir), sft, config.dpo.beta
    if config.dpo.enabled:
        yield baselines.dpo(sft, recipe, run_dir, "dpo", config.dpo.epochs), sft, config.dpo.beta
    if config.dpo.spin_dpo:
        yield baselines.dpo(last, recipe, run_dir, "spin_dpo", config.dpo.spin_dpo_epochs), last, config.dpo.beta


def _monitored(checkpoint: Checkpoint, reference: Checkpoint, beta: float) -> MonitoredCheckpoint:
    ref = MonitoredCheckpoint(label=reference.label, model=reference.model, identity=reference.identity)
    return MonitoredCheckpoint(label=checkpoint.label, model=checkpoint.model, identity=checkpoint.identity,
                               reference=ref, beta=beta)


def _monitor(recipe: Recipe, heldout: LoadedData | None, monitored, run_dir: Path) -> list[dict[str, Any]]:
    if heldout is None:
        return []
    return monitor_checkpoints(monitored, heldout.rows, recipe.generation, recipe.training.precision,
                               run_dir / "monitor", recipe.seed)


def summary_table(summary: dict[str, Any]) -> str:
    """Plain-text table of the held-out monitor and the per-stage seconds, for the terminal."""
    run_dir = Path(summary["run_dir"])
    lines = [f"{'checkpoint':<11} {'vs':<6} {'margin':>8} {'acc':>6} {'real logp/tok':>14} {'gen s':>7} {'train s':>8}"]
    timings = _timings(run_dir, summary["checkpoints"])
    for row in summary["heldout"] or [{"label": label} for label in summary["checkpoints"]]:
        gen, train = timings.get(row["label"], (None, None))
        lines.append(
            f"{row['label']:<11} {row.get('reference', '-'):<6} {_fmt(row.get('margin'), '+.4f'):>8} "
            f"{_fmt(row.get('accuracy'), '.2f'):>6} {_fmt(row.get('real_logp_per_token'), '.4f'):>14} "
            f"{_fmt(gen, '.1f'):>7} {_fmt(train, '.1f'):>8}"
        )
    return "\n".join(lines)


def _timings(run_dir: Path, checkpoints: dict[str, str]) -> dict[str, tuple[float | None, float | None]]:
    from training.stages import read_json

    out = {}
    for label, path in checkpoints.items():
        file = run_dir / path / "timings.json"
        if file.is_file():
            data = read_json(file)
            out[label] = (data.get("generation_seconds"), data.get("training_seconds"))
    return out


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)
