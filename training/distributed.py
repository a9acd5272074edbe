"""Datasets shared by every rank of a launched training (the process group itself is in
spin_bench.inference.distributed)."""

from __future__ import annotations

from spin_bench.inference.distributed import process_state


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
