"""One SQLite connection in WAL mode, shared by a process's threads: the base of every store on jobs.db."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["WalDatabase"]


class WalDatabase:
    """A connection to `path` in WAL mode (readers never block the writer; several connections, even in
    other processes, write in turn), with `schema` applied. `_tx()` is one short write transaction, taken
    at once (BEGIN IMMEDIATE) so two writers queue instead of failing half-way.
    """

    def __init__(self, path: Path, schema: str = "") -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL survives a crash of the process; only a power cut can lose the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        if schema:
            self._db.executescript(schema)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
