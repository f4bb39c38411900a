"""A consumer group member on one topic: joins at its first poll, commits per partition."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from connectors.queues.base import Committed, Record
from connectors.queues.kafka.client import (
    POLL_SLICE_MS,
    ConsumerRebalanceListener,
    KafkaConsumer,
    KafkaError,
    MemberState,
    OffsetAndMetadata,
    TopicPartition,
    quietly,
)
from routing.errors import QueueError, QueueUnavailableError

if TYPE_CHECKING:
    from connectors.queues.kafka.queue import KafkaQueue


class KafkaGroupConsumer:
    """One topic read by one consumer group; offsets move only on ``commit``.

    The first ``poll`` joins the group and waits for that (the broker decides how long). A
    member may be assigned no partition at all: it stands by until the group rebalances.
    """

    def __init__(self, queue: KafkaQueue, topic: str, group: str) -> None:
        self._queue = queue
        self._topic = topic
        self._group = group
        self._client: Any = None
        self._joined = False
        self._closed = False
        self.generation = 0  # bumps each time the assignment changes, so callers can resync

    @property
    def topic(self) -> str:
        return self._topic

    def assignment(self) -> frozenset[int]:
        """The partitions this member holds now (empty before the first poll and on standby)."""
        if self._client is None:
            return frozenset()
        return frozenset(tp.partition for tp in self._client.assignment())

    def poll(self, max_records: int = 500, timeout: float = 0.0) -> list[Record]:
        """Up to ``max_records`` records, waiting up to ``timeout`` s for the first ones.

        With ``timeout`` 0 it still fetches what the broker holds beyond the position.
        """
        self._ensure_open()
        if max_records <= 0:
            return []
        with self._queue._translating(f"poll {self._topic!r} for {self._group!r}"):
            client = self._connected()
            got = [] if self._joined else self._join(client, max_records)
            deadline = time.monotonic() + timeout
            while len(got) < max_records:
                left_ms = max(0, int((deadline - time.monotonic()) * 1000))
                batch = client.poll(
                    timeout_ms=min(left_ms, POLL_SLICE_MS), max_records=max_records - len(got)
                )
                got.extend(r for records in batch.values() for r in records)
                if got or (left_ms == 0 and not self._behind(client)):
                    break
                if time.monotonic() > deadline + self._queue.options.timeout_seconds:
                    break
        return [self._queue._record(self._topic, r) for r in got]

    def commit(self, records: Sequence[Record], metadata: str = "") -> None:
        """Commit, per partition, the offset after the last of ``records`` (with ``metadata``)."""
        self._ensure_open()
        offsets = partition_offsets(records, self._topic)
        if not offsets:
            return
        queue = self._queue
        with queue._translating(f"commit {self._group!r} on {self._topic!r}"):
            if metadata:
                queue._note_commit(self._group, self._topic, offsets, metadata)
            name = queue.broker_name(self._topic)
            self._connected().commit(
                {
                    TopicPartition(name, p): OffsetAndMetadata(offset, metadata, -1)
                    for p, offset in offsets.items()
                },
                timeout_ms=queue.options.timeout_ms,
            )

    def confirm(self, records: Sequence[Record]) -> None:
        """Prove this member still holds the partitions of ``records``, before acting on them.

        It commits the offset each partition's batch starts at (nothing of it is done yet): the
        group accepts a commit only from a current member, so a member that was replaced (say,
        paused past its session) hears of it here, as ``QueueError``, before it writes anything.
        """
        self._ensure_open()
        starts: dict[int, int] = {}
        for r in records:
            starts[r.partition] = min(starts.get(r.partition, r.offset), r.offset)
        if not starts:
            return
        queue = self._queue
        name = queue.broker_name(self._topic)
        with queue._translating(f"confirm {self._group!r} still holds {self._topic!r}"):
            try:
                offsets = {
                    TopicPartition(name, p): OffsetAndMetadata(o, "", -1) for p, o in starts.items()
                }
                self._connected().commit(offsets, timeout_ms=queue.options.timeout_ms)
            except KafkaError as exc:
                if exc.retriable:
                    raise
                raise QueueError(f"this member no longer holds {self._topic!r}: {exc}") from exc

    def committed(self) -> dict[int, Committed]:
        """The group's committed position per partition, with its metadata."""
        self._ensure_open()
        with self._queue._translating(f"read the commits of {self._group!r}"):
            return self._queue.committed_offsets(self._topic, self._group)

    def close(self) -> None:
        """Leave the group; uncommitted records go to the group's other members."""
        self._closed = True
        client, self._client = self._client, None
        if client is not None:
            with quietly():
                client.close(autocommit=False)

    def _connected(self) -> Any:
        if self._client is None:
            queue = self._queue
            queue.ensure_topic(self._topic)
            client = queue._connect(
                KafkaConsumer,
                group_id=queue.broker_name(self._group),
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                allow_auto_create_topics=False,
                session_timeout_ms=queue.options.session_timeout_ms,
                heartbeat_interval_ms=queue.options.heartbeat_interval_ms,
                fetch_max_wait_ms=queue.options.fetch_max_wait_ms,
                request_timeout_ms=max(30_000, queue.options.session_timeout_ms + 5_000),
            )
            try:
                client.subscribe([queue.broker_name(self._topic)], listener=_Listener(self))
            except BaseException:
                client.close(autocommit=False)
                raise
            self._client = client
        return self._client

    def _join(self, client: Any, max_records: int) -> list[Any]:
        """Poll until the group is stable and positions are known; keep what arrives."""
        got: list[Any] = []
        limit = time.monotonic() + 3 * self._queue.options.session_timeout_ms / 1000 + 10
        while time.monotonic() < limit and len(got) < max_records:
            batch = client.poll(timeout_ms=POLL_SLICE_MS, max_records=max_records - len(got))
            got.extend(r for records in batch.values() for r in records)
            if client.group_metadata().state is MemberState.STABLE:
                self._joined = True
                break
        if not self._joined:
            raise QueueUnavailableError(
                f"kafka queue {self._queue.url}: group {self._group!r} did not settle in time"
            )
        return got

    def _behind(self, client: Any) -> bool:
        """Whether the last fetch saw records beyond the position (so waiting pays off)."""
        for tp in client.assignment():
            high = client.highwater(tp)
            if high is None:
                return True
            try:
                if client.position(tp, timeout_ms=0) < high:
                    return True
            except KafkaError:
                return True
        return False

    def _ensure_open(self) -> None:
        if self._closed:
            url, topic = self._queue.url, self._topic
            raise QueueError(f"kafka queue {url}: consumer of {topic!r} is closed")


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts assignment changes; runs on the client's I/O thread, so it only sets values."""

    def __init__(self, consumer: KafkaGroupConsumer) -> None:
        self._consumer = consumer

    def on_partitions_revoked(self, revoked: Any) -> None:
        self._consumer.generation += 1

    def on_partitions_assigned(self, assigned: Any) -> None:
        self._consumer.generation += 1

    def on_partitions_lost(self, lost: Any) -> None:
        self._consumer.generation += 1


def partition_offsets(records: Sequence[Record], topic: str) -> dict[int, int]:
    """The offset to commit per partition after ``records``; refuses records of other topics."""
    stray = {r.topic for r in records if r.topic != topic}
    if stray:
        raise ValueError(f"cannot commit records of {sorted(stray)} on a consumer of {topic!r}")
    offsets: dict[int, int] = {}
    for record in records:
        offsets[record.partition] = max(offsets.get(record.partition, 0), record.offset + 1)
    return offsets
