"""Generation backends: transformers (CPU or GPU) and vLLM (GPU, behind the `vllm` extra).

Both take rendered prompt strings and return the continuation text, in input order. Prompts are sorted by
length before batching so that left padding wastes little compute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from spin_bench.core.enums import Backend, Precision
from spin_bench.core.errors import UserError
from spin_bench.inference.checkpoints import (
    ResolvedModel,
    load_causal_lm,
    load_tokenizer,
    resolve_precision,
)
from spin_bench.inference.config import GenerationConfig


class TextGenerator(Protocol):
    def generate(self, prompts: Sequence[str], seed: int, progress: Callable[[int], None] | None = None) -> list[str]:
        """One continuation per prompt, in order; ``progress(n)`` is called after every n prompts done."""
        ...


@dataclass
class HFGenerator:
    """Batched ``model.generate`` with left padding and length-sorted batches."""

    model: object
    tokenizer: object
    config: GenerationConfig

    def generate(self, prompts: Sequence[str], seed: int, progress: Callable[[int], None] | None = None) -> list[str]:
        import torch

        # No BOS here: chat templates that want one emit it, and the paper's generate.py passed
        # add_special_tokens=False for its instruction template.
        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: (-len(encoded[i]), i))
        outputs: list[str] = [""] * len(prompts)
        torch.manual_seed(seed)
        for start in range(0, len(order), self.config.batch_size):
            batch = order[start : start + self.config.batch_size]
            texts = self._generate_batch([encoded[i] for i in batch])
            for index, text in zip(batch, texts, strict=True):
                outputs[index] = text
            if progress:
                progress(len(batch))
        return outputs

    def _generate_batch(self, token_lists: list[list[int]]) -> list[str]:
        import torch

        pad_id = self.tokenizer.pad_token_id
        width = max(len(t) for t in token_lists)
        input_ids = torch.tensor([[pad_id] * (width - len(t)) + t for t in token_lists])
        attention = torch.tensor([[0] * (width - len(t)) + [1] * len(t) for t in token_lists])
        device = self.model.device
        sampling = (
            {"do_sample": True, "temperature": self.config.temperature, "top_p": self.config.top_p}
            if self.config.do_sample
            else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        )
        with torch.inference_mode():
            generated = self.model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention.to(device),
                max_new_tokens=self.config.max_new_tokens,
                pad_token_id=pad_id,
                eos_token_id=self.tokenizer.eos_token_id,
                # The model is whole on every rank (load_causal_lm), so ranks must not wait for each other:
                # under ZeRO-3 transformers turns synced_gpus on by itself, and ranks given different
                # numbers of shards then deadlock in the last one.
                synced_gpus=False,
                **sampling,
            )
        new_tokens = generated[:, width:]
        return [t.strip() for t in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


@dataclass
class VLLMGenerator:
    """vLLM offline engine (tensor parallel). Imported lazily: CPU installs never need vLLM."""

    model_path: str
    config: GenerationConfig
    dtype: str = "bfloat16"
    revision: str | None = None

    def __post_init__(self) -> None:
        try:
            from vllm import LLM
        except ImportError:
            raise UserError("generation.backend=vllm needs vLLM (a GPU and pip install 'spin-bench[vllm]'); "
                            "use generation.backend=hf on CPU") from None
        self._engine = LLM(
            model=self.model_path,
            revision=self.revision,
            dtype=self.dtype,
            tensor_parallel_size=self.config.tensor_parallel_size,
            gpu_memory_utilization=self.config.gpu_memory_utilization,
        )

    def generate(self, prompts: Sequence[str], seed: int, progress: Callable[[int], None] | None = None) -> list[str]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        tokenizer = self._engine.get_tokenizer()
        # Same tokenisation as the HF path: no BOS added to the rendered prompt.
        requests = [TokensPrompt(prompt_token_ids=tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        params = SamplingParams(
            temperature=self.config.temperature if self.config.do_sample else 0.0,
            top_p=self.config.top_p if self.config.do_sample else 1.0,
            max_tokens=self.config.max_new_tokens,
            seed=seed,
        )
        results = self._engine.generate(requests, params, use_tqdm=False)
        if progress:
            progress(len(prompts))
        return [r.outputs[0].text.strip() for r in results]


def make_generator(model: ResolvedModel, config: GenerationConfig, precision: Precision) -> TextGenerator:
    if config.backend is Backend.VLLM:
        dtype = resolve_precision(precision).torch_name
        return VLLMGenerator(model_path=model.path, config=config, dtype=dtype, revision=model.revision)
    return HFGenerator(model=load_causal_lm(model, precision), tokenizer=load_tokenizer(model), config=config)
