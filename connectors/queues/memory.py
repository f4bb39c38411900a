"""The in-process queue backend: thread-safe and fast, not durable; for tests and ``memory://``."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from connectors.queues.base import Committed, Record
from connectors.queues.consumer import GroupConsumer

_PARTITION = 0
_SCAN_CHUNK = 1000


class MemoryQueue:
    """Topics held in lists, one partition each; the data lives as long as this object."""

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._logs: dict[str, list[Record]] = {}
        self._commits: dict[tuple[str, str, int], Committed] = {}
        self._changed = threading.Condition(threading.Lock())

    def publish(self, topic: str, records: Sequence[tuple[str | None, bytes]]) -> None:
        """Append ``records`` to ``topic`` and wake every consumer waiting on it."""
        if not records:
            return
        with self._changed:
            log = self._logs.setdefault(topic, [])
            start = len(log)
            log.extend(
                Record(topic, _PARTITION, start + i, key, bytes(value))
                for i, (key, value) in enumerate(records)
            )
            self._changed.notify_all()

    def consumer(self, topic: str, group: str) -> MemoryConsumer:
        """A consumer of ``topic`` for ``group``, starting at the group's committed offset."""
        return MemoryConsumer(self, topic, group)

    def scan(self, topic: str) -> Iterator[Record]:
        """Every record of ``topic`` up to its end at the first ``next()``."""
        end = self.end_offset(topic)
        for start in range(0, end, _SCAN_CHUNK):
            yield from self._read(topic, start, min(_SCAN_CHUNK, end - start))

    def end_offset(self, topic: str) -> int:
        """The number of records in ``topic`` (the offset the next record will get)."""
        with self._changed:
            return len(self._logs.get(topic, ()))

    def check(self) -> None:
        """An in-process queue is always usable."""

    def close(self) -> None:
        """Nothing to release; the records stay readable while the object is referenced."""

    def _read(self, topic: str, start: int, limit: int, timeout: float = 0.0) -> list[Record]:
        """Up to ``limit`` records of ``topic`` from ``start``, waiting up to ``timeout`` s."""
        with self._changed:
            if timeout > 0:
                self._changed.wait_for(lambda: self._length(topic) > start, timeout)
            return self._logs.get(topic, [])[start : start + limit]

    def _load_commit(self, group: str, topic: str) -> dict[int, Committed]:
        """The committed positions of ``group`` on ``topic``, by partition."""
        with self._changed:
            found = self._commits.get((group, topic, _PARTITION))
        return {} if found is None else {_PARTITION: found}

    def _store_commit(self, group: str, topic: str, committed: Committed) -> None:
        """Record ``committed`` as the position of ``group`` on ``topic``."""
        with self._changed:
            self._commits[(group, topic, _PARTITION)] = committed

    def _length(self, topic: str) -> int:
        return len(self._logs.get(topic, ()))


class MemoryConsumer(GroupConsumer):
    """Reads one topic of a ``MemoryQueue`` for one group."""

    def __init__(self, queue: MemoryQueue, topic: str, group: str) -> None:
        super().__init__(queue, topic, group)
        self._queue = queue
        start = queue._load_commit(group, topic).get(_PARTITION)
        self._position = 0 if start is None else start.offset

    def poll(self, max_records: int = 500, timeout: float = 0.0) -> list[Record]:
        """Return up to ``max_records`` records after the position, waiting up to ``timeout`` s."""
        self._ensure_open()
        if max_records <= 0:
            return []
        found = self._queue._read(self._topic, self._position, max_records, timeout)
        self._position += len(found)
        return found
