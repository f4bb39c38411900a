"""The queue port: durable topics of keyed records, read by consumer groups."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable


class Record(NamedTuple):
    """One record read from a topic partition (a tuple: the readers make one per record)."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes


@dataclass(frozen=True, slots=True)
class Committed:
    """Where a consumer group stands on one partition: the next offset to read, and its note."""

    offset: int
    metadata: str = ""


class Consumer(Protocol):
    """Reads one topic for one consumer group; offsets move only on ``commit``."""

    def poll(self, max_records: int = 500, timeout: float = 0.0) -> list[Record]:
        """Return up to ``max_records`` records after the position, waiting up to ``timeout`` s.

        The position advances past what is returned, so the next poll continues; after a
        restart (a new consumer of the same group) reading resumes from the committed offsets.
        """
        ...

    def commit(self, records: Sequence[Record], metadata: str = "") -> None:
        """Durably mark ``records`` (and everything before them) as done for this group.

        ``metadata`` is stored beside each committed partition's offset (for example the byte
        length of an output file, so a writer can truncate a half-written tail on restart).
        """
        ...

    def committed(self) -> dict[int, Committed]:
        """The committed position per partition (absent partitions have none)."""
        ...

    def close(self) -> None: ...


class Queue(Protocol):
    """A set of durable topics. ``publish`` returns only once the records are durable."""

    url: str

    def publish(self, topic: str, records: Sequence[tuple[str | None, bytes]]) -> None:
        """Append ``(key, value)`` records to ``topic``; records with one key keep their order."""
        ...

    def consumer(self, topic: str, group: str) -> Consumer:
        """A consumer of ``topic`` for ``group``, resuming from the group's committed offsets."""
        ...

    def scan(self, topic: str) -> Iterator[Record]:
        """Every record of ``topic`` from the beginning up to its end now, without a group."""
        ...

    def end_offset(self, topic: str) -> int:
        """The offset the next record published to ``topic`` will get (its length so far)."""
        ...

    def check(self) -> None:
        """Raise ``QueueUnavailableError`` naming the cause when the backend cannot be used."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Transactional(Protocol):
    """A backend whose publishes and commits can be made durable together (the embedded queue).

    Inside ``transaction()`` every ``publish`` and consumer ``commit`` of this thread joins one
    transaction: all of them are on disk when the block ends, or none is when it raises.
    """

    def transaction(self) -> AbstractContextManager[None]: ...
