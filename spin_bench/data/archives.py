"""Reading members straight out of a wheel or an sdist, without unpacking or installing either.

Every member read is logged with its sha256, so the manifest can say exactly which bytes a split came from.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from tqdm.auto import tqdm

from spin_bench.core.errors import DataError


def sha256_bytes(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


class MemberSource(Protocol):
    """How the bytes of an archive's members are obtained (a zip on demand, a tar in one pass)."""

    def names(self) -> list[str]: ...

    def raw(self, member: str) -> bytes: ...

    def close(self) -> None: ...


class Archive:
    """Members of one archive by path, each read logged with its sha256 for the manifest."""

    def __init__(self, path: Path, source: MemberSource) -> None:
        self.path = path
        self.members_read: dict[str, str] = {}
        self._source = source

    def names(self) -> list[str]:
        return self._source.names()

    def close(self) -> None:
        self._source.close()

    def read(self, member: str, expected_sha256: str | None = None) -> bytes:
        payload = self._source.raw(member)
        digest = sha256_bytes(payload)
        if expected_sha256 is not None and digest != expected_sha256:
            raise DataError(f"{self.path.name}: member {member} has sha256 {digest}, expected {expected_sha256}")
        self.members_read[member] = digest
        return payload

    def read_json(self, member: str, expected_sha256: str | None = None) -> Any:
        try:
            return json.loads(self.read(member, expected_sha256))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise DataError(f"{self.path.name}: member {member} is not valid JSON ({err})") from None

    def read_jsonl_gz(self, member: str) -> list[dict[str, Any]]:
        try:
            lines = gzip.decompress(self.read(member)).decode("utf-8").splitlines()
        except (OSError, EOFError, UnicodeDecodeError) as err:
            raise DataError(f"{self.path.name}: member {member} is not gzipped UTF-8 text ({err})") from None
        rows = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise DataError(f"{self.path.name}: {member} line {number} is not valid JSON ({err})") from None
        return rows


class _ZipMembers:
    """A wheel is a zip: members are read on demand, in any order."""

    def __init__(self, path: Path) -> None:
        self._path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as err:
            raise DataError(f"{path}: not a readable wheel ({err})") from None

    def names(self) -> list[str]:
        return self._zip.namelist()

    def raw(self, member: str) -> bytes:
        try:
            return self._zip.read(member)
        except KeyError:
            raise DataError(f"{self._path.name}: member {member} is missing") from None

    def close(self) -> None:
        self._zip.close()


class _TarMembers:
    """A gzipped tar can only be read front to back, so the wanted members are pulled out in one pass."""

    def __init__(self, path: Path, wanted: Iterable[str]) -> None:
        self._path = path
        self._members = _read_tar_members(path, set(wanted))

    def names(self) -> list[str]:
        return sorted(self._members)

    def raw(self, member: str) -> bytes:
        try:
            return self._members[member]
        except KeyError:
            raise DataError(f"{self._path.name}: member {member} was not extracted") from None

    def close(self) -> None:
        """Everything is already in memory."""


def WheelArchive(path: Path) -> Archive:  # noqa: N802 - reads like the archive kind it builds
    return Archive(path, _ZipMembers(path))


def SdistArchive(path: Path, wanted: Iterable[str]) -> Archive:  # noqa: N802
    return Archive(path, _TarMembers(path, wanted))


def _read_tar_members(path: Path, wanted: set[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    size = path.stat().st_size
    with open(path, "rb") as raw, tqdm.wrapattr(raw, "read", total=size, desc=f"reading {path.name}",
                                                 unit="B", unit_scale=True, unit_divisor=1024,
                                                 leave=False) as handle:
        try:
            with tarfile.open(fileobj=handle, mode="r|gz") as tar:
                for info in tar:
                    if info.name in wanted and info.isfile():
                        found[info.name] = tar.extractfile(info).read()
                        # Stop as soon as everything is in hand: the rest of the stream is hundreds of MB.
                        if len(found) == len(wanted):
                            break
        except (tarfile.TarError, OSError, EOFError) as err:
            raise DataError(f"{path}: not a readable gzipped tar ({err})") from None
    missing = sorted(wanted - set(found))
    if missing:
        raise DataError(f"{path.name}: member {missing[0]} is missing")
    return found


def arrow_stream_table(archive: Archive, member: str) -> Any:
    """A HF `save_to_disk` .arrow file is an Arrow IPC *stream*, not the random-access file format."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    try:
        table = ipc.open_stream(io.BytesIO(archive.read(member))).read_all()
    except pa.ArrowInvalid as err:
        raise DataError(f"{archive.path.name}: member {member} is not an Arrow stream ({err})") from None
    # The embedded HF feature metadata would override our declared schema when `datasets` reads the parquet.
    return table.replace_schema_metadata(None)
