"""The embedded world: a seeded generator of instruction data in the benchmarks' formats, offline.

Training reads its SFT, SPIN, held-out and preference splits (``embedded:<split>`` data sources); the bench
renders its eval split in the real benchmarks' schemas; MT-Bench asks its two-turn chat items. Public API:
"""

from __future__ import annotations

from pathlib import Path

from spin_bench.core.hashing import file_sha256, stable_hash
from spin_bench.data.world.examples import (
    SKILLS,
    SPLITS,
    Example,
    WorldConfig,
    build_world,
    preference_records,
    sft_records,
)
from spin_bench.data.world.renderings import pretrain_texts

__all__ = ["SKILLS", "SPLITS", "Example", "WorldConfig", "build_world", "code_fingerprint", "preference_records",
           "pretrain_texts", "sft_records"]


def code_fingerprint() -> str:
    """A hash of the generator's own source files: a cache of rendered world data keyed by it is rebuilt
    whenever the generator changes, and found without building the world when it has not."""
    folder = Path(__file__).parent
    return stable_hash({path.name: file_sha256(path) for path in sorted(folder.glob("*.py"))})
