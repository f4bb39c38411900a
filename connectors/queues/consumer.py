"""What every backend's consumer shares: group offsets kept by the queue, and closing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from connectors.queues.base import Committed, Record
from routing.errors import QueueError


class OffsetStore(Protocol):
    """The part of a backend that keeps consumer groups' committed offsets."""

    url: str

    def _load_commit(self, group: str, topic: str) -> dict[int, Committed]: ...

    def _store_commit(self, group: str, topic: str, committed: Committed) -> None: ...


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


class GroupConsumer:
    """Commit, committed and close for a single-partition backend; subclasses add ``poll``."""

    def __init__(self, store: OffsetStore, topic: str, group: str) -> None:
        self._store = store
        self._topic = topic
        self._group = group
        self._closed = False

    def commit(self, records: Sequence[Record], metadata: str = "") -> None:
        """Durably mark ``records`` and everything before them as done for this group."""
        self._ensure_open()
        offset = commit_offset(records, self._topic)
        if offset is not None:
            self._store._store_commit(self._group, self._topic, Committed(offset, metadata))

    def committed(self) -> dict[int, Committed]:
        """The committed position of this group, by partition."""
        self._ensure_open()
        return self._store._load_commit(self._group, self._topic)

    def close(self) -> None:
        """Stop this consumer; uncommitted records go to the group's next consumer."""
        self._closed = True

    def _ensure_open(self) -> None:
        if self._closed:
            raise QueueError(f"{self._store.url}: consumer of {self._topic!r} is closed")
