"""Kafka beyond the queue contract: partitions and keys, lag, router hand-over, broker loss."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from prometheus_client import CollectorRegistry

from config.settings import QueueSettings, TopicNames
from connectors.codec import encode_classified
from connectors.queues import Queue, open_queue
from connectors.queues.kafka import KafkaQueue
from routing.errors import ConfigError, QueueUnavailableError
from routing.models import Taxonomy
from routing.router import Router
from tests.factories import T0, classification, employee, free_port, mention, minutes
from tests.kafka_broker import Broker, broker_binary, running_broker
from tests.streams import stream_lines
from workers.decisionlog import decisions_in, encode_decision
from workers.metrics import Metrics
from workers.pipeline import DeliveryStage
from workers.roles import open_ready_queue
from workers.stages import RouteStage, queue_lag

pytestmark = [pytest.mark.kafka, pytest.mark.integration]

TOPICS = TopicNames()
REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@pytest.fixture
def kafka(kafka_broker: Broker) -> Iterator[KafkaQueue]:
    queue = open_queue(kafka_broker.url(quick=True))
    assert isinstance(queue, KafkaQueue)
    yield queue
    queue.close()


def _until(done: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_start_up_creates_the_topics_with_their_partitions(kafka_broker: Broker) -> None:
    # Given settings asking for three partitions where the work is shared
    url = kafka_broker.url(quick=True)
    settings = QueueSettings(url=url, partitions=3)

    # When a worker starts on an empty cluster
    queue = open_ready_queue(settings)

    # Then the shared topics have three partitions and the router's own topics one
    assert isinstance(queue, KafkaQueue)
    counts = {t: queue.partition_count(t) for t in TOPICS.model_dump().values()}
    assert counts == {"mentions": 3, "assignments": 3, "classified": 1, "decisions": 1,
                      "dead-letters": 1, "actions": 1}  # fmt: skip
    queue.close()


def test_start_up_refuses_a_router_topic_with_more_partitions(kafka_broker: Broker) -> None:
    url = kafka_broker.url(quick=True)
    made = open_queue(url)
    assert isinstance(made, KafkaQueue)
    made.create_topics({"classified": 2})
    made.close()

    with pytest.raises(ConfigError, match="'classified' has 2 partitions; the router needs"):
        open_ready_queue(QueueSettings(url=url))


def test_a_conversation_stays_in_one_partition_in_order(kafka: KafkaQueue) -> None:
    # Given a topic of four partitions and three conversations interleaved
    kafka.create_topics({"mentions": 4})
    records = [(f"conv-{i % 3}", f"{i % 3}:{i}".encode()) for i in range(60)]

    # When they are published and read back
    kafka.publish("mentions", records)
    read = list(kafka.scan("mentions"))

    # Then each conversation is on one partition, in the order it was published
    for conv in range(3):
        mine = [r for r in read if r.key == f"conv-{conv}"]
        assert len({r.partition for r in mine}) == 1
        assert [r.value for r in mine] == [v for k, v in records if k == f"conv-{conv}"]
    assert kafka.end_offset("mentions") == 60


def test_commits_and_lag_are_per_partition(kafka: KafkaQueue) -> None:
    # Given 40 keyed records over four partitions, and a group that committed half of what it read
    kafka.create_topics({"mentions": 4})
    kafka.publish("mentions", [(f"k{i}", b"v") for i in range(40)])
    consumer = kafka.consumer("mentions", "classifier")
    got: list = []
    _until(lambda: bool(got.extend(consumer.poll(100, timeout=0.5))) or len(got) >= 40)
    by_partition: dict[int, list] = {}
    for record in got:
        by_partition.setdefault(record.partition, []).append(record)
    halves = [r for records in by_partition.values() for r in records[: len(records) // 2]]
    consumer.commit(halves, metadata="size=7")

    # When the commits and the lag are read back
    committed = kafka.consumer("mentions", "classifier").committed()
    metrics = Metrics(CollectorRegistry())
    metrics.watch_lag(queue_lag(kafka, [("mentions", "classifier")]))

    # Then each partition has its own offset and note, and its lag is what is left
    for partition, records in by_partition.items():
        done = len(records) // 2
        assert (committed[partition].offset, committed[partition].metadata) == (done, "size=7")
        lag = metrics.registry.get_sample_value(
            "mention_router_queue_lag_records", {"topic": "mentions", "partition": str(partition)}
        )
        assert lag == len(records) - done
    consumer.close()


def _router(taxonomy: Taxonomy) -> Router:
    return Router([employee("anna", budget_minutes_per_day=50)], taxonomy)


def _classified(prefix: str, count: int, start: int = 0) -> list[tuple[str | None, bytes]]:
    made = [mention(f"{prefix}{i}", T0 + minutes(i), lang="en") for i in range(start, count)]
    return [(m.id, encode_classified(m, classification(m.id))) for m in made]


class _RouterProcess:
    """A router stage stepping on a thread of its own, as it would in its own process."""

    def __init__(self, url: str, taxonomy: Taxonomy) -> None:
        self.queue = open_queue(url)
        self.stage = RouteStage(self.queue, TOPICS, lambda: _router(taxonomy),
                                Metrics(CollectorRegistry()), lambda m: T0)  # fmt: skip
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.stage.step(100, timeout=0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.stage.close()
        self.queue.close()


@pytest.mark.slow
def test_a_standby_router_takes_over_and_spends_no_budget_twice(
    kafka_broker: Broker, taxonomy: Taxonomy
) -> None:
    # Given two router processes in one group, and 4 classified mentions
    url = kafka_broker.url(quick=True)
    log = open_queue(url)
    log.publish(TOPICS.classified, _classified("a", 4))
    routers = [_RouterProcess(url, taxonomy), _RouterProcess(url, taxonomy)]
    try:
        # When one of them has routed what there is, while the other stands by
        _until(lambda: _decided(log) >= 4)
        active = next(r for r in routers if r.stage.active)
        standby = next(r for r in routers if r is not active)
        assert not standby.stage.active
        # And the active one goes away; more mentions arrive, with repeats of the first
        active.stop()
        log.publish(TOPICS.classified, _classified("a", 4) + _classified("b", 6))
        _until(lambda: _decided(log) >= 10)
        time.sleep(1.0)  # room for a wrong second decision to show up
        outcomes = [d.outcome for d in decisions_in(log, TOPICS.decisions) if d.outcome]
    finally:
        for router in routers:
            router.stop()
        log.close()

    # Then the standby rebuilt from the log: each mention decided once, anna's 50 min not passed
    assert Counter(o.mention_id for o in outcomes).most_common(1)[0][1] == 1
    assert len(outcomes) == 10
    assert sum(o.status == "assigned" for o in outcomes) == 5  # 10 minutes each


class _DeliverProcess:
    """A delivery stage stepping on a thread of its own, writing one shared out file."""

    def __init__(self, url: str, out: Path) -> None:
        self.queue = open_queue(url)
        self.stage = DeliveryStage(self.queue, TOPICS, Metrics(CollectorRegistry()), out)
        self.delivered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.delivered += self.stage.step(100, timeout=0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.stage.close()
        self.queue.close()


def _decisions(taxonomy: Taxonomy, prefix: str, count: int) -> list[tuple[str | None, bytes]]:
    router = _router(taxonomy)
    made = [
        d
        for i in range(count)
        for d in router.route(
            mention(f"{prefix}{i}", T0 + minutes(i), lang="en"),
            classification(f"{prefix}{i}"),
            T0 + minutes(i),
        )
    ]
    return [(d.mention_id, encode_decision(d)) for d in made]


@pytest.mark.slow
def test_a_standby_deliverer_cuts_a_torn_out_file_back_and_writes_each_outcome_once(
    kafka_broker: Broker, taxonomy: Taxonomy, tmp_path: Path
) -> None:
    # Given two delivery processes on one out file, and 6 decisions delivered by one of them
    url = kafka_broker.url(quick=True)
    log = open_queue(url)
    out = tmp_path / "out.jsonl"
    first, more = _decisions(taxonomy, "a", 6), _decisions(taxonomy, "b", 4)
    log.publish(TOPICS.decisions, first)
    deliverers = [_DeliverProcess(url, out), _DeliverProcess(url, out)]
    try:
        _until(lambda: any(d.delivered == len(first) for d in deliverers))
        active = next(d for d in deliverers if d.delivered)
        standby = next(d for d in deliverers if d is not active)
        # When the active one dies halfway through writing a line, and more decisions arrive
        active.stop()
        with out.open("ab") as torn:
            torn.write(b'{"status": "assigned", "mention_id": "a0", "emp')
        log.publish(TOPICS.decisions, more)
        _until(lambda: standby.delivered >= len(more))
        logged = [d.outcome for d in decisions_in(log, TOPICS.decisions) if d.outcome]
    finally:
        for deliverer in deliverers:
            deliverer.stop()
        log.close()

    # Then the file holds every logged outcome once, in log order, and no torn line
    lines = out.read_text().splitlines()
    assert [json.loads(line)["mention_id"] for line in lines] == [o.mention_id for o in logged]
    assert len(lines) == len(first) + len(more)


def _retrying(action: Callable[[], T], timeout: float = 20.0) -> T:
    """``action`` retried while the queue is unavailable, as the worker loop does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except QueueUnavailableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _decided(queue: Queue) -> int:
    return len({d.mention_id for d in decisions_in(queue, TOPICS.decisions)})


def _ids_on(url: str) -> set[str]:
    """Mention ids on the mentions topic, read by a client closed right after."""
    queue = open_queue(url)
    try:
        return {json.loads(r.value)["id"] for r in _retrying(lambda: list(queue.scan("mentions")))}
    finally:
        queue.close()


@pytest.mark.slow
def test_ingest_holds_its_batch_while_the_broker_is_down_and_loses_nothing(
    tmp_path: Path,
) -> None:
    # Given an ingest process feeding a broker of its own, 200 mentions at 20 per second
    binary = broker_binary()
    assert binary is not None
    port = free_port()
    stream = tmp_path / "stream.jsonl"
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    lines = [json.loads(line) for line in stream_lines(200)]
    for i, record in enumerate(lines):
        record["created_at"] = (start + timedelta(seconds=i)).isoformat()
    stream.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    url = f"kafka://127.0.0.1:{port}?timeout_seconds=2"
    env = dict(os.environ, PYTHONPATH=str(REPO), MENTION_ROUTER_QUEUE__URL=url,
               MENTION_ROUTER_STATE_DIR=str(tmp_path / "state"))  # fmt: skip
    command = [sys.executable, "-m", "workers.cli", "run", "--role", "ingest", "--stream",
               str(stream), "--speed", "20", "--until-idle", "--no-metrics"]  # fmt: skip
    checkpoint = tmp_path / "state" / "ingest" / "ingest-stream.json"
    with running_broker(binary, tmp_path / "broker1.log", port):
        with (tmp_path / "ingest.log").open("wb") as log:
            ingest = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
        _until(lambda: len(_ids_on(url)) >= 10, timeout=60)
    # When the broker goes away mid-stream (taking what it held: it keeps nothing on disk)
    acknowledged = json.loads(checkpoint.read_text())["line"]
    time.sleep(3)
    # Then the ingest waits: it reads no further than the batch it holds
    assert ingest.poll() is None
    assert json.loads(checkpoint.read_text())["line"] == acknowledged
    # And once a broker is back, every mention not acknowledged before is published
    with running_broker(binary, tmp_path / "broker2.log", port):
        assert ingest.wait(timeout=60) == 0, (tmp_path / "ingest.log").read_text()
        after = _ids_on(url)
    assert {r["id"] for r in lines[acknowledged:]} <= after
    assert "queue unavailable" in (tmp_path / "ingest.log").read_text()
