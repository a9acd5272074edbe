"""How text is generated: the recipe's ``generation`` section, also used for MT-Bench answers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from spin_bench.core.enums import Backend


class PromptFormat(StrEnum):
    """How the model sees a prompt. The paper generated with INSTRUCTION but trained with the chat template."""

    CHAT_TEMPLATE = "chat_template"
    INSTRUCTION = "instruction"


@dataclass(frozen=True, kw_only=True)
class GenerationConfig:
    backend: Backend = Backend.HF
    prompt_format: PromptFormat = PromptFormat.CHAT_TEMPLATE
    max_new_tokens: int = 256
    do_sample: bool = False  # the official generate.py decoded greedily
    temperature: float = 1.0
    top_p: float = 1.0
    batch_size: int = 16
    shard_size: int = 512  # prompts per resumable shard: a kill loses at most one shard of work
    tensor_parallel_size: int = 1  # vllm only
    gpu_memory_utilization: float = 0.9  # vllm only

    def __post_init__(self) -> None:
        for name in ("max_new_tokens", "batch_size", "shard_size", "tensor_parallel_size", "temperature"):
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
