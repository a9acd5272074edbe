"""A recipe: one YAML file for the whole pipeline, loaded strictly into typed sections.

Its top-level keys are the training recipe's (training.config.TrainingRecipe: model, data, generation,
training, spin, baselines, embedded), plus ``bench`` (what `spin-bench run` scores, spin_bench.bench.config)
and ``ablations`` (how `spin-bench ablate` trains and scores its studies). Each stage reads its own section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from spin_bench.bench.config import BenchConfig
from spin_bench.core.errors import ConfigError
from spin_bench.core.typed_config import (
    INLINE,
    apply_overrides,
    from_mapping,
    load_yaml_mapping,
)
from training.config import AblationStudies, TrainingRecipe


@dataclass(frozen=True, kw_only=True)
class AblationsConfig:
    """`spin-bench ablate`: the studies' training settings, and what their checkpoints are scored on."""

    suites: str | None = None  # None: bench.suites
    studies: AblationStudies = field(default_factory=AblationStudies, metadata=INLINE)


@dataclass(frozen=True, kw_only=True)
class Recipe:
    train: TrainingRecipe = field(metadata=INLINE)  # everything `spin-bench train` reads
    bench: BenchConfig = field(default_factory=BenchConfig)
    ablations: AblationsConfig = field(default_factory=AblationsConfig)

    @property
    def name(self) -> str:
        return self.train.name

    def ablation_bench(self) -> BenchConfig:
        """The bench section with the ablations' suites (the same store, data and settings)."""
        from dataclasses import replace

        return replace(self.bench, suites=self.ablations.suites or self.bench.suites)


def builtin_recipes() -> dict[str, Path]:
    folder = resources.files("spin_bench") / "recipes"
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
