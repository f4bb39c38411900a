"""Topics on a Kafka cluster behind the queue port, with topic creation and lag."""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson

from connectors.queues.base import Committed, Record
from connectors.queues.kafka.client import (
    POLL_SLICE_MS,
    KafkaAdminClient,
    KafkaConsumer,
    KafkaError,
    KafkaProducer,
    TopicPartition,
    first_reachable,
    quietly,
    translate,
)
from connectors.queues.kafka.consumer import KafkaGroupConsumer
from connectors.queues.kafka.options import KafkaOptions
from routing.errors import QueueError, QueueUnavailableError

T = TypeVar("T")

_NOTES_TOPIC = "mention-router-commit-notes"
_SCAN_CHUNK = 5000


class KafkaQueue:
    """Topics on a Kafka cluster. Thread-safe; each consumer belongs to one thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.options = KafkaOptions.parse(url)
        self.replication_factor = 1  # for topics made on first use; ``create_topics`` sets it
        self._lock = threading.RLock()
        self._producer: Any = None
        self._admin: Any = None
        self._reader: Any = None  # a group-less consumer for scans and end offsets
        self._partitions: dict[str, int] = {}
        self._consumers: weakref.WeakSet[KafkaGroupConsumer] = weakref.WeakSet()
        self._closed = False

    # -- the port --------------------------------------------------------------------

    def publish(self, topic: str, records: Sequence[tuple[str | None, bytes]]) -> None:
        """Send ``records`` and wait until the broker acknowledged each of them (acks=all).

        A failed publish may still have stored some records: callers publish again, and every
        reader drops what it has already seen by mention id.
        """
        if not records:
            return
        with self._translating(f"publish to {topic!r}"), self._resetting_producer():
            self.ensure_topic(topic)
            producer = self._producer_client()
            name = self.broker_name(topic)
            futures = []
            try:
                for key, value in records:
                    encoded = key.encode() if key is not None else None
                    futures.append(producer.send(name, key=encoded, value=bytes(value)))
            finally:
                # Every queued record is delivered or expired before this returns, so a
                # retry by the caller never races a late copy of the same batch.
                producer.flush(timeout=self.options.timeout_seconds + 5)
            for future in futures:
                future.get(timeout=0)

    def consumer(self, topic: str, group: str) -> KafkaGroupConsumer:
        """A consumer of ``topic`` in ``group``; it joins the group at its first poll."""
        made = KafkaGroupConsumer(self, topic, group)
        with self._lock:
            self._ensure_open()
            self._consumers.add(made)
        return made

    def scan(self, topic: str) -> Iterator[Record]:
        """Every record of ``topic``, partition by partition, up to the ends at first ``next()``."""
        with self._translating(f"scan {topic!r}"):
            ends = self._end_offsets(topic)
        for partition, end in sorted(ends.items()):
            yield from self._read_partition(topic, partition, end)

    def end_offset(self, topic: str) -> int:
        """The number of records in ``topic``: the sum of its partitions' end offsets."""
        with self._translating(f"read the end of {topic!r}"):
            return sum(self._end_offsets(topic).values())

    def check(self) -> None:
        """Reach a broker and read the cluster's topics, or say why that failed."""
        self._require_broker()
        with self._translating("list the topics"):
            self._admin_client().list_topics()

    def close(self) -> None:
        """Close every client and consumer this object opened; later calls raise ``QueueError``."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            consumers = list(self._consumers)
            clients = [self._producer, self._admin, self._reader]
            self._producer = self._admin = self._reader = None
        for consumer in consumers:
            consumer.close()
        for client in clients:
            if client is not None:
                with quietly():
                    client.close()

    # -- beyond the port: topics, partitions, lag ------------------------------------

    def create_topics(
        self, partitions: Mapping[str, int], replication_factor: int | None = None
    ) -> dict[str, int]:
        """Create the topics that are missing; returns each topic's partition count."""
        if replication_factor is not None:
            self.replication_factor = replication_factor
        with self._translating("create topics"):
            admin = self._admin_client()
            existing = self._describe(list(partitions))
            missing = {t: n for t, n in partitions.items() if t not in existing}
            if missing:
                spec = {
                    self.broker_name(t): {
                        "num_partitions": n,
                        "replication_factor": self.replication_factor,
                    }
                    for t, n in missing.items()
                }
                response = admin.create_topics(spec, raise_errors=False)
                for result in response["topics"]:
                    # 36: created meanwhile by another process, which is what we wanted.
                    if result["error_code"] not in (0, 36):
                        raise QueueError(
                            f"kafka queue {self.url}: cannot create topic {result['name']!r}: "
                            f"{result['error_message'] or result['error_code']}"
                        )
                existing.update(self._describe(list(missing), wait=True))
        with self._lock:
            self._partitions.update(existing)
        return existing

    def ensure_topic(self, topic: str) -> int:
        """The partition count of ``topic``, creating it with one partition when missing."""
        with self._lock:
            known = self._partitions.get(topic)
        if known is not None:
            return known
        return self.create_topics({topic: 1})[topic]

    def partition_count(self, topic: str) -> int:
        """How many partitions ``topic`` has; 0 when it does not exist."""
        with self._translating(f"describe {topic!r}"):
            return self._describe([topic]).get(topic, 0)

    def lag(self, topic: str, group: str) -> dict[int, int]:
        """Records not yet committed by ``group``, per partition of ``topic``."""
        with self._translating(f"read the lag of {group!r} on {topic!r}"):
            ends = self._end_offsets(topic)
            committed = self.committed_offsets(topic, group)
        return {p: max(0, end - committed.get(p, Committed(0)).offset) for p, end in ends.items()}

    def committed_offsets(self, topic: str, group: str) -> dict[int, Committed]:
        """The committed position of ``group`` on each partition of ``topic``."""
        name = self.broker_name(topic)
        found = self._admin_client().list_group_offsets({self.broker_name(group): None})
        offsets: dict[Any, Any] = next(iter(found.values()), {})
        result: dict[int, Committed] = {}
        unnoted: list[int] = []
        for tp, meta in offsets.items():
            if tp.topic != name or meta.offset < 0:
                continue
            result[tp.partition] = Committed(meta.offset, meta.metadata or "")
            if meta.metadata is None:
                unnoted.append(tp.partition)
        if unnoted:
            self._fill_from_notes(topic, group, result)
        return result

    def broker_name(self, name: str) -> str:
        """The name a topic or group has on the broker: the URL's namespace, then ``name``."""
        return f"{self.options.namespace}{name}"

    # -- commit notes: metadata for brokers that do not keep it ------------------------

    def _note_commit(self, group: str, topic: str, offsets: Mapping[int, int], note: str) -> None:
        # Some Kafka-protocol brokers store offsets but drop their metadata. The note is
        # published before the offsets are committed, so a committed offset always has one.
        self.publish(
            _NOTES_TOPIC,
            [
                (
                    f"{group}/{topic}/{partition}",
                    orjson.dumps(
                        {"group": group, "topic": topic, "partition": partition,
                         "offset": offset, "metadata": note}
                    ),
                )
                for partition, offset in offsets.items()
            ],
        )  # fmt: skip

    def _fill_from_notes(self, topic: str, group: str, result: dict[int, Committed]) -> None:
        if self.partition_count(_NOTES_TOPIC) == 0:
            return
        for record in self.scan(_NOTES_TOPIC):
            note = orjson.loads(record.value)
            partition = note["partition"]
            if note["group"] != group or note["topic"] != topic or partition not in result:
                continue
            if note["offset"] == result[partition].offset:
                result[partition] = Committed(note["offset"], note["metadata"])

    # -- internals --------------------------------------------------------------------

    def _end_offsets(self, topic: str) -> dict[int, int]:
        count = self._describe([topic]).get(topic, 0)
        if not count:
            return {}
        name = self.broker_name(topic)
        partitions = [TopicPartition(name, p) for p in range(count)]
        with self._lock:
            reader = self._reader_client()
            listed = reader.end_offsets(partitions, timeout_ms=self.options.timeout_ms)
            return {tp.partition: self._true_end(reader, tp, listed[tp]) for tp in partitions}

    def _true_end(self, reader: Any, tp: Any, listed: int) -> int:
        """The end offset after reading the last batch: some brokers list the batch's start."""
        if listed <= 0:
            return listed
        reader.assign([tp])
        reader.seek(tp, listed - 1)
        deadline = time.monotonic() + self.options.timeout_seconds
        while time.monotonic() < deadline:
            batch = reader.poll(timeout_ms=POLL_SLICE_MS).get(tp, [])
            if batch:
                last: int = batch[-1].offset
                return max(listed, last + 1)
            if reader.highwater(tp) is not None and reader.position(tp) >= listed:
                return listed
        raise QueueUnavailableError(f"kafka queue {self.url}: no answer reading the end of {tp}")

    def _read_partition(self, topic: str, partition: int, end: int) -> Iterator[Record]:
        tp = TopicPartition(self.broker_name(topic), partition)
        position = 0
        stalled_since = time.monotonic()
        while position < end:
            with self._translating(f"read {topic!r}"), self._lock:
                reader = self._reader_client()
                reader.assign([tp])
                reader.seek(tp, position)
                chunk = reader.poll(timeout_ms=POLL_SLICE_MS * 5).get(tp, [])
            if not chunk:
                if time.monotonic() - stalled_since > self.options.timeout_seconds:
                    raise QueueUnavailableError(
                        f"kafka queue {self.url}: no answer reading {topic!r} at {position}"
                    )
                continue
            stalled_since = time.monotonic()
            records = [self._record(topic, r) for r in chunk if position <= r.offset < end]
            position = max(position, chunk[-1].offset + 1)
            yield from records

    def _record(self, topic: str, raw: Any) -> Record:
        key = raw.key.decode(errors="replace") if raw.key is not None else None
        return Record(topic, raw.partition, raw.offset, key, raw.value)

    def _describe(self, topics: list[str], *, wait: bool = False) -> dict[str, int]:
        """Partition counts of the topics that exist, by our (unprefixed) name."""
        names = {self.broker_name(t): t for t in topics}
        deadline = time.monotonic() + (self.options.timeout_seconds if wait else 0)
        while True:
            found = {
                names[d["name"]]: len(d["partitions"])
                for d in self._admin_client().describe_topics(list(names))
                if d["error_code"] == 0 and d["partitions"]
            }
            if not wait or len(found) == len(names) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def _producer_client(self) -> Any:
        with self._lock:
            self._ensure_open()
            if self._producer is None:
                self._producer = self._connect(
                    KafkaProducer,
                    acks="all",
                    linger_ms=50,  # publish flushes anyway; a batch waits for its last record
                    batch_size=512 * 1024,
                    delivery_timeout_ms=self.options.timeout_ms,
                    request_timeout_ms=max(500, min(30_000, self.options.timeout_ms // 2)),
                    max_block_ms=self.options.timeout_ms,
                )
            return self._producer

    def _admin_client(self) -> Any:
        with self._lock:
            self._ensure_open()
            if self._admin is None:
                self._admin = self._connect(KafkaAdminClient)
            return self._admin

    def _reader_client(self) -> Any:
        with self._lock:
            self._ensure_open()
            if self._reader is None:
                self._reader = self._connect(
                    KafkaConsumer,
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    allow_auto_create_topics=False,
                    max_poll_records=_SCAN_CHUNK,
                )
            return self._reader

    def _require_broker(self) -> None:
        """Raise ``QueueUnavailableError`` naming the addresses unless a broker answers on TCP."""
        reachable = first_reachable(self.options.servers, self.options.timeout_seconds)
        if isinstance(reachable, OSError):
            raise QueueUnavailableError(
                f"kafka queue {self.url}: no broker reachable at "
                f"{', '.join(self.options.servers)}: {reachable.strerror or reachable}"
            ) from reachable

    def _connect(self, client: Callable[..., T], **config: Any) -> T:
        """Build a client once a broker answers on TCP, so a dead address fails fast."""
        self._require_broker()
        config.setdefault("client_id", f"{self.options.client_id}-{uuid.uuid4().hex[:8]}")
        return client(
            bootstrap_servers=list(self.options.servers),
            bootstrap_timeout_ms=self.options.timeout_ms,
            **config,
        )

    def _ensure_open(self) -> None:
        if self._closed:
            raise QueueError(f"kafka queue {self.url}: the queue is closed")

    @contextmanager
    def _translating(self, action: str) -> Iterator[None]:
        try:
            yield
        except KafkaError as exc:
            # Whatever the library calls it, a failure while no broker answers is an outage.
            down = not exc.retriable and isinstance(
                first_reachable(self.options.servers, 1.0), OSError
            )
            error = translate(exc, f"kafka queue {self.url}: cannot {action}")
            if down:
                error = QueueUnavailableError(f"{error} (no broker reachable)")
            raise error from exc

    @contextmanager
    def _resetting_producer(self) -> Iterator[None]:
        # A producer that failed may hold state the broker no longer knows (its producer id
        # after a broker restart); the next publish starts with a fresh one.
        try:
            yield
        except KafkaError:
            with self._lock:
                producer, self._producer = self._producer, None
            if producer is not None:
                with quietly():
                    producer.close(timeout=1)
            raise
