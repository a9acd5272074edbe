"""Which data an evaluation reads (``--data``): a pulled directory, the embedded world, or the Hub."""

from __future__ import annotations

from pathlib import Path

from spin_bench.bench.suites import TaskSpec
from spin_bench.bench.taskdir import BenchData
from spin_bench.core.errors import DataError


def open_bench_data(data: str | None, specs: tuple[TaskSpec, ...], world_seed: int = 0) -> BenchData:
    """``None``: the Hub, as lm-eval does; ``"embedded"``: the embedded world; else a pulled directory,
    validated (manifest, files present, columns of lm-eval's schemas) before any model work."""
    from spin_bench.data.manifest import load_manifest

    if data is None:
        return BenchData(directory=None, manifest=None)
    if data == "embedded":
        from spin_bench.bench.embedded_data import embedded_bench_dir

        directory = embedded_bench_dir(world_seed)
    else:
        directory = Path(data).expanduser()
    manifest = load_manifest(directory)
    bench = BenchData(directory=directory, manifest=manifest)
    for spec in specs:
        _check_columns(bench, spec)
    return bench


def _check_columns(bench: BenchData, spec: TaskSpec) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from spin_bench.data.manifest import task_files
    from spin_bench.data.schemas import HELLASWAG_REQUIRED, SCHEMAS

    if spec.data_dir not in bench.manifest["tasks"]:
        raise DataError(f"{bench.directory}: no {spec.data_dir!r} data (needed by task {spec.name}); "
                        f"pull it with spin-bench data pull --to {bench.directory}")
    required = HELLASWAG_REQUIRED if spec.schema == "hellaswag" else tuple(SCHEMAS[spec.schema].names)
    for path in task_files(bench.manifest, bench.directory, spec.data_dir).values():
        try:
            names = pq.read_schema(path).names
        except (pa.ArrowInvalid, OSError) as err:
            raise DataError(f"{path}: not a readable parquet file ({err})") from None
        if missing := [c for c in required if c not in names]:
            raise DataError(f"{path}: column {missing[0]!r} of the {spec.schema} schema is missing "
                            f"(has {', '.join(names)})")
