"""Loading checkpoints: full HuggingFace directories (safetensors weights, tokenizer, config) or Hub ids.

Every iterate is saved as a complete directory because the next iteration loads it twice: as the policy
and, through TRL, as the frozen reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.core.enums import Precision
from spin_bench.core.errors import UserError
from spin_bench.core.hashing import directory_hash


@dataclass(frozen=True)
class ResolvedModel:
    """A model reference after the embedded default was built and Hub ids were recognised."""

    path: str  # local directory or Hub id that transformers can load
    revision: str | None = None
    gguf_file: str | None = None

    @property
    def is_local(self) -> bool:
        return Path(self.path).is_dir()

    def content_hash(self) -> str:
        """Hash of the weights and tokenizer for a local directory; the id and revision for a Hub model."""
        if self.is_local:
            return directory_hash(Path(self.path))
        return f"hub:{self.path}@{self.revision or 'main'}"

    def provenance(self) -> dict[str, Any]:
        return {"path": self.path, "revision": self.revision, "gguf_file": self.gguf_file,
                "content_hash": self.content_hash()}


def resolve_precision(precision: Precision) -> Precision:
    """``auto`` becomes bf16 on a GPU that supports it and fp32 everywhere else."""
    if precision is not Precision.AUTO:
        return precision
    if cuda_available():
        import torch

        if torch.cuda.is_bf16_supported():
            return Precision.BF16
    return Precision.FP32


def cuda_available() -> bool:
    """torch.cuda.is_available(), without importing torch (about a second) when the build is CPU-only:
    a cached evaluation computes its key this way and must stay fast."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        if version("torch").endswith("+cpu"):
            return False
    except PackageNotFoundError:
        return False
    import torch

    return torch.cuda.is_available()


def torch_dtype(precision: Precision):
    import torch

    return torch.bfloat16 if resolve_precision(precision) is Precision.BF16 else torch.float32


def load_tokenizer(model: ResolvedModel):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model.path, revision=model.revision, gguf_file=model.gguf_file)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(model: ResolvedModel, precision: Precision, device: str | None = None):
    """The model in eval mode on ``device`` (default: this process's GPU under a launcher, else GPU 0 or CPU)."""
    from transformers import AutoModelForCausalLM

    from spin_bench.inference.distributed import process_state

    try:
        with whole_model_loading():
            lm = AutoModelForCausalLM.from_pretrained(
                model.path, revision=model.revision, gguf_file=model.gguf_file, dtype=torch_dtype(precision)
            )
    except OSError as err:
        raise UserError(f"{model.path}: cannot load a causal language model ({str(err).splitlines()[0]})") from None
    return lm.to(device or process_state().device).eval()


@contextmanager
def whole_model_loading() -> Iterator[None]:
    """Load a model whole on this process, even inside a ZeRO-3 training run.

    A model loaded here is for inference (the opponent's answers, the held-out monitor) and lives outside any
    DeepSpeed engine. But once a ZeRO-3 trainer was built, accelerate keeps its DeepSpeed config registered
    with transformers for the rest of the process, and every later ``from_pretrained`` is then built under
    ``zero.Init``: partitioned, empty parameters that nothing will ever gather (iteration 1's opponent died
    with "Padding_idx must be within num_embeddings"). The registration is lifted for the load and put back
    after it, so the next trainer still loads its policy partitioned.
    """
    try:
        from transformers.integrations import deepspeed as hf_deepspeed
    except ImportError:  # transformers without its DeepSpeed integration: nothing can be registered
        yield
        return
    registered = hf_deepspeed._hf_deepspeed_config_weak_ref
    hf_deepspeed.unset_hf_deepspeed_config()
    try:
        yield
    finally:
        hf_deepspeed._hf_deepspeed_config_weak_ref = registered
