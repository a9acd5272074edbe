"""The training half of a recipe, typed: every knob of `spin-bench train`, checked on load.

The recipe file a user writes also has ``bench`` and ``ablations`` sections; spin_bench.recipe composes
this dataclass with them, so training reads only what it trains with.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from enum import StrEnum

from spin_bench.core.enums import LossKind, Precision
from spin_bench.core.typed_config import INLINE
from spin_bench.inference.config import GenerationConfig


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
class Schedule:
    """How one training stage steps: its optimiser, learning rate and schedule, and for how long."""

    learning_rate: float
    epochs: float
    optimizer: str = "rmsprop"  # any transformers `optim` name
    lr_scheduler: str = "linear"
    warmup_ratio: float = 0.1

    def __post_init__(self) -> None:
        _positive("learning_rate", self.learning_rate)
        _positive("epochs", self.epochs)
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")


ALL_LINEAR = "all-linear"  # peft's name for every linear layer but the output head


@dataclass(frozen=True, kw_only=True)
class LoraConfig:
    """LoRA (Hu et al., 2021) through the peft library, for every trained stage (SPIN iterations, DPO, SFT epoch).

    Each stage trains a fresh adapter on the weights it starts from and saves them merged (training.lora).
    """

    rank: int = 16
    alpha: int = 32  # the update is scaled by alpha / rank
    # The SPIN and DPO stages run with dropout off (TRL's disable_dropout: policy and reference must score
    # alike), which covers LoRA's too; it applies to the SFT-epoch baseline.
    dropout: float = 0.0
    # Module names (or name suffixes, peft's matching) to adapt; "all-linear" alone: every linear layer.
    target_modules: tuple[str, ...] = (ALL_LINEAR,)

    def __post_init__(self) -> None:
        _positive("rank", self.rank)
        _positive("alpha", self.alpha)
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not self.target_modules or len(set(self.target_modules)) != len(self.target_modules):
            raise ValueError("target_modules must list at least one module, each once")
        if ALL_LINEAR in self.target_modules and len(self.target_modules) > 1:
            raise ValueError(f"target_modules: {ALL_LINEAR!r} stands alone, it already covers every linear layer")


@dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    """Settings shared by every training stage. Its schedule is the SPIN iterations' (each iteration may set
    its own learning rate and epochs); the baselines have schedules of their own."""

    # Paper: RMSprop, linear schedule with 10% warmup, 2 epochs per iteration, lr 5e-7 (later 1e-7).
    schedule: Schedule = field(default_factory=lambda: Schedule(learning_rate=5e-7, epochs=2.0), metadata=INLINE)
    per_device_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    weight_decay: float = 0.0
    max_length: int = 2048  # prompt + response tokens; longer pairs are cut at the end
    max_prompt_length: int | None = None  # keep the end of longer prompts (official code: 512)
    precompute_reference: bool = True  # the reference is frozen within an iteration: score it once
    # SPIN and DPO stages: batch pairs of similar token length (transformers' LengthGroupedSampler: shuffle,
    # then sort each mega-batch of up to 50 batches by length), so batches pad far less. Off: uniformly
    # shuffled batches, as every run before this key. The SFT-epoch baseline always shuffles uniformly.
    group_by_length: bool = False
    gradient_checkpointing: bool = False
    precision: Precision = Precision.AUTO
    logging_steps: int = 1
    save_steps: int | None = None  # mid-stage checkpoints for resuming; None: once per epoch
    lora: LoraConfig | None = None  # None: full fine-tuning

    def __post_init__(self) -> None:
        for name in ("per_device_batch_size", "gradient_accumulation_steps", "max_length",
                     "max_prompt_length", "logging_steps", "save_steps"):
            _positive(name, getattr(self, name))
        if self.max_prompt_length is not None and self.max_prompt_length >= self.max_length:
            raise ValueError("max_prompt_length must be smaller than max_length")


@dataclass(frozen=True, kw_only=True)
class IterationConfig:
    beta: float
    learning_rate: float | None = None  # None: training.learning_rate
    epochs: float | None = None  # None: training.epochs

    def __post_init__(self) -> None:
        _positive("learning_rate", self.learning_rate)
        _positive("beta", self.beta)
        _positive("epochs", self.epochs)

    def schedule(self, training: TrainingConfig) -> Schedule:
        """This iteration's schedule: the training section's, with this iteration's learning rate and epochs."""
        return replace(training.schedule, learning_rate=self.learning_rate or training.schedule.learning_rate,
                       epochs=self.epochs or training.schedule.epochs)


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
    # The zephyr SFT recipe: AdamW, lr 2e-5, cosine schedule, 10% warmup.
    schedule: Schedule = field(metadata=INLINE, default_factory=lambda: Schedule(
        learning_rate=2e-5, epochs=1.0, optimizer="adamw_torch", lr_scheduler="cosine"))


@dataclass(frozen=True, kw_only=True)
class DpoConfig:
    """Paper Table 3: DPO on a preference set (prompt, chosen, rejected) from the SFT model or the last SPIN iterate."""

    enabled: bool = True
    data: DataSource | None = None
    beta: float = 0.1
    # zephyr-7b-dpo-full's original recipe, which SPIN's paper compares with: RMSprop, lr 5e-7, 3 epochs.
    schedule: Schedule = field(metadata=INLINE, default_factory=lambda: Schedule(learning_rate=5e-7, epochs=3.0))
    spin_dpo: bool = False  # also run DPO from the last SPIN iteration (Table 3's "SPIN iter 3 + DPO")
    spin_dpo_epochs: float = 2.0

    def __post_init__(self) -> None:
        if (self.enabled or self.spin_dpo) and self.data is None:
            raise ValueError("data is required when the DPO baseline or spin_dpo is enabled")
        for name in ("beta", "spin_dpo_epochs"):
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
class AblationStudies:
    """`spin-bench ablate`: how each iteration-0 study trains (the recipe's ``ablations`` section)."""

    epochs: EpochsStudy = field(default_factory=EpochsStudy)
    size: SizeStudy = field(default_factory=lambda: SizeStudy(sizes=(14_000, 26_000, 50_000)))
    loss: LossStudy = field(default_factory=LossStudy)


@dataclass(frozen=True, kw_only=True)
class TrainingRecipe:
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
