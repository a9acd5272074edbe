"""Enums shared by more than one stage: how a model is run, in which precision, and the SPIN losses."""

from __future__ import annotations

from enum import StrEnum


class Backend(StrEnum):
    """The engine that runs a model, for generation and for lm-eval's scoring alike."""

    HF = "hf"  # transformers, on CPU or GPU
    VLLM = "vllm"  # GPU only, behind the `vllm` extra


class Precision(StrEnum):
    """Weights and compute precision. ``auto`` is bf16 on a GPU that supports it and fp32 elsewhere."""

    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"

    @property
    def torch_name(self) -> str:
        """The dtype name transformers and lm-eval take (``auto`` stays ``auto``: it is resolved at load)."""
        return {Precision.AUTO: "auto", Precision.FP32: "float32", Precision.BF16: "bfloat16"}[self]


class LossKind(StrEnum):
    """The four losses of the paper's Assumption 5.1 (convex, decreasing, l'(0) < 0)."""

    LOGISTIC = "logistic"
    HINGE = "hinge"
    EXPONENTIAL = "exponential"
    LINEAR = "linear"
