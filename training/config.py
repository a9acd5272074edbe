"""Typed recipe: every knob of a SPIN run, loaded strictly from YAML and saved beside every output."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from spin_bench.errors import ConfigError
from spin_bench.mtbench.config import MTBenchConfig
from spin_bench.typed_config import apply_overrides, from_mapping, load_yaml_mapping


class LossKind(StrEnum):
    """The four losses of the paper's Assumption 5.1 (convex, decreasing, l'(0) < 0)."""

    LOGISTIC = "logistic"
    HINGE = "hinge"
    EXPONENTIAL = "exponential"
    LINEAR = "linear"


class GenerationBackend(StrEnum):
    HF = "hf"
    VLLM = "vllm"


class PromptFormat(StrEnum):
    """How the opponent sees a prompt. The paper generated with INSTRUCTION but trained with the chat template."""

    CHAT_TEMPLATE = "chat_template"
    INSTRUCTION = "instruction"


class Precision(StrEnum):
    AUTO = "auto"  # bf16 on a GPU that supports it, fp32 on CPU
    FP32 = "fp32"
    BF16 = "bf16"


def _positive(name: str, value: float | int | None) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    path: str  # "embedded", a local directory, or a HuggingFace model id
    revision: str | None = None  # pin a Hub revision (the paper's SFT model: ac6e600...)
    gguf_file: str | None = None  # load a GGUF file inside `path` (transformers dequantises it)

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("path must not be empty")


@dataclass(frozen=True, kw_only=True)
class DataSource:
    source: str  # "embedded:<split>", a .jsonl/.json/.parquet path, or a HuggingFace dataset id
    split: str = "train"  # split name for Hub datasets (ultrachat_200k: train_sft)
    num_samples: int | None = None  # seeded sample size; None keeps every row

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError("source must not be empty")
        _positive("num_samples", self.num_samples)


@dataclass(frozen=True, kw_only=True)
class GenerationConfig:
    backend: GenerationBackend = GenerationBackend.HF
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
            _positive(name, getattr(self, name))
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")


@dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    """Settings shared by every training stage; a stage overrides lr, epochs and optimiser where it must."""

    epochs: float = 2.0
    per_device_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    optimizer: str = "rmsprop"  # any transformers `optim` name
    lr_scheduler: str = "linear"
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    max_length: int = 2048  # prompt + response tokens; longer pairs are cut at the end
    max_prompt_length: int | None = None  # keep the end of longer prompts (official code: 512)
    precompute_reference: bool = True  # the reference is frozen within an iteration: score it once
    gradient_checkpointing: bool = False
    precision: Precision = Precision.AUTO
    logging_steps: int = 1
    save_steps: int | None = None  # mid-stage checkpoints for resuming; None: once per epoch

    def __post_init__(self) -> None:
        for name in ("epochs", "per_device_batch_size", "gradient_accumulation_steps", "max_length",
                     "max_prompt_length", "logging_steps", "save_steps"):
            _positive(name, getattr(self, name))
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.max_prompt_length is not None and self.max_prompt_length >= self.max_length:
            raise ValueError("max_prompt_length must be smaller than max_length")


@dataclass(frozen=True, kw_only=True)
class IterationConfig:
    learning_rate: float
    beta: float
    epochs: float | None = None  # None: training.epochs

    def __post_init__(self) -> None:
        _positive("learning_rate", self.learning_rate)
        _positive("beta", self.beta)
        _positive("epochs", self.epochs)


@dataclass(frozen=True, kw_only=True)
class SpinConfig:
    loss: LossKind = LossKind.LOGISTIC
    iterations: tuple[IterationConfig, ...]
    mix_previous: int = 1  # iteration t also trains on the pairs of this many previous iterations (paper: 1)

    def __post_init__(self) -> None:
        if not self.iterations:
            raise ValueError("iterations must list at least one iteration")
        if self.mix_previous < 0:
            raise ValueError(f"mix_previous must be >= 0, got {self.mix_previous}")


@dataclass(frozen=True, kw_only=True)
class SftEpochConfig:
    """Paper Table 5: the SFT model trained one more epoch on its own SFT data."""

    enabled: bool = True
    learning_rate: float = 2e-5
    epochs: float = 1.0
    optimizer: str = "adamw_torch"
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.1

    def __post_init__(self) -> None:
        _positive("learning_rate", self.learning_rate)
        _positive("epochs", self.epochs)


@dataclass(frozen=True, kw_only=True)
class DpoConfig:
    """Paper Table 3: DPO on a preference set (prompt, chosen, rejected) from the SFT model or the last SPIN iterate."""

    enabled: bool = True
    data: DataSource | None = None
    beta: float = 0.1
    learning_rate: float = 5e-7
    epochs: float = 3.0
    optimizer: str = "rmsprop"
    lr_scheduler: str = "linear"
    warmup_ratio: float = 0.1
    spin_dpo: bool = False  # also run DPO from the last SPIN iteration (Table 3's "SPIN iter 3 + DPO")
    spin_dpo_epochs: float = 2.0

    def __post_init__(self) -> None:
        if (self.enabled or self.spin_dpo) and self.data is None:
            raise ValueError("data is required when the DPO baseline or spin_dpo is enabled")
        for name in ("beta", "learning_rate", "epochs", "spin_dpo_epochs"):
            _positive(name, getattr(self, name))


@dataclass(frozen=True, kw_only=True)
class BaselinesConfig:
    sft_epoch: SftEpochConfig = field(default_factory=lambda: SftEpochConfig(enabled=False))
    dpo: DpoConfig = field(default_factory=lambda: DpoConfig(enabled=False))


@dataclass(frozen=True, kw_only=True)
class EmbeddedModelConfig:
    """The embedded default's tiny Llama, built by project code when model.path is "embedded"."""

    world_seed: int = 0
    vocab_size: int = 1024
    hidden_size: int = 192
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 512
    max_position_embeddings: int = 2048
    pretrain_steps: int = 400
    pretrain_batch_size: int = 32
    pretrain_learning_rate: float = 3e-3
    sft_steps: int = 60
    sft_batch_size: int = 16
    sft_learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name != "world_seed":
                _positive(f.name, getattr(self, f.name))
        if self.hidden_size % self.num_heads:
            raise ValueError("hidden_size must be divisible by num_heads")


@dataclass(frozen=True, kw_only=True)
class BenchConfig:
    """What `spin-bench run` evaluates after training: every checkpoint of the run on these suites."""

    enabled: bool = True
    suites: str = "leaderboard,bbh,openbookqa"
    data: str | None = None  # None: the Hub (as lm-eval); "embedded"; or a `spin-bench data pull` directory
    limit: float | None = None
    batch_size: int = 8
    max_gen_toks: int | None = None  # None keeps each task's own limit (the paper's setting)
    backend: GenerationBackend = GenerationBackend.HF
    store: str = "results/spin-bench.db"  # SQLite path or SQLAlchemy URL
    results_dir: str = "results"
    mt_bench: MTBenchConfig = field(default_factory=MTBenchConfig)  # judged after the lm-eval suites

    def __post_init__(self) -> None:
        _positive("limit", self.limit)
        _positive("batch_size", self.batch_size)
        _positive("max_gen_toks", self.max_gen_toks)


class Study(StrEnum):
    """The paper's ablations (section 6.3) and the loss/beta sweep Theorem 5.2 allows."""

    EPOCHS = "epochs"  # Figure 4: iteration 0 trained for more epochs, a checkpoint after each
    SIZE = "size"  # Figure 5: iteration 0 on nested subsets of the SPIN prompts, beside SFT trained longer
    LOSS = "loss"  # every loss of Assumption 5.1 at every beta, for iteration 0


@dataclass(frozen=True, kw_only=True)
class EpochsStudy:
    max_epochs: int = 5  # paper Figure 4: iteration 0 for up to 5 epochs, each compared with iteration 1

    def __post_init__(self) -> None:
        if self.max_epochs < 1:  # whole epochs (an int): a kept checkpoint is "after epoch k"
            raise ValueError(f"max_epochs must be >= 1, got {self.max_epochs}")


@dataclass(frozen=True, kw_only=True)
class SizeStudy:
    sizes: tuple[int, ...]  # SPIN prompts per run; each set is a prefix of the next (paper: 14k, 26k, 50k)
    epochs: float = 1.0  # paper Figure 5: each size trained for 1 epoch
    sft_epochs: int = 2  # the SFT curve: SFT continued this many epochs on the full SFT data (paper: 2 and 3)

    def __post_init__(self) -> None:
        if not self.sizes:
            raise ValueError("sizes must list at least one size")
        if any(size < 1 for size in self.sizes) or list(self.sizes) != sorted(set(self.sizes)):
            raise ValueError(f"sizes must be positive and strictly increasing, got {list(self.sizes)}")
        _positive("epochs", self.epochs)
        if self.sft_epochs < 1:
            raise ValueError(f"sft_epochs must be >= 1, got {self.sft_epochs}")


@dataclass(frozen=True, kw_only=True)
class LossStudy:
    losses: tuple[LossKind, ...] = tuple(LossKind)
    betas: tuple[float, ...] = (0.1,)

    def __post_init__(self) -> None:
        if not self.losses or len(set(self.losses)) != len(self.losses):
            raise ValueError("losses must list at least one loss, each once")
        if not self.betas or len(set(self.betas)) != len(self.betas):
            raise ValueError("betas must list at least one beta, each once")
        for beta in self.betas:
            _positive("beta", beta)


@dataclass(frozen=True, kw_only=True)
class AblationsConfig:
    """`spin-bench ablate`: iteration-0 studies, scored like `spin-bench run` and shown in the report."""

    suites: str | None = None  # what each study's checkpoints are scored on; None: bench.suites
    epochs: EpochsStudy = field(default_factory=EpochsStudy)
    size: SizeStudy = field(default_factory=lambda: SizeStudy(sizes=(14_000, 26_000, 50_000)))
    loss: LossStudy = field(default_factory=LossStudy)


@dataclass(frozen=True, kw_only=True)
class Recipe:
    name: str
    seed: int = 42
    model: ModelConfig
    sft_data: DataSource  # what the SFT model was trained on (the SFT-epoch baseline continues on it)
    spin_data: DataSource  # prompts with human answers that SPIN iterations use (paper: 50k of UltraChat)
    heldout_data: DataSource | None = None  # monitoring: real-vs-generated margin on unseen prompts
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    spin: SpinConfig
    baselines: BaselinesConfig = field(default_factory=BaselinesConfig)
    embedded: EmbeddedModelConfig = field(default_factory=EmbeddedModelConfig)
    bench: BenchConfig = field(default_factory=BenchConfig)
    ablations: AblationsConfig = field(default_factory=AblationsConfig)


def builtin_recipes() -> dict[str, Path]:
    folder = resources.files("training") / "recipes"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".yaml")}


def resolve_recipe_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    known = builtin_recipes()
    if name_or_path in known:
        return known[name_or_path]
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a recipe file")
    if path.suffix in {".yaml", ".yml"}:
        raise ConfigError(f"{path}: recipe file not found")
    raise ConfigError(f"unknown recipe {name_or_path!r}: not a file and not one of {sorted(known)}")


def load_recipe(name_or_path: str, overrides: tuple[str, ...] | list[str] = ()) -> Recipe:
    """Load a recipe by built-in name or path, apply ``key.sub=value`` overrides, and validate it."""
    path = resolve_recipe_path(name_or_path)
    raw: dict[str, Any] = load_yaml_mapping(path)
    raw = apply_overrides(raw, list(overrides))
    source = f"{path}" + (" (with overrides)" if overrides else "")
    return from_mapping(Recipe, raw, source)
