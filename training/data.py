"""Loading and validating SFT and preference data: UltraChat-200k and UltraFeedback-binarized schemas.

Sources: "embedded:<split>" (the project's generated world), local .jsonl/.json/.parquet files with the Hub
schema, or a HuggingFace dataset id (needs the Hub). Every bad row fails with one line naming file and row.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spin_bench.core.errors import DataError
from spin_bench.core.hashing import file_sha256, stable_hash
from training.config import DataSource

LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet")
EMBEDDED_PREFIX = "embedded:"


@dataclass(frozen=True)
class PromptResponse:
    """First user turn and first assistant turn of a conversation (the paper uses nothing else)."""

    prompt_id: str
    prompt: str
    response: str
    row: int = 0  # 1-based row in the source, for error messages


@dataclass(frozen=True)
class PreferencePair:
    prompt_id: str
    prompt: str
    chosen: str
    rejected: str
    row: int = 0


@dataclass(frozen=True)
class LoadedData:
    rows: tuple[Any, ...]
    provenance: dict[str, Any]  # source, split, content hash, sample size and seed


def load_sft(source: DataSource, seed: int, embedded_seed: int = 0) -> LoadedData:
    raw, provenance = _read_source(source, embedded_seed, kind="sft")
    rows = [_parse_sft_row(row, provenance["source"], number) for number, row in raw]
    return _sample(rows, source, seed, provenance)


def load_preferences(source: DataSource, seed: int, embedded_seed: int = 0) -> LoadedData:
    raw, provenance = _read_source(source, embedded_seed, kind="preferences")
    rows = [_parse_preference_row(row, provenance["source"], number) for number, row in raw]
    return _sample(rows, source, seed, provenance)


def _sample(rows: list[Any], source: DataSource, seed: int, provenance: dict[str, Any]) -> LoadedData:
    if not rows:
        raise DataError(f"{provenance['source']}: no rows")
    # Keep the first row of a repeated prompt_id: answers are keyed by it (the released SPIN_iter0 data
    # held every row twice, uclaml/SPIN#10).
    seen: set[str] = set()
    unique = [r for r in rows if not (r.prompt_id in seen or seen.add(r.prompt_id))]
    provenance = {**provenance, "duplicates_dropped": len(rows) - len(unique)}
    rows = unique
    # A fixed permutation then a prefix: a larger sample always contains a smaller one (nested ablations).
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    if source.num_samples is not None:
        if source.num_samples > len(rows):
            raise DataError(
                f"{provenance['source']}: num_samples={source.num_samples} but the data has only {len(rows)} rows"
            )
        order = order[: source.num_samples]
    picked = tuple(rows[i] for i in order)
    provenance = {**provenance, "rows_available": len(rows), "rows_used": len(picked), "sample_seed": seed}
    return LoadedData(rows=picked, provenance=provenance)


def _read_source(source: DataSource, embedded_seed: int, kind: str) -> tuple[list[tuple[int, Any]], dict[str, Any]]:
    """(row number, raw row) pairs: the line number in a JSONL file, else the 1-based row index."""
    name = source.source
    if name.startswith(EMBEDDED_PREFIX):
        return _read_embedded(name.removeprefix(EMBEDDED_PREFIX), embedded_seed, kind)
    path = Path(name)
    if path.suffix in LOCAL_SUFFIXES or path.exists() or name.startswith((".", "/", "~")):
        path = path.expanduser()
        rows = list(_read_local(path))
        return rows, {"source": str(path), "split": None, "sha256": file_sha256(path)}
    return _read_hub(name, source.split, kind)


def _read_embedded(split: str, world_seed: int, kind: str) -> tuple[list[Any], dict[str, Any]]:
    from spin_bench.data.world import (
        SPLITS,
        WorldConfig,
        build_world,
        preference_records,
        sft_records,
    )

    if split not in SPLITS:
        raise DataError(f"embedded:{split}: unknown split (choose from {', '.join(SPLITS)})")
    config = WorldConfig(seed=world_seed)
    examples = build_world(config)[split]
    records = preference_records(examples) if kind == "preferences" else sft_records(examples)
    return list(enumerate(records, start=1)), {"source": f"embedded:{split}", "split": split, "world_seed": world_seed,
                     "sha256": stable_hash(records, length=64)}


def _read_local(path: Path) -> Iterator[tuple[int, Any]]:
    if path.is_dir():
        raise DataError(f"{path}: is a directory; give a .jsonl, .json or .parquet file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix == ".parquet":
        yield from enumerate(_read_parquet(path), start=1)
        return
    data = path.read_bytes()
    if not data.strip():
        raise DataError(f"{path}: the file is empty")
    if path.suffix == ".json":
        rows = _decode_json(path, data, row=None)
        if not isinstance(rows, list):
            raise DataError(f"{path}: expected a JSON list of rows")
        yield from enumerate(rows, start=1)
        return
    for number, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            yield number, _decode_json(path, line, row=number)


def _decode_json(path: Path, payload: bytes, row: int | None) -> Any:
    where = f"{path}: line {row}" if row is not None else f"{path}"
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{where}: not valid UTF-8 (byte {err.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{where}: invalid JSON ({err.msg})") from None


def _read_parquet(path: Path) -> list[Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(f"{path}: not a readable Parquet file ({err})") from None
    if table.num_rows == 0:
        raise DataError(f"{path}: the file is empty")
    try:
        return table.to_pylist()
    except (pa.ArrowInvalid, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot decode rows ({err})") from None


def _read_hub(dataset_id: str, split: str, kind: str) -> tuple[list[Any], dict[str, Any]]:
    import datasets

    try:
        dataset = datasets.load_dataset(dataset_id, split=split)
    except Exception as err:  # noqa: BLE001 - any Hub failure is one user-facing line
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"{dataset_id} (split {split}): cannot load from the HuggingFace Hub: {first_line}") from None
    return list(enumerate(dataset, start=1)), {"source": dataset_id, "split": split, "fingerprint": dataset._fingerprint}


def _require_text(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str):
        raise DataError(f"{where}: {name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise DataError(f"{where}: {name} is empty")
    return value


def _row_where(source: str, number: int) -> str:
    return f"{source}: row {number}"


def _parse_sft_row(row: Any, source: str, index: int) -> PromptResponse:
    """``index`` is the 1-based row number (the line number in a JSONL file)."""
    where = _row_where(source, index)
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected an object with columns prompt, messages")
    missing = [c for c in ("prompt", "messages") if c not in row]
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)}")
    prompt = _require_text(row["prompt"], where, "prompt")
    user, assistant = _first_exchange(row["messages"], where)
    if user.strip() != prompt.strip():
        raise DataError(f"{where}: prompt does not match the first user message")
    prompt_id = str(row.get("prompt_id") or stable_hash(prompt))
    return PromptResponse(prompt_id=prompt_id, prompt=prompt, response=assistant, row=index)


def _first_exchange(messages: Any, where: str) -> tuple[str, str]:
    """The first user turn and the assistant turn right after it."""
    if not isinstance(messages, Sequence) or isinstance(messages, str):
        raise DataError(f"{where}: messages must be a list of {{role, content}} objects")
    for i, message in enumerate(messages[:-1]):
        if _role(message, where, i) == "user":
            if _role(messages[i + 1], where, i + 1) != "assistant":
                raise DataError(f"{where}: messages[{i + 1}] must be the assistant's answer to messages[{i}]")
            user = _require_text(message.get("content"), where, f"messages[{i}].content")
            answer = _require_text(messages[i + 1].get("content"), where, f"messages[{i + 1}].content")
            return user, answer
    raise DataError(f"{where}: messages has no user turn followed by an assistant turn")


def _role(message: Any, where: str, i: int) -> str:
    if not isinstance(message, dict) or "role" not in message:
        raise DataError(f"{where}: messages[{i}] must be an object with role and content")
    return str(message["role"])


def _parse_preference_row(row: Any, source: str, index: int) -> PreferencePair:
    where = _row_where(source, index)
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected an object with columns prompt, chosen, rejected")
    missing = [c for c in ("prompt", "chosen", "rejected") if c not in row]
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)}")
    prompt = _require_text(row["prompt"], where, "prompt")
    chosen = _answer_text(row["chosen"], where, "chosen")
    rejected = _answer_text(row["rejected"], where, "rejected")
    prompt_id = str(row.get("prompt_id") or stable_hash(prompt))
    return PreferencePair(prompt_id=prompt_id, prompt=prompt, chosen=chosen, rejected=rejected, row=index)


def _answer_text(value: Any, where: str, name: str) -> str:
    """A preference answer is a plain string or a conversation whose first assistant turn is the answer."""
    if isinstance(value, str):
        return _require_text(value, where, name)
    _, answer = _first_exchange(value, f"{where}: {name}")
    return answer
