"""Strict loading of YAML mappings into frozen dataclasses.

Why hand-written: the field's options (OmegaConf, HfArgumentParser, pydantic) either accept unknown keys
silently, do not handle nested lists of dataclasses, or pull a large dependency for ~150 lines of checks.
Every error names the source file and the dotted key, so a typo in a recipe fails loudly.

A field declared with ``metadata=INLINE`` is a section whose keys sit in its parent's mapping (a recipe's
``training:`` holds the ``learning_rate``/``epochs``/``optimizer`` of its Schedule next to its batch size).
Keys given for it override the field's default instance, so a section's own defaults hold for the rest.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from spin_bench.core.errors import ConfigError
from spin_bench.core.hashing import jsonable

T = TypeVar("T")
INLINE = {"inline": True}


def from_mapping(cls: type[T], raw: Any, source: str, key: str = "") -> T:
    """Build dataclass ``cls`` from ``raw``; unknown keys, wrong types and failed checks raise ConfigError."""
    where = f"{source}: {key}" if key else source
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    inline = {name: f for name, f in fields.items() if f.metadata.get("inline")}
    owner = {sub: name for name in inline for sub in allowed_keys(hints[name])}  # inline key -> its section
    allowed = (set(fields) - set(inline)) | set(owner)
    unknown = sorted(set(map(str, raw)) - allowed)
    if unknown:
        dotted = ", ".join(_join(key, name) for name in unknown)
        raise ConfigError(f"{source}: unknown key(s): {dotted} (allowed: {', '.join(sorted(allowed))})")
    values = {name: _coerce(hints[name], raw[name], source, _join(key, name)) for name in raw if name not in owner}
    for name, f in inline.items():
        given = {sub: raw[sub] for sub, parent in owner.items() if parent == name and sub in raw}
        values[name] = _inline_section(hints[name], f, given, source, key)
    try:
        return cls(**values)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{where}: {err}") from None


def allowed_keys(cls: type) -> set[str]:
    """The keys a mapping for ``cls`` may hold (inline sections contribute their own keys)."""
    keys = set()
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.init:
            keys |= allowed_keys(hints[f.name]) if f.metadata.get("inline") else {f.name}
    return keys


def _inline_section(hint: Any, f: dataclasses.Field, given: dict[str, Any], source: str, key: str) -> Any:
    """An inline section: its default instance with the given keys replaced, or built from them alone."""
    if f.default_factory is dataclasses.MISSING and f.default is dataclasses.MISSING:
        return from_mapping(hint, given, source, key)
    base = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    if not given:
        return base
    hints = typing.get_type_hints(hint)
    if any(f.metadata.get("inline") for f in dataclasses.fields(hint)):
        raise TypeError(f"{hint.__name__}: a section inlined with a default cannot inline another one")
    values = {name: _coerce(hints[name], value, source, _join(key, name)) for name, value in given.items()}
    try:
        return dataclasses.replace(base, **values)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{source}: {key + ': ' if key else ''}{err}") from None


def _join(prefix: str, name: str | int) -> str:
    return f"{prefix}.{name}" if prefix else str(name)


def _coerce(hint: Any, value: Any, source: str, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        candidates = [a for a in args if a is not type(None)]
        errors = []
        for candidate in candidates:
            try:
                return _coerce(candidate, value, source, key)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0])
    if hint is Any:
        return value
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, source, key)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        allowed = [m.value for m in hint]
        if value not in allowed:
            raise ConfigError(f"{source}: {key}: {value!r} is not one of {allowed}")
        return hint(value)
    if origin in (list, tuple, Sequence):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{source}: {key}: expected a list, got {type(value).__name__}")
        item_hint = args[0] if args else Any
        items = [_coerce(item_hint, v, source, _join(key, i)) for i, v in enumerate(value)]
        return tuple(items)
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{source}: {key}: expected a mapping, got {type(value).__name__}")
        value_hint = args[1] if len(args) == 2 else Any
        return {str(k): _coerce(value_hint, v, source, _join(key, k)) for k, v in value.items()}
    return _coerce_scalar(hint, value, source, key)


def _coerce_scalar(hint: Any, value: Any, source: str, key: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        number = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            # YAML 1.1 reads "5e-7" (no dot) as a string; accept numeric strings for floats only.
            try:
                number = float(value)
            except ValueError:
                pass
        if number is not None:
            if not math.isfinite(number):
                raise ConfigError(f"{source}: {key}: must be a finite number, got {value!r}")
            return number
    elif hint is str:
        if isinstance(value, str):
            return value
    elif hint is Path:
        if isinstance(value, str):
            return Path(value)
    elif hint is type(None):
        if value is None:
            return None
    else:
        raise ConfigError(f"{source}: {key}: unsupported config type {hint!r}")
    raise ConfigError(f"{source}: {key}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


def to_plain(value: Any) -> Any:
    """Dataclass -> plain dict/list/scalars, as a config file writes it (inline sections flattened)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        plain: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = to_plain(getattr(value, f.name))
            if f.metadata.get("inline"):
                plain.update(item)
            else:
                plain[f.name] = item
        return plain
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return jsonable(value)


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{line} invalid YAML: {getattr(err, 'problem', err)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return raw


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str], source: str = "command line") -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides (values parsed as YAML; list items addressed by index) to a copy of raw."""
    import copy

    result = copy.deepcopy(raw)
    for override in overrides:
        dotted, sep, text = override.partition("=")
        if not sep or not dotted:
            raise ConfigError(f"{source}: override {override!r} is not of the form key.sub=value")
        try:
            value = yaml.safe_load(text) if text else ""
        except yaml.YAMLError as err:
            raise ConfigError(f"{source}: {dotted}: value {text!r} is not valid YAML ({getattr(err, 'problem', err)})") from None
        parts = dotted.split(".")
        node: Any = result
        for depth, part in enumerate(parts[:-1]):
            node = _descend(node, part, ".".join(parts[: depth + 1]), source)
        _assign(node, parts[-1], value, dotted, source)
    return result


def _descend(node: Any, part: str, path: str, source: str) -> Any:
    if isinstance(node, list):
        index = _index(part, len(node), path, source)
        return node[index]
    if not isinstance(node, dict):
        raise ConfigError(f"{source}: {path}: cannot descend into a {type(node).__name__}")
    if node.get(part) is None:  # a section left null in the YAML can still be filled from the command line
        node[part] = {}
    return node[part]


def _assign(node: Any, part: str, value: Any, path: str, source: str) -> None:
    if isinstance(node, list):
        node[_index(part, len(node), path, source)] = value
    elif isinstance(node, dict):
        node[part] = value
    else:
        raise ConfigError(f"{source}: {path}: cannot set a key inside a {type(node).__name__}")


def _index(part: str, length: int, path: str, source: str) -> int:
    if not part.isdigit() or int(part) >= length:
        raise ConfigError(f"{source}: {path}: {part!r} is not an index of a list of {length}")
    return int(part)


def dump_yaml(value: Any) -> str:
    return yaml.safe_dump(to_plain(value), sort_keys=False, allow_unicode=True)
