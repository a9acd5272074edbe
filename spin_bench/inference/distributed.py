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
