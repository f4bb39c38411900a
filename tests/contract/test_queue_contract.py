"""One contract suite run over every queue backend: what any ``Queue`` must do."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

import pytest

from connectors.queues import EmbeddedQueue, Queue, Record, open_queue
from routing.errors import ConfigError, QueueError, QueueUnavailableError
from tests.kafka_broker import Broker

TOPIC = "mentions"
GROUP = "router"


def _memory(tmp_path: Path) -> Queue:
    return open_queue("memory://")


def _embedded(tmp_path: Path) -> Queue:
    return open_queue(f"embedded:{tmp_path / 'queue.db'}")


@runtime_checkable
class Measured(Protocol):
    """Beyond the port: every backend tells a topic's end offset, for lag metrics."""

    def end_offset(self, topic: str) -> int: ...


def _kafka(request: pytest.FixtureRequest) -> Queue:
    # One broker per session; each test gets its own namespace of topics and groups.
    broker: Broker = request.getfixturevalue("kafka_broker")
    return open_queue(broker.url(quick=True))


# Adding a backend is one entry here; the suite runs over every key.
FACTORIES: dict[str, Callable[[pytest.FixtureRequest, Path], Queue]] = {
    "memory": lambda request, tmp_path: _memory(tmp_path),
    "embedded": lambda request, tmp_path: _embedded(tmp_path),
    "kafka": lambda request, tmp_path: _kafka(request),
}
NEEDS = {"kafka": [pytest.mark.kafka, pytest.mark.integration]}


@pytest.fixture(params=[pytest.param(name, marks=NEEDS.get(name, ())) for name in FACTORIES])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Queue]:
    made = FACTORIES[request.param](request, tmp_path)
    yield made
    made.close()


def _records(count: int, prefix: str = "v") -> list[tuple[str | None, bytes]]:
    return [(f"k{i}", f"{prefix}{i}".encode()) for i in range(count)]


def _values(records: list[Record]) -> list[bytes]:
    return [r.value for r in records]


def test_poll_returns_published_records_in_order(queue: Queue) -> None:
    # Given three published records, one without a key
    queue.publish(TOPIC, [("a", b"one"), (None, b"two"), ("a", b"three")])

    # When a new group polls
    got = queue.consumer(TOPIC, GROUP).poll()

    # Then it sees them in order with their keys, values and dense offsets
    assert [(r.topic, r.partition, r.offset, r.key, r.value) for r in got] == [
        (TOPIC, 0, 0, "a", b"one"),
        (TOPIC, 0, 1, None, b"two"),
        (TOPIC, 0, 2, "a", b"three"),
    ]


def test_poll_honours_max_records_and_advances(queue: Queue) -> None:
    queue.publish(TOPIC, _records(5))
    consumer = queue.consumer(TOPIC, GROUP)

    first = consumer.poll(max_records=2)
    second = consumer.poll(max_records=2)
    third = consumer.poll(max_records=2)

    assert [r.offset for r in first] == [0, 1]
    assert [r.offset for r in second] == [2, 3]
    assert [r.offset for r in third] == [4]
    assert consumer.poll() == []


def test_new_consumer_of_group_resumes_after_commit(queue: Queue) -> None:
    # Given a group that read four records and committed the first two
    queue.publish(TOPIC, _records(4))
    first = queue.consumer(TOPIC, GROUP)
    got = first.poll()
    first.commit(got[:2])
    first.close()

    # When the group restarts
    resumed = queue.consumer(TOPIC, GROUP).poll()

    # Then the uncommitted records come again, and only those
    assert _values(resumed) == [b"v2", b"v3"]


def test_uncommitted_records_are_redelivered(queue: Queue) -> None:
    queue.publish(TOPIC, _records(3))
    crashed = queue.consumer(TOPIC, GROUP)
    assert len(crashed.poll()) == 3
    crashed.close()

    assert _values(queue.consumer(TOPIC, GROUP).poll()) == [b"v0", b"v1", b"v2"]


def test_other_group_starts_from_the_beginning(queue: Queue) -> None:
    queue.publish(TOPIC, _records(3))
    router = queue.consumer(TOPIC, GROUP)
    router.commit(router.poll())

    archive = queue.consumer(TOPIC, "archive")

    assert [r.offset for r in archive.poll()] == [0, 1, 2]
    assert archive.committed() == {}


def test_commit_metadata_round_trips(queue: Queue) -> None:
    queue.publish(TOPIC, _records(3))
    consumer = queue.consumer(TOPIC, GROUP)
    assert consumer.committed() == {}

    consumer.commit(consumer.poll(max_records=2), metadata="bytes=1234")

    committed = queue.consumer(TOPIC, GROUP).committed()
    assert set(committed) == {0}
    assert (committed[0].offset, committed[0].metadata) == (2, "bytes=1234")


def test_commit_of_nothing_changes_nothing(queue: Queue) -> None:
    queue.publish(TOPIC, _records(2))
    consumer = queue.consumer(TOPIC, GROUP)
    consumer.commit(consumer.poll(max_records=1), metadata="first")

    consumer.commit([], metadata="ignored")

    committed = consumer.committed()[0]
    assert (committed.offset, committed.metadata) == (1, "first")


def test_scan_returns_everything_without_a_group(queue: Queue) -> None:
    queue.publish(TOPIC, _records(2500))
    consumer = queue.consumer(TOPIC, GROUP)
    consumer.commit(consumer.poll(max_records=10))

    scanned = list(queue.scan(TOPIC))

    assert [r.offset for r in scanned] == list(range(2500))
    assert scanned[-1].value == b"v2499"
    assert list(queue.scan("never-written")) == []


def test_topics_are_independent(queue: Queue) -> None:
    queue.publish("a", _records(2, "a"))
    queue.publish("b", _records(3, "b"))
    done = queue.consumer("a", GROUP)
    done.commit(done.poll())
    done.close()

    assert _values(queue.consumer("a", "other").poll()) == [b"a0", b"a1"]
    assert _values(queue.consumer("b", GROUP).poll()) == [b"b0", b"b1", b"b2"]
    assert [r.offset for r in queue.scan("b")] == [0, 1, 2]


def test_poll_with_timeout_returns_nothing_when_nothing_arrives(queue: Queue) -> None:
    # Given a consumer that has started reading (a Kafka one has joined its group)
    consumer = queue.consumer(TOPIC, GROUP)
    assert consumer.poll() == []

    started = time.monotonic()
    got = consumer.poll(timeout=0.2)
    waited = time.monotonic() - started

    assert got == []
    assert 0.15 <= waited < 2.0


def test_poll_with_timeout_wakes_for_records_from_another_thread(queue: Queue) -> None:
    # Given a consumer already waiting before anything is published
    consumer = queue.consumer(TOPIC, GROUP)
    assert consumer.poll() == []
    publisher = threading.Timer(0.1, queue.publish, args=(TOPIC, [("k", b"late")]))

    # When another thread publishes while it waits
    publisher.start()
    started = time.monotonic()
    got = consumer.poll(timeout=10.0)
    waited = time.monotonic() - started
    publisher.join(timeout=5.0)

    # Then the poll returns that record well before its timeout
    assert _values(got) == [b"late"]
    assert waited < 5.0


def test_empty_publish_is_a_no_op(queue: Queue) -> None:
    queue.publish(TOPIC, [])
    queue.publish(TOPIC, [("k", b"only")])
    queue.publish(TOPIC, [])

    assert [(r.offset, r.value) for r in queue.scan(TOPIC)] == [(0, b"only")]


def test_large_batch_round_trips(queue: Queue) -> None:
    batch = [(f"k{i % 7}", i.to_bytes(4, "big") * 50) for i in range(10_000)]

    queue.publish(TOPIC, batch)
    consumer = queue.consumer(TOPIC, GROUP)
    got: list[Record] = []
    for _ in range(100):
        chunk = consumer.poll(max_records=1000)
        if not chunk:
            break
        got.extend(chunk)

    assert [(r.key, r.value) for r in got] == batch
    assert [r.offset for r in got] == list(range(10_000))


def test_end_offset_counts_records(queue: Queue) -> None:
    assert isinstance(queue, Measured)
    assert queue.end_offset(TOPIC) == 0

    queue.publish(TOPIC, _records(3))
    queue.publish(TOPIC, _records(2))

    assert queue.end_offset(TOPIC) == 5
    assert queue.end_offset("other") == 0


def test_commit_refuses_records_of_another_topic(queue: Queue) -> None:
    queue.publish("a", _records(1))
    stray = queue.consumer("a", GROUP).poll()

    with pytest.raises(ValueError, match="'a'"):
        queue.consumer("b", GROUP).commit(stray)


def test_closed_consumer_refuses_to_poll(queue: Queue) -> None:
    consumer = queue.consumer(TOPIC, GROUP)
    consumer.close()

    with pytest.raises(QueueError, match="closed"):
        consumer.poll()


# Choosing a backend by URL is part of the contract: settings name a queue only by its URL.


def test_named_memory_queue_is_shared_while_held() -> None:
    first = open_queue("memory://shared")
    first.publish(TOPIC, [("k", b"seen")])

    again = open_queue("memory://shared")

    assert again is first
    assert open_queue("memory://") is not open_queue("memory://")
    assert [r.value for r in open_queue("memory://other").scan(TOPIC)] == []


@pytest.mark.parametrize(
    ("url", "relative"),
    [
        ("embedded:var/queue.db", "var/queue.db"),
        ("embedded://var/queue.db", "var/queue.db"),
    ],
)
def test_embedded_url_paths_are_relative_to_the_current_directory(
    url: str, relative: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a working directory without the queue's folder
    monkeypatch.chdir(tmp_path)

    # When a queue opened by URL is used
    queue = open_queue(url)
    queue.publish(TOPIC, [("k", b"v")])
    queue.close()

    # Then its file and folder were made under the working directory
    assert isinstance(queue, EmbeddedQueue)
    assert queue.path == tmp_path / relative
    assert (tmp_path / relative).is_file()


def test_embedded_url_with_three_slashes_is_absolute(tmp_path: Path) -> None:
    queue = open_queue(f"embedded://{tmp_path}/abs.db")

    assert isinstance(queue, EmbeddedQueue)
    assert queue.path == tmp_path / "abs.db"
    assert queue.url == f"embedded://{tmp_path}/abs.db"


@pytest.mark.parametrize("url", ["foo://x", "queue.db", "", "embedded:", "embedded://"])
def test_unusable_urls_are_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_queue(url)

    assert (caught.value.source, caught.value.field) == ("queue.url", "url")


def test_unknown_scheme_names_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"unknown queue scheme 'foo'; use embedded:PATH"):
        open_queue("foo://x")


def test_kafka_url_opens_without_connecting_and_check_names_the_address() -> None:
    # Given a URL of a port nobody listens on: opening it connects to nothing yet
    queue = open_queue("kafka://127.0.0.1:1?timeout_seconds=2")

    # When it is checked, the error names the address and the cause
    with pytest.raises(QueueUnavailableError, match=r"127\.0\.0\.1:1: .*refused"):
        queue.check()
    queue.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("kafka://", "is not kafka://HOST:PORT"),
        ("kafka://h:1?sesion_timeout_ms=5", "unknown kafka option 'sesion_timeout_ms'"),
        ("kafka://h:1?session_timeout_ms=soon", "invalid literal"),
        ("kafka://h:1?session_timeout_ms=1000&heartbeat_interval_ms=1000", "heartbeat"),
    ],
)
def test_unusable_kafka_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason) as caught:
        open_queue(url)

    assert (caught.value.source, caught.value.field) == ("queue.url", "url")


def test_threads_publishing_at_once_lose_and_duplicate_nothing(queue: Queue) -> None:
    # Given four threads each publishing twenty batches of ten to one queue object
    def publish_as(name: str) -> None:
        for batch in range(20):
            queue.publish(TOPIC, [(name, f"{name}-{batch * 10 + i}".encode()) for i in range(10)])

    threads = [threading.Thread(target=publish_as, args=(f"t{n}",)) for n in range(4)]

    # When they all run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30.0)

    # Then offsets are dense and each thread's records are all there, in its order
    records = list(queue.scan(TOPIC))
    assert [r.offset for r in records] == list(range(800))
    for n in range(4):
        mine = [r.value for r in records if r.key == f"t{n}"]
        assert mine == [f"t{n}-{i}".encode() for i in range(200)]
