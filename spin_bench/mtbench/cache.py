"""Judge responses cached by request in SQLite: a rerun, a resumed run or a second model with the same
answer never asks the judge again. Only successful responses are stored; failures are asked again."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spin_bench.core.hashing import stable_hash


class JudgmentCache:
    """One SQLite file shared by threads (one lock) and processes (SQLite's own locking)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=60.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL, "
                         "created_at TEXT NOT NULL)")
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(identity: dict[str, Any], request: dict[str, Any]) -> str:
        """Same judge (model, mode, fingerprint), same request (messages and parameters): same key."""
        return stable_hash({"judge": identity, "request": request}, length=32)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return json.loads(row[0])

    def put(self, key: str, response: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO responses VALUES (?, ?, ?)",
                             (key, json.dumps(response, sort_keys=True), datetime.now(UTC).isoformat()))

    def close(self) -> None:
        with self._lock:
            self._db.close()
