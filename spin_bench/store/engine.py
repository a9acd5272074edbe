"""Opening a results store: URL resolution, SQLite settings for many writers, and one-line errors.

SQLite is the default store and several evaluation processes write to it at once, so every connection
runs in WAL mode (readers never block the writer) with a long busy timeout (a writer waits its turn
instead of failing), and write transactions start with ``BEGIN IMMEDIATE``: they take the write lock
before reading, so two writers can never both read "no such row" and then deadlock on the upgrade.
Other databases (PostgreSQL for a team, ``postgresql+psycopg://user@host/db`` with the ``postgres`` extra) go
through the same code with their own locking; tests/spin_bench/test_postgres_store.py runs it on a real server.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.pool import StaticPool

from spin_bench.core.errors import UserError

T = TypeVar("T")

# Longer than any one add() takes under contention; a writer that waits this long has a real problem.
SQLITE_BUSY_TIMEOUT_S = 60.0
# Connection execution option read by the "begin" hook: IMMEDIATE for writes, DEFERRED for reads.
_BEGIN_OPTION = "spin_bench_sqlite_begin"
_RETRIES = 5
# libpq otherwise waits for the system's TCP timeout (minutes) on a host that drops packets.
PG_CONNECT_TIMEOUT_S = 10
_LIBPQ_DRIVERS = ("psycopg", "psycopg2")
_PASSWORD_IN_TEXT = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def resolve_url(target: str | os.PathLike[str]) -> URL:
    """A bare path (str or PathLike) is a SQLite file; anything with ``://`` is a SQLAlchemy URL."""
    text = os.fspath(target)
    if isinstance(target, os.PathLike) or "://" not in text:
        return URL.create("sqlite", database=str(Path(text).expanduser().absolute()))
    try:
        return make_url(text)
    except ArgumentError as err:
        raise UserError(f"results store URL {mask_text(text)!r} is not a valid SQLAlchemy URL: {err}") from None


def shown(url: URL) -> str:
    """The URL as messages and reports may show it: the password is replaced by ``***``."""
    return url.render_as_string(hide_password=True)


def mask_text(text: str) -> str:
    """Hide a password in text that could not be parsed as a URL (``scheme://user:secret@host``)."""
    return _PASSWORD_IN_TEXT.sub(r"\1***@", text)


def describe(err: BaseException) -> str:
    """One line about what the database said, without SQLAlchemy's statement dump and help link."""
    inner = err.orig if isinstance(err, DBAPIError) and err.orig is not None else err
    lines = str(inner).strip().splitlines() or [type(inner).__name__]
    return mask_text(lines[0])


def open_engine(url: URL) -> Engine:
    """An Engine for ``url``; a driver that is missing or a directory that cannot be made is a UserError."""
    is_sqlite = url.get_backend_name() == "sqlite"
    options: dict[str, Any] = {}
    if is_sqlite:
        _make_parent_directory(url)
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        if _is_memory(url):
            # Each new connection to ":memory:" is a new empty database: keep exactly one.
            options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif url.get_backend_name() == "postgresql" and url.get_driver_name() in _LIBPQ_DRIVERS \
            and "connect_timeout" not in url.query:
        options["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    try:
        engine = create_engine(url, **options)
    except (NoSuchModuleError, ImportError) as err:
        raise UserError(f"cannot open results store {shown(url)}: {describe(err)} (is its driver installed?)") from None
    except ArgumentError as err:
        raise UserError(f"cannot open results store {shown(url)}: {describe(err)}") from None
    if is_sqlite:
        _install_sqlite_settings(engine, wal=not _is_memory(url))
    return engine


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _make_parent_directory(url: URL) -> None:
    # "file:" URIs (uri=true) name their own path and options; leave those to SQLite.
    if _is_memory(url) or url.query.get("uri"):
        return
    parent = Path(str(url.database)).expanduser().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot open results store {shown(url)}: cannot create {parent}: {err.strerror}") from None


def _install_sqlite_settings(engine: Engine, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Stop the sqlite3 module from issuing its own (deferred) BEGIN; the "begin" hook below does it.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        if wal:
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that commits on success and rolls back on any error; on SQLite it holds the write
    lock from its first statement. Other backends ignore the option."""
    with engine.connect() as conn:
        conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            yield conn


def is_locked_error(err: BaseException) -> bool:
    """SQLite's "database is locked"/"busy": the busy timeout ran out, so trying again is safe."""
    if not isinstance(err, OperationalError | sqlite3.OperationalError):
        return False
    text = describe(err).lower()
    return "locked" in text or "busy" in text


def retry_transient(action: Callable[[], T], also: tuple[type[BaseException], ...] = ()) -> T:
    """Run a whole transaction again when SQLite stayed locked past its timeout, or on ``also`` errors.

    Each attempt is a complete transaction that rolled back, so a retry can neither lose nor double a row.
    """
    for attempt in range(_RETRIES):
        try:
            return action()
        except Exception as err:
            if attempt == _RETRIES - 1 or not (is_locked_error(err) or isinstance(err, also)):
                raise
        time.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover
