"""Mention ids seen before, across connectors and restarts, in a bounded SQLite table."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from routing.errors import QueueUnavailableError

__all__ = ["SeenIds"]

_SCHEMA = "CREATE TABLE IF NOT EXISTS seen (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE)"


class SeenIds:
    """The last ``capacity`` mention ids ingested, oldest forgotten first.

    Memory stays bounded (SQLite's page cache) and so does the file: about 60 bytes per id.
    A duplicate older than the last ``capacity`` ids is no longer recognized.
    """

    def __init__(self, path: Path | str, capacity: int = 1_000_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.path = Path(path)
        self.capacity = capacity
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA busy_timeout=5000")
                db.execute(_SCHEMA)
            except (sqlite3.Error, OSError) as exc:
                raise QueueUnavailableError(
                    f"{self.path}: cannot open the seen-ids table: {exc}"
                ) from exc
            self._db = db
        return self._db

    def unseen(self, ids: Sequence[str]) -> list[str]:
        """The ids of ``ids`` not seen before, in order, each once."""
        with self._lock:
            db = self._conn()
            fresh: list[str] = []
            for mention_id in dict.fromkeys(ids):
                if db.execute("SELECT 1 FROM seen WHERE id = ?", (mention_id,)).fetchone() is None:
                    fresh.append(mention_id)
            return fresh

    def remember(self, ids: Iterable[str]) -> None:
        """Mark ``ids`` as seen, forgetting the oldest beyond ``capacity``."""
        rows = [(i,) for i in ids]
        if not rows:
            return
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR IGNORE INTO seen (id) VALUES (?)", rows)
                db.execute(
                    "DELETE FROM seen WHERE seq <= (SELECT MAX(seq) FROM seen) - ?",
                    (self.capacity,),
                )
                db.execute("COMMIT")
            except sqlite3.Error:
                db.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            row = self._conn().execute("SELECT COUNT(*) FROM seen").fetchone()
            return int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
