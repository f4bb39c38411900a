"""The default queue backend: one SQLite file in WAL mode, durable once ``publish`` returns."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from connectors.queues.base import Committed, Record
from connectors.queues.consumer import GroupConsumer
from routing.errors import QueueError, QueueUnavailableError

_PARTITION = 0
_SCAN_CHUNK = 1000
_POLL_INTERVAL = 0.025
_SCHEMA_VERSION = 1
_SCHEMA = (
    'CREATE TABLE IF NOT EXISTS records (topic TEXT NOT NULL, "offset" INTEGER NOT NULL,'
    ' key TEXT, value BLOB NOT NULL, PRIMARY KEY (topic, "offset"))',
    "CREATE TABLE IF NOT EXISTS commits (grp TEXT NOT NULL, topic TEXT NOT NULL,"
    ' partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, metadata TEXT NOT NULL,'
    " PRIMARY KEY (grp, topic, partition))",
)
_END = 'SELECT COALESCE(MAX("offset") + 1, 0) FROM records WHERE topic = ?'
_READ = (
    'SELECT "offset", key, value FROM records WHERE topic = ? AND "offset" >= ?'
    ' ORDER BY "offset" LIMIT ?'
)
# Failures that mean "this file cannot be used now", as opposed to a failed operation.
_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_AUTH,
    }
)


class _Handle:
    """One thread's connection; when the thread ends and drops it, the connection closes."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class EmbeddedQueue:
    """Topics in one SQLite file, one partition each, shared by threads and processes."""

    def __init__(
        self, path: str | os.PathLike[str], *, url: str | None = None, busy_timeout: float = 5.0
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.url = url if url is not None else f"embedded:{self.path}"
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._handles: weakref.WeakSet[_Handle] = weakref.WeakSet()
        # Connections inherited through fork belong to the parent: never touch them again.
        self._inherited: list[_Handle] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._closed = False

    def publish(self, topic: str, records: Sequence[tuple[str | None, bytes]]) -> None:
        """Append ``records`` to ``topic`` in one transaction, synced to disk before returning."""
        if not records:
            return
        with self._translating(f"publish to {topic!r}"), self._writing() as conn:
            start: int = conn.execute(_END, (topic,)).fetchone()[0]
            conn.executemany(
                "INSERT INTO records VALUES (?, ?, ?, ?)",
                ((topic, start + i, key, value) for i, (key, value) in enumerate(records)),
            )

    def consumer(self, topic: str, group: str) -> EmbeddedConsumer:
        """A consumer of ``topic`` for ``group``, resuming from the group's committed offset."""
        return EmbeddedConsumer(self, topic, group)

    def scan(self, topic: str) -> Iterator[Record]:
        """Every record of ``topic`` up to its end at the first ``next()``, read in chunks."""
        end = self.end_offset(topic)
        position = 0
        while position < end:
            chunk = self._read(topic, position, min(_SCAN_CHUNK, end - position))
            if not chunk:
                return
            yield from chunk
            position = chunk[-1].offset + 1

    def end_offset(self, topic: str) -> int:
        """The number of records in ``topic`` (the offset the next record will get)."""
        with self._translating(f"read the end of {topic!r}"):
            end: int = self._connection().execute(_END, (topic,)).fetchone()[0]
        return end

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Join this thread's publishes and commits into one transaction, synced once at the end.

        One sync instead of one per call; a block that raises rolls all of them back. Blocks
        nest: an inner one joins the outer, which alone commits.
        """
        with self._translating("commit a transaction"), self._writing():
            yield

    def check(self) -> None:
        """Open the file and take the write lock once, so a locked or read-only file shows."""
        with self._translating("check the queue file"), self._writing() as conn:
            conn.execute("SELECT 1 FROM commits LIMIT 1").fetchall()

    def close(self) -> None:
        """Close every connection this object opened; later calls raise ``QueueError``."""
        with self._lock:
            self._closed = True
            handles = list(self._handles)
            self._handles.clear()
        for handle in handles:
            handle.conn.close()

    def _read(self, topic: str, start: int, limit: int) -> list[Record]:
        with self._translating(f"read {topic!r}"):
            rows = self._connection().execute(_READ, (topic, start, limit)).fetchall()
        return [Record(topic, _PARTITION, offset, key, value) for offset, key, value in rows]

    def _load_commit(self, group: str, topic: str) -> dict[int, Committed]:
        with self._translating(f"read the commits of {group!r} on {topic!r}"):
            rows = (
                self._connection()
                .execute(
                    'SELECT partition, "offset", metadata FROM commits WHERE grp = ? AND topic = ?',
                    (group, topic),
                )
                .fetchall()
            )
        return {partition: Committed(offset, metadata) for partition, offset, metadata in rows}

    def _store_commit(self, group: str, topic: str, committed: Committed) -> None:
        with self._translating(f"commit {group!r} on {topic!r}"), self._writing() as conn:
            conn.execute(
                "INSERT INTO commits VALUES (?, ?, ?, ?, ?) ON CONFLICT (grp, topic, partition)"
                ' DO UPDATE SET "offset" = excluded."offset", metadata = excluded.metadata',
                (group, topic, _PARTITION, committed.offset, committed.metadata),
            )

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two processes never pick the same offset.
        conn = self._connection()
        if conn.in_transaction:  # inside ``transaction``: its COMMIT makes this durable
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise

    @contextmanager
    def _translating(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            kind = QueueUnavailableError if code in _UNAVAILABLE else QueueError
            raise kind(f"embedded queue {self.path}: cannot {action}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise QueueError(f"embedded queue {self.path}: the queue is closed")
        if os.getpid() != self._pid:
            self._forget_parent_connections()
        handle: _Handle | None = getattr(self._local, "handle", None)
        if handle is None:
            # One thread at a time opens its connection: the first one switches a new file to
            # WAL and writes the schema, which SQLite may refuse at once (not after the busy
            # timeout) to another connection doing the same.
            with self._lock:
                handle = _Handle(self._connect())
                self._handles.add(handle)
            self._local.handle = handle
        return handle.conn

    def _forget_parent_connections(self) -> None:
        with self._lock:
            self._inherited.extend(self._handles)
            self._handles.clear()
            self._local = threading.local()
            self._pid = os.getpid()

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise QueueUnavailableError(
                f"embedded queue {self.path}: cannot create its directory: {exc.strerror or exc}"
            ) from exc
        with self._translating("open the queue file"):
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                self._prepare(conn)
            except BaseException:
                conn.close()
                raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if str(mode).lower() != "wal":
            raise QueueUnavailableError(
                f"embedded queue {self.path}: cannot switch to WAL journal (got {mode!r})"
            )
        conn.execute("PRAGMA synchronous = FULL")
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version != _SCHEMA_VERSION:
            self._create_schema(conn, version)

    def _create_schema(self, conn: sqlite3.Connection, version: int) -> None:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if version != 0 or tables - {"records", "commits"}:
            raise QueueUnavailableError(
                f"embedded queue {self.path}: not a queue file of schema version "
                f"{_SCHEMA_VERSION} (user_version {version}, objects {sorted(tables)})"
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise


class EmbeddedConsumer(GroupConsumer):
    """Reads one topic of an ``EmbeddedQueue`` for one group, sleep-polling while it waits."""

    def __init__(self, queue: EmbeddedQueue, topic: str, group: str) -> None:
        super().__init__(queue, topic, group)
        self._queue = queue
        self._position: int | None = None

    def poll(self, max_records: int = 500, timeout: float = 0.0) -> list[Record]:
        """Return up to ``max_records`` records after the position, waiting up to ``timeout`` s."""
        position = self._start()
        if max_records <= 0:
            return []
        deadline = time.monotonic() + timeout
        found = self._queue._read(self._topic, position, max_records)
        while not found and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(_POLL_INTERVAL, left))
            found = self._queue._read(self._topic, position, max_records)
        self._position = position + len(found)
        return found

    def _start(self) -> int:
        # The committed offset is read at the first poll, so building a consumer stays lazy.
        self._ensure_open()
        if self._position is None:
            committed = self._queue._load_commit(self._group, self._topic).get(_PARTITION)
            self._position = 0 if committed is None else committed.offset
        return self._position
