"""The paper's ablations (section 6.3) and a loss/beta sweep, each a short sequence of the driver's stages.

Every study starts from the SFT model and trains SPIN iteration 0 on the iteration-0 pairs (the SFT
model's own answers), so it reuses the main run's ``pairs/iter0`` when that exact stage is finished there
and never writes into the main run. Layout, under ``<run>/ablations/``:

  pairs/iter0/                  iteration-0 pairs, when the main run has none yet
  epochs/iter0-epoch<k>/, iter0/     Figure 4: iteration 0 for max_epochs epochs, weights after each
  size/size<N>/, sft_continued-epoch<k>/, sft_continued/   Figure 5: nested prompt subsets; SFT trained longer
  loss/loss-<loss>-beta<b>/     every loss at every beta
  <study>/run.json              the study's checkpoints by name, so `spin-bench eval` can score the directory

Every stage is keyed and skipped when finished (training.stages), so a killed study resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from spin_bench.core.atomic import clean_partials, write_json_atomic, write_text_atomic
from spin_bench.core.hashing import stable_hash
from spin_bench.core.names import CheckpointName
from spin_bench.core.run_layout import (
    STAGE_FILE,
    CheckpointEntry,
    RunLayout,
    RunSummary,
    epoch_dir,
)
from spin_bench.core.typed_config import dump_yaml
from spin_bench.inference.distributed import is_main_process
from training import baselines
from training.config import AblationStudies, Study, TrainingRecipe
from training.data import LoadedData, load_sft
from training.driver import check_lengths, sft_checkpoint
from training.lora import check_lora_targets
from training.spin_iteration import (
    IterationPairs,
    make_pairs,
    pairs_stage,
    train_iteration,
)
from training.stages import Checkpoint, stage_done

ITERATION0 = CheckpointName.of_iteration(0)
SFT_CONTINUED = "sft_continued"  # the directory of SFT trained longer (its epochs are named sft-epoch<k>)


@dataclass(frozen=True)
class StudyInputs:
    recipe: TrainingRecipe
    studies: AblationStudies
    run: RunLayout  # the main run (read, never written)
    study: RunLayout  # this study's output directory
    sft: Checkpoint
    sft_data: LoadedData


def run_study(recipe: TrainingRecipe, studies: AblationStudies, study: Study, run_dir: Path) -> RunSummary:
    """Train every checkpoint of ``study`` into ``<run_dir>/ablations/<study>``; returns its run.json summary."""
    started = time.perf_counter()
    run = RunLayout(run_dir)
    # Every input is read and checked before anything is written, so bad input leaves no output behind.
    sft_data = load_sft(recipe.sft_data, recipe.seed, recipe.embedded.world_seed)
    spin_data = _study_spin_data(recipe, studies, study)
    sft = sft_checkpoint(recipe, sft_data)
    check_lengths(sft, recipe, spin_data, sft_data if study is Study.SIZE else None)
    check_lora_targets(sft.model, recipe.training.lora)
    layout = RunLayout(run.study_dir(study.value))
    layout.root.mkdir(parents=True, exist_ok=True)
    if is_main_process():
        for folder in (layout.root, layout.root.parent, layout.root.parent / "pairs"):
            if folder.is_dir():
                clean_partials(folder)
        write_text_atomic(layout.recipe_file, dump_yaml(recipe))
    inputs = StudyInputs(recipe=recipe, studies=studies, run=run, study=layout, sft=sft, sft_data=sft_data)
    shared = study is not Study.SIZE or _recipe_draw(recipe, spin_data)
    pairs_layout = _pairs_layout(inputs, sft, spin_data, shared)
    pairs = make_pairs(0, sft, spin_data, recipe, pairs_layout)
    trained = _STUDIES[study](inputs, pairs)
    checkpoints = {"sft": CheckpointEntry.for_directory(sft.model.path, layout.root, content_hash=sft.identity),
                   **{name: CheckpointEntry.for_directory(path, layout.root) for name, path in trained.items()}}
    summary = RunSummary(recipe=recipe.name, study=study.value, checkpoints=checkpoints,
                         pairs=CheckpointEntry.for_directory(pairs_layout.pairs_dir(0), layout.root).path,
                         seconds={"wall": time.perf_counter() - started})
    if is_main_process():
        write_json_atomic(layout.summary_file, summary.to_json())
    return summary


def epoch_checkpoints(final: Path, epochs: int, name: Callable[[int], CheckpointName]) -> dict[str, Path]:
    """name -> directory for a stage that kept its weights after every epoch (the last epoch is ``final``)."""
    return {name(k).format(): (final if k == epochs else epoch_dir(final, k)) for k in range(1, epochs + 1)}


def _epochs(inputs: StudyInputs, pairs: IterationPairs) -> dict[str, Path]:
    """Figure 4: iteration 0 for max_epochs epochs (one learning-rate schedule), weights after each epoch."""
    recipe, epochs = inputs.recipe, inputs.studies.epochs.max_epochs
    first = recipe.spin.iterations[0]
    schedule = replace(first.schedule(recipe.training), epochs=float(epochs))
    final = inputs.study.iteration_dir(0)
    train_iteration(0, inputs.sft, [pairs], schedule, first.beta, recipe, inputs.study, out=final, keep_epochs=True)
    checkpoints = epoch_checkpoints(final, epochs, lambda k: CheckpointName.of_epoch(0, k))
    # The paper compares every epoch with iteration 1: the main run's, when it has one.
    iteration1 = inputs.run.iteration_dir(1)
    if (iteration1 / STAGE_FILE).is_file():  # published whole, marker last
        checkpoints[CheckpointName.of_iteration(1).format()] = iteration1
    return checkpoints


def _size(inputs: StudyInputs, pairs: IterationPairs) -> dict[str, Path]:
    """Figure 5: iteration 0 on each nested prefix of the prompts, and SFT continued on the full SFT data."""
    recipe, config = inputs.recipe, inputs.studies.size
    first = recipe.spin.iterations[0]
    schedule = replace(first.schedule(recipe.training), epochs=config.epochs)
    checkpoints = {}
    for size in config.sizes:
        name = CheckpointName.of_size(size).format()
        out = inputs.study.root / name
        train_iteration(0, inputs.sft, [nested_subset(pairs, size)], schedule, first.beta, recipe, inputs.study,
                        out=out)
        checkpoints[name] = out
    final = inputs.study.root / SFT_CONTINUED
    baselines.sft_epoch(inputs.sft, inputs.sft_data, recipe, inputs.study, out=final, epochs=float(config.sft_epochs),
                        keep_epochs=True)
    return {**checkpoints, **epoch_checkpoints(final, config.sft_epochs, CheckpointName.of_sft_curve)}


def _loss(inputs: StudyInputs, pairs: IterationPairs) -> dict[str, Path]:
    """Iteration 0 with every loss of Assumption 5.1 at every beta (Theorem 5.2 allows them all)."""
    recipe, config = inputs.recipe, inputs.studies.loss
    schedule = recipe.spin.iterations[0].schedule(recipe.training)
    checkpoints = {}
    for loss in config.losses:
        variant = replace(recipe, spin=replace(recipe.spin, loss=loss))
        for beta in config.betas:
            name = CheckpointName.of_loss(loss, beta).format()
            out = inputs.study.root / name
            train_iteration(0, inputs.sft, [pairs], schedule, beta, variant, inputs.study, out=out)
            checkpoints[name] = out
    return checkpoints


_STUDIES: dict[Study, Callable[[StudyInputs, IterationPairs], dict[str, Path]]] = {
    Study.EPOCHS: _epochs, Study.SIZE: _size, Study.LOSS: _loss,
}


# ------------------------------------------------------------------ data and pairs


def _study_spin_data(recipe: TrainingRecipe, studies: AblationStudies, study: Study) -> LoadedData:
    """The recipe's SPIN prompts; the size study draws as many as its largest size instead.

    data.py samples a fixed permutation's prefix, so the largest set holds every smaller one; when the
    largest size is the recipe's own num_samples, the data (and so the pairs) are the main run's.
    """
    source = recipe.spin_data
    if study is Study.SIZE:
        source = replace(source, num_samples=max(studies.size.sizes))
    return load_sft(source, recipe.seed, recipe.embedded.world_seed)


def _recipe_draw(recipe: TrainingRecipe, spin_data: LoadedData) -> bool:
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


def _pairs_layout(inputs: StudyInputs, sft: Checkpoint, spin_data: LoadedData, shared: bool) -> RunLayout:
    """Where the iteration-0 pairs (the SFT model's answers) live: the main run's when that exact stage is
    finished there (read only), else generated under ablations/."""
    main = pairs_stage(0, sft, spin_data, inputs.recipe, inputs.run)
    if stage_done(main.out, main.key):
        return inputs.run
    # Studies on the recipe's own prompts share one copy; the size study's larger draw keeps its own.
    return RunLayout(inputs.run.root / "ablations") if shared else inputs.study
