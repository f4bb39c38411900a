"""The in-process queue backend: thread-safe and fast, not durable; for tests and ``memory://``."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from connectors.queues.base import Committed, Record
from routing.errors import QueueError

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


class MemoryConsumer:
    """Reads one topic of a ``MemoryQueue`` for one group."""

    def __init__(self, queue: MemoryQueue, topic: str, group: str) -> None:
        self._queue = queue
        self._topic = topic
        self._group = group
        start = queue._load_commit(group, topic).get(_PARTITION)
        self._position = 0 if start is None else start.offset
        self._closed = False

    def poll(self, max_records: int = 500, timeout: float = 0.0) -> list[Record]:
        """Return up to ``max_records`` records after the position, waiting up to ``timeout`` s."""
        self._ensure_open()
        if max_records <= 0:
            return []
        found = self._queue._read(self._topic, self._position, max_records, timeout)
        self._position += len(found)
        return found

    def commit(self, records: Sequence[Record], metadata: str = "") -> None:
        """Mark ``records`` and everything before them as done for this group."""
        self._ensure_open()
        offset = commit_offset(records, self._topic)
        if offset is not None:
            self._queue._store_commit(self._group, self._topic, Committed(offset, metadata))

    def committed(self) -> dict[int, Committed]:
        """The committed position of this group, by partition."""
        self._ensure_open()
        return self._queue._load_commit(self._group, self._topic)

    def close(self) -> None:
        """Stop this consumer; uncommitted records go to the group's next consumer."""
        self._closed = True

    def _ensure_open(self) -> None:
        if self._closed:
            raise QueueError(f"{self._queue.url}: consumer of {self._topic!r} is closed")


def commit_offset(records: Sequence[Record], topic: str) -> int | None:
    """The offset to commit after ``records`` of ``topic``, or None when there are none.

    Records of another topic are refused: committing them would silently move nothing.
    """
    if not records:
        return None
    stray = {r.topic for r in records if r.topic != topic}
    if stray:
        raise ValueError(f"cannot commit records of {sorted(stray)} on a consumer of {topic!r}")
    return max(r.offset for r in records) + 1
