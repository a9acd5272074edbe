"""The paper's ablations (section 6.3) and a loss/beta sweep, each a short sequence of the driver's stages.

Every study starts from the SFT model and trains SPIN iteration 0 on the iteration-0 pairs (the SFT
model's own answers), so it reuses the main run's ``pairs/iter0`` when that exact stage is finished there
and never writes into the main run. Layout, under ``<run>/ablations/``:

  pairs/iter0/                  iteration-0 pairs, when the main run has none yet
  epochs/iter0-epoch<k>/, iter0/     Figure 4: iteration 0 for max_epochs epochs, weights after each
  size/size<N>/, sft_continued-epoch<k>/, sft_continued/   Figure 5: nested prompt subsets; SFT trained longer
  loss/loss-<loss>-beta<b>/     every loss at every beta
  <study>/run.json              the study's checkpoints by label, so `spin-bench eval` can score the directory

Every stage is keyed and skipped when finished (training.stages), so a killed study resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from spin_bench.atomic import clean_partials, write_json_atomic, write_text_atomic
from spin_bench.hashing import stable_hash
from spin_bench.typed_config import dump_yaml
from training import baselines
from training.config import LossKind, Recipe, Study
from training.data import LoadedData, load_sft
from training.distributed import is_main_process
from training.driver import check_lengths, relative_to_run, sft_checkpoint
from training.spin_iteration import Checkpoint, IterationPairs, make_pairs, pairs_dir, pairs_key, train_iteration
from training.stages import STAGE_FILE, stage_done
from training.trainer_common import epoch_dir

ITERATION0 = "iter0"
SFT_CONTINUED = "sft_continued"


# ------------------------------------------------------------------ labels (what the report reads)


def epoch_label(epoch: int) -> str:
    return f"{ITERATION0}-epoch{epoch}"


def size_label(size: int) -> str:
    return f"size{size}"


def sft_curve_label(epoch: int) -> str:
    """SFT trained ``epoch`` more epochs on the full SFT data (the SFT curve of Figure 5)."""
    return f"sft-epoch{epoch}"


def loss_label(loss: LossKind, beta: float) -> str:
    return f"loss-{LossKind(loss).value}-beta{beta:g}"


def epoch_checkpoints(final: str, epochs: int, label: Callable[[int], str]) -> dict[str, str]:
    """label -> directory name for a stage that kept its weights after every epoch (the last is ``final``)."""
    return {label(k): (final if k == epochs else epoch_dir(Path(final), k).name) for k in range(1, epochs + 1)}


# ------------------------------------------------------------------ the studies


@dataclass(frozen=True)
class StudyInputs:
    recipe: Recipe
    run_dir: Path  # the main run's directory (read, never written)
    directory: Path  # this study's output directory
    sft: Checkpoint
    sft_data: LoadedData


def run_study(recipe: Recipe, study: Study, run_dir: Path) -> dict:
    """Train every checkpoint of ``study`` into ``<run_dir>/ablations/<study>``; returns its run.json summary."""
    started = time.perf_counter()
    # Every input is read and checked before anything is written, so bad input leaves no output behind.
    sft_data = load_sft(recipe.sft_data, recipe.seed, recipe.embedded.world_seed)
    spin_data = _study_spin_data(recipe, study)
    sft = sft_checkpoint(recipe, sft_data)
    check_lengths(sft, recipe, spin_data, sft_data if study is Study.SIZE else None)
    directory = run_dir / "ablations" / study.value
    directory.mkdir(parents=True, exist_ok=True)
    if is_main_process():
        for folder in (directory, run_dir / "ablations", run_dir / "ablations" / "pairs"):
            if folder.is_dir():
                clean_partials(folder)
        write_text_atomic(directory / "recipe.yaml", dump_yaml(recipe))
    inputs = StudyInputs(recipe=recipe, run_dir=run_dir, directory=directory, sft=sft, sft_data=sft_data)
    shared = study is not Study.SIZE or _recipe_draw(recipe, spin_data)
    pairs_root = _pairs_root(inputs, pairs_key(0, sft, spin_data, recipe), shared)
    pairs = make_pairs(0, sft, spin_data, recipe, pairs_root)
    trained = _STUDIES[study](inputs, pairs)
    checkpoints = {"sft": relative_to_run(sft.model.path, directory), **trained}
    summary = {"recipe": recipe.name, "study": study.value, "run_dir": str(directory), "checkpoints": checkpoints,
               "pairs": relative_to_run(str(pairs_dir(pairs_root, 0)), directory),
               "wall_seconds": time.perf_counter() - started}
    if is_main_process():
        write_json_atomic(directory / "run.json", summary)
    return summary


def _epochs(inputs: StudyInputs, pairs: IterationPairs) -> dict[str, str]:
    """Figure 4: iteration 0 for max_epochs epochs (one learning-rate schedule), weights after each epoch."""
    recipe, epochs = inputs.recipe, inputs.recipe.ablations.epochs.max_epochs
    schedule = replace(recipe.spin.iterations[0], epochs=float(epochs))
    train_iteration(0, inputs.sft, [pairs], schedule, recipe, inputs.directory, keep_epochs=True)
    checkpoints = epoch_checkpoints(ITERATION0, epochs, epoch_label)
    # The paper compares every epoch with iteration 1: the main run's, when it has one.
    if (inputs.run_dir / "iter1" / STAGE_FILE).is_file():  # published whole, marker last
        checkpoints["iter1"] = relative_to_run(str(inputs.run_dir / "iter1"), inputs.directory)
    return checkpoints


def _size(inputs: StudyInputs, pairs: IterationPairs) -> dict[str, str]:
    """Figure 5: iteration 0 on each nested prefix of the prompts, and SFT continued on the full SFT data."""
    recipe, config = inputs.recipe, inputs.recipe.ablations.size
    schedule = replace(recipe.spin.iterations[0], epochs=config.epochs)
    checkpoints = {}
    for size in config.sizes:
        subset = nested_subset(pairs, size)
        train_iteration(0, inputs.sft, [subset], schedule, recipe, inputs.directory, out_name=size_label(size))
        checkpoints[size_label(size)] = size_label(size)
    baselines.sft_epoch(inputs.sft, inputs.sft_data, recipe, inputs.directory, out=inputs.directory / SFT_CONTINUED,
                        epochs=float(config.sft_epochs), keep_epochs=True)
    return {**checkpoints, **epoch_checkpoints(SFT_CONTINUED, config.sft_epochs, sft_curve_label)}


def _loss(inputs: StudyInputs, pairs: IterationPairs) -> dict[str, str]:
    """Iteration 0 with every loss of Assumption 5.1 at every beta (Theorem 5.2 allows them all)."""
    recipe, config = inputs.recipe, inputs.recipe.ablations.loss
    checkpoints = {}
    for loss in config.losses:
        variant = replace(recipe, spin=replace(recipe.spin, loss=loss))
        for beta in config.betas:
            schedule = replace(recipe.spin.iterations[0], beta=beta)
            name = loss_label(loss, beta)
            train_iteration(0, inputs.sft, [pairs], schedule, variant, inputs.directory, out_name=name)
            checkpoints[name] = name
    return checkpoints


_STUDIES: dict[Study, Callable[[StudyInputs, IterationPairs], dict[str, str]]] = {
    Study.EPOCHS: _epochs, Study.SIZE: _size, Study.LOSS: _loss,
}


# ------------------------------------------------------------------ data and pairs


def _study_spin_data(recipe: Recipe, study: Study) -> LoadedData:
    """The recipe's SPIN prompts; the size study draws as many as its largest size instead.

    data.py samples a fixed permutation's prefix, so the largest set holds every smaller one; when the
    largest size is the recipe's own num_samples, the data (and so the pairs) are the main run's.
    """
    source = recipe.spin_data
    if study is Study.SIZE:
        source = replace(source, num_samples=max(recipe.ablations.size.sizes))
    return load_sft(source, recipe.seed, recipe.embedded.world_seed)


def _recipe_draw(recipe: Recipe, spin_data: LoadedData) -> bool:
    """Whether the size study's draw is exactly the recipe's own (the same source and seed, so only the
    number of rows used can differ), decided without reading the data a second time."""
    wanted = recipe.spin_data.num_samples
    provenance = spin_data.provenance
    return provenance["rows_used"] == (provenance["rows_available"] if wanted is None else wanted)


def nested_subset(pairs: IterationPairs, size: int) -> IterationPairs:
    """The first ``size`` pairs: the pairs of the first ``size`` prompts of the sampling permutation."""
    if size > len(pairs.pairs):
        raise ValueError(f"size {size} is larger than the {len(pairs.pairs)} pairs drawn")
    return IterationPairs(key=stable_hash({"pairs": pairs.key, "first": size}), pairs=pairs.pairs[:size],
                          generation_seconds=pairs.generation_seconds)


def _pairs_root(inputs: StudyInputs, key: str, shared: bool) -> Path:
    """Where the iteration-0 pairs (the SFT model's answers) live: the main run's when that exact stage is
    finished there (read only), else generated under ablations/."""
    if stage_done(pairs_dir(inputs.run_dir, 0), key):
        return inputs.run_dir
    # Studies on the recipe's own prompts share one copy; the size study's larger draw keeps its own.
    return inputs.run_dir / "ablations" if shared else inputs.directory
