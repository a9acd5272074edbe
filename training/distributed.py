"""The process group, shared with the Trainer: one accelerate PartialState for the whole run.

It must be created with cpu=True on CPU machines: a bare PartialState() under torchrun without a GPU
silently stays single-process (every rank thinks it is rank 0 and barriers do nothing), and it is a
singleton, so whichever call comes first decides for the Trainer too.
"""

from __future__ import annotations


def process_state():
    import torch
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def is_main_process() -> bool:
    return process_state().is_main_process


def barrier() -> None:
    process_state().wait_for_everyone()


def shared_dataset(dataset, directory):
    """The dataset saved once to ``directory`` and loaded back by every rank.

    TRL caches precomputed reference log-probs next to the dataset's files and rank 0 writes that cache for
    all ranks; an in-memory dataset would put it in a private per-process temp dir that the others cannot see.
    """
    from datasets import load_from_disk

    state = process_state()
    # save_to_disk writes the data shards first and its two JSON files last: both present means complete.
    complete = (directory / "state.json").is_file() and (directory / "dataset_info.json").is_file()
    if state.is_main_process and not complete:
        dataset.save_to_disk(str(directory))
    state.wait_for_everyone()
    return load_from_disk(str(directory))
