"""Stable content hashes: the keys of the stage cache and the provenance of every output."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from pathlib import Path
from typing import Any


def jsonable(value: Any) -> Any:
    """Dataclasses, enums and paths as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def stable_hash(value: Any, length: int = 16) -> str:
    """sha256 of the canonical JSON form of ``value`` (dataclasses, enums and paths included)."""
    canonical = json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:length]


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


# Files that decide what a checkpoint computes; metrics, timings and notes saved beside them do not count.
CHECKPOINT_FILES = (
    "*.safetensors",
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "*.model",
    "*.gguf",
)


def directory_hash(directory: Path, patterns: tuple[str, ...] = CHECKPOINT_FILES) -> str:
    """Hash of the files that define a checkpoint's behaviour (weights, configs, tokenizer), by name and content."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in patterns for p in directory.glob(pattern) if p.is_file()})
    for path in files:
        digest.update(path.name.encode("utf-8"))
        digest.update(file_sha256(path).encode("ascii"))
    return digest.hexdigest()[:16]
