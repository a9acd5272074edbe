"""The opponent's answers: sharded, resumable, optionally split across processes.

Prompts are sorted by length (so every batch pads little) and cut into shards; each finished shard is
written atomically, so a killed run redoes at most one shard per process. Under torchrun each rank takes
every world_size-th shard. Shards are seeded by index, so a resumed run produces the same answers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from spin_bench.core.atomic import clean_partials, write_parquet_atomic
from spin_bench.core.enums import Precision
from spin_bench.inference.checkpoints import ResolvedModel, load_tokenizer
from spin_bench.inference.config import GenerationConfig
from spin_bench.inference.distributed import process_state
from spin_bench.inference.generation import make_generator
from spin_bench.inference.prompts import render_prompt
from training.data import PromptResponse


def _shard_path(directory: Path, index: int) -> Path:
    return directory / f"shard-{index:05d}.parquet"


def generate_answers(
    model: ResolvedModel,
    rows: Sequence[PromptResponse],
    config: GenerationConfig,
    precision: Precision,
    directory: Path,
    seed: int,
    desc: str,
) -> tuple[dict[str, str], float]:
    """Opponent answers by prompt_id, and the generation seconds spent on them (summed over shards)."""
    state = process_state()
    if state.is_main_process:
        clean_partials(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ordered = sorted(rows, key=lambda r: (-len(r.prompt), r.prompt_id))
    shards = [ordered[i : i + config.shard_size] for i in range(0, len(ordered), config.shard_size)]
    mine = [i for i in range(len(shards)) if i % state.num_processes == state.process_index]
    missing = [i for i in mine if not _shard_path(directory, i).exists()]
    if missing:
        _generate_shards(model, shards, missing, config, precision, directory, seed, desc, state.is_main_process)
    state.wait_for_everyone()
    answers = _read_shards(directory, len(shards))
    state.wait_for_everyone()  # every rank has read the shards before the caller may delete them
    return answers


def _generate_shards(model, shards, missing, config, precision, directory, seed, desc, show) -> None:
    import pandas as pd
    import pyarrow as pa

    tokenizer = load_tokenizer(model)
    generator = make_generator(model, config, precision)
    total = sum(len(shards[i]) for i in missing)
    with tqdm(total=total, desc=desc, unit="prompt", disable=not show) as bar:
        for index in missing:
            shard = shards[index]
            rendered = [
                render_prompt(tokenizer, [{"role": "user", "content": r.prompt}], config.prompt_format) for r in shard
            ]
            started = time.perf_counter()
            answers = generator.generate(rendered, seed=seed + index, progress=bar.update)
            seconds = time.perf_counter() - started
            frame = pd.DataFrame({"prompt_id": [r.prompt_id for r in shard], "generated": answers})
            table = pa.Table.from_pandas(frame, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"seconds": str(seconds).encode()})
            write_parquet_atomic(_shard_path(directory, index), table)


def _read_shards(directory: Path, count: int) -> tuple[dict[str, str], float]:
    import pyarrow.parquet as pq

    answers: dict[str, str] = {}
    seconds = 0.0
    for index in range(count):
        table = pq.read_table(_shard_path(directory, index))
        seconds += float((table.schema.metadata or {}).get(b"seconds", b"0"))
        answers.update(zip(table.column("prompt_id").to_pylist(), table.column("generated").to_pylist(), strict=True))
    return answers, seconds
