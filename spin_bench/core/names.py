"""Checkpoint names: the grammar every stage uses to name what a run trained, and the one parser of it.

A run's checkpoints are stored as labels ``<run>/<name>``; training formats the names, the bench files
scores under them and the reports read them back. This module is the only place that knows their text:

  sft                         the SFT model (the paper's starting point)
  iter<k>                     SPIN iteration k
  iter<k>-epoch<e>            iteration k after epoch e (paper Figure 4 keeps every epoch of iteration 0)
  size<N>                     iteration 0 trained on the first N SPIN prompts (Figure 5)
  sft-epoch<e>                the SFT model trained e more epochs on its own data (Figure 5's SFT curve)
  loss-<loss>-beta<b>         iteration 0 with that loss of Assumption 5.1 and that beta
  sft_epoch, dpo, spin_dpo    the baselines (Tables 5 and 3)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from spin_bench.core.enums import LossKind


class Baseline(StrEnum):
    SFT_EPOCH = "sft_epoch"  # Table 5: the SFT model trained one more epoch on its SFT data
    DPO = "dpo"  # Table 3: DPO from the SFT model
    SPIN_DPO = "spin_dpo"  # Table 3: DPO from the last SPIN iteration


class Kind(StrEnum):
    SFT = "sft"
    ITERATION = "iteration"
    EPOCH = "epoch"
    SIZE = "size"
    SFT_CURVE = "sft_curve"
    LOSS = "loss"
    BASELINE = "baseline"


_PATTERNS: dict[Kind, re.Pattern[str]] = {
    Kind.ITERATION: re.compile(r"iter(\d+)"),
    Kind.EPOCH: re.compile(r"iter(\d+)-epoch(\d+)"),
    Kind.SIZE: re.compile(r"size(\d+)"),
    Kind.SFT_CURVE: re.compile(r"sft-epoch(\d+)"),
    # Built from the enum, so a loss added to LossKind is named and parsed like the others.
    Kind.LOSS: re.compile(r"loss-(" + "|".join(re.escape(k.value) for k in LossKind) + r")-beta(.+)"),
}
_LAST = 1 << 30  # sorts a finished iteration after every epoch checkpoint of it


@dataclass(frozen=True)
class CheckpointName:
    """One checkpoint of a run; build with the constructors below, never from text by hand."""

    kind: Kind
    iteration: int | None = None  # ITERATION, EPOCH
    epoch: int | None = None  # EPOCH, SFT_CURVE
    size: int | None = None  # SIZE
    loss: LossKind | None = None  # LOSS
    beta: float | None = None  # LOSS
    baseline: Baseline | None = None  # BASELINE

    # -------------------------------------------------------------- constructors

    @classmethod
    def sft(cls) -> CheckpointName:
        return cls(Kind.SFT)

    @classmethod
    def of_iteration(cls, k: int) -> CheckpointName:
        return cls(Kind.ITERATION, iteration=_count(k, "iteration"))

    @classmethod
    def of_epoch(cls, k: int, epoch: int) -> CheckpointName:
        return cls(Kind.EPOCH, iteration=_count(k, "iteration"), epoch=_count(epoch, "epoch", minimum=1))

    @classmethod
    def of_size(cls, size: int) -> CheckpointName:
        return cls(Kind.SIZE, size=_count(size, "size", minimum=1))

    @classmethod
    def of_sft_curve(cls, epoch: int) -> CheckpointName:
        return cls(Kind.SFT_CURVE, epoch=_count(epoch, "epoch", minimum=1))

    @classmethod
    def of_loss(cls, loss: LossKind | str, beta: float) -> CheckpointName:
        return cls(Kind.LOSS, loss=LossKind(loss), beta=float(beta))

    @classmethod
    def of_baseline(cls, baseline: Baseline | str) -> CheckpointName:
        return cls(Kind.BASELINE, baseline=Baseline(baseline))

    # -------------------------------------------------------------- text

    def format(self) -> str:
        match self.kind:
            case Kind.SFT:
                return "sft"
            case Kind.ITERATION:
                return f"iter{self.iteration}"
            case Kind.EPOCH:
                return f"iter{self.iteration}-epoch{self.epoch}"
            case Kind.SIZE:
                return f"size{self.size}"
            case Kind.SFT_CURVE:
                return f"sft-epoch{self.epoch}"
            case Kind.LOSS:
                return f"loss-{self.loss.value}-beta{self.beta:g}"
            case Kind.BASELINE:
                return self.baseline.value

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def parse(cls, text: str) -> CheckpointName:
        """The name ``text`` spells; ValueError if it is none of the grammar's forms."""
        name = cls.try_parse(text)
        if name is None:
            raise ValueError(f"{text!r} is not a checkpoint name (sft, iter<k>, iter<k>-epoch<e>, size<N>, "
                             f"sft-epoch<e>, loss-<loss>-beta<b>, {', '.join(b.value for b in Baseline)})")
        return name

    @classmethod
    def try_parse(cls, text: str) -> CheckpointName | None:
        text = str(text)
        if text == "sft":
            return cls.sft()
        if text in {b.value for b in Baseline}:
            return cls.of_baseline(text)
        for kind, pattern in _PATTERNS.items():
            if (m := pattern.fullmatch(text)) is None:
                continue
            if kind is Kind.LOSS:
                try:
                    return cls.of_loss(m.group(1), float(m.group(2)))
                except ValueError:
                    return None
            numbers = [int(g) for g in m.groups()]
            build = {Kind.ITERATION: cls.of_iteration, Kind.EPOCH: cls.of_epoch, Kind.SIZE: cls.of_size,
                     Kind.SFT_CURVE: cls.of_sft_curve}[kind]
            try:
                name = build(*numbers)
            except ValueError:
                return None
            return name if name.format() == text else None  # "iter01" is not a name: one spelling each
        return None

    # -------------------------------------------------------------- order and relations

    def sort_key(self) -> tuple:
        """Training order: sft; each iteration after its epoch checkpoints; then the rest by name."""
        match self.kind:
            case Kind.SFT:
                return (0, 0, 0, "")
            case Kind.EPOCH:
                return (1, self.iteration, self.epoch, "")
            case Kind.ITERATION:
                return (1, self.iteration, _LAST, "")
        return (2, 0, 0, self.format())

    def spin_steps(self) -> int | None:
        """How many SPIN iterations this checkpoint has been through on the main trajectory (sft 0, iter<k>
        k + 1); None for checkpoints off it (baselines, ablations)."""
        if self.kind is Kind.SFT:
            return 0
        if self.kind is Kind.ITERATION:
            return self.iteration + 1
        return None

    def previous_stage(self) -> CheckpointName | None:
        """The checkpoint iteration k started from: SFT for iteration 0, iteration k-1 after that."""
        if self.kind is not Kind.ITERATION:
            return None
        return CheckpointName.sft() if self.iteration == 0 else CheckpointName.of_iteration(self.iteration - 1)


def _count(value: int, what: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return value


# ------------------------------------------------------------------ labels


def run_label(run: str, name: CheckpointName | str) -> str:
    """The store label of a run's checkpoint: ``<run>/<name>``."""
    return f"{run}/{name}"


def split_label(label: str) -> tuple[str, CheckpointName | None]:
    """``"embedded/iter1"`` -> ``("embedded", iter1)``; a label outside the grammar gives ``(label, None)``."""
    run, slash, rest = str(label).partition("/")
    if not slash:
        return str(label), None
    return run, CheckpointName.try_parse(rest)


def label_sort_key(label: str) -> tuple:
    """Labels grouped by run, each run's checkpoints in training order, other labels by name."""
    run, slash, rest = str(label).partition("/")
    name = CheckpointName.try_parse(rest) if slash else None
    return (run, *(name.sort_key() if name is not None else (2, 0, 0, rest)))


def iterations_of(names: Iterable[CheckpointName | str]) -> list[int]:
    """The SPIN iteration numbers among ``names`` (texts or CheckpointNames), ascending."""
    found = set()
    for item in names:
        name = item if isinstance(item, CheckpointName) else CheckpointName.try_parse(str(item))
        if name is not None and name.kind is Kind.ITERATION:
            found.add(name.iteration)
    return sorted(found)
