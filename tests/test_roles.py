"""The worker roles on the in-process and embedded queues: stages, poison, restarts, start-up."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from config.settings import QueueSettings, TopicNames
from connectors.codec import encode_classified, encode_mention
from connectors.queues import MemoryQueue, open_queue
from routing.errors import QueueUnavailableError
from routing.models import Mention, Taxonomy
from routing.router import Router
from routing.tagger import Tagger
from tests.factories import T0, classification, employee, mention, minutes
from tests.streams import stream_lines, write_config
from workers.cli import main
from workers.decisionlog import decisions_in
from workers.metrics import Metrics
from workers.roles import open_ready_queue, wait_until_reachable
from workers.stages import ClassifyStage, RouteStage, queue_lag

TOPICS = TopicNames()


def _metrics() -> Metrics:
    return Metrics(CollectorRegistry())


def _mentions(count: int, prefix: str = "m") -> list[Mention]:
    return [mention(f"{prefix}{i}", T0 + minutes(i), lang="en") for i in range(count)]


class _BrittleModel:
    """A classifier model that fails on one kind of text, as a corrupt input might make it."""

    version = "brittle"

    def classify_batch(self, texts: Sequence[str]) -> list[dict[str, tuple[str, float]]]:
        if any("boom" in t for t in texts):
            raise ValueError("cannot featurize this text")
        return [{"topic": ("billing", 0.9)} for _ in texts]


def test_classify_stage_publishes_tags_and_dead_letters_the_poison(taxonomy: Taxonomy) -> None:
    # Given three good mentions, one unreadable record and one the model chokes on
    queue = MemoryQueue()
    choking = mention("m-boom", T0, text="boom", lang="en")
    queue.publish(TOPICS.mentions, [(m.id, encode_mention(m)) for m in _mentions(3)])
    queue.publish(TOPICS.mentions, [("bad", b'{"id": "x"}'), ("m-boom", encode_mention(choking))])
    stage = ClassifyStage(queue, TOPICS, Tagger(_BrittleModel(), taxonomy), _metrics())

    # When the classify stage takes one batch
    consumed = stage.step(100)

    # Then the good ones are on the classified topic, keyed as they came, with their tags
    assert consumed == 5
    classified = list(queue.scan(TOPICS.classified))
    assert [r.key for r in classified] == ["m0", "m1", "m2"]
    assert all(b'"topic":"billing"' in r.value for r in classified)
    # And each poison record is a dead letter with its reason; the partition moved past them
    letters = [json.loads(r.value) for r in queue.scan(TOPICS.dead_letters)]
    assert [d["offset"] for d in letters] == [3, 4]
    assert "field required" in letters[0]["reason"]
    assert letters[1]["reason"].startswith("classifier failed: ValueError: cannot featurize")
    assert queue.consumer(TOPICS.mentions, "classifier").committed()[0].offset == 5


def _classified(mentions: list[Mention]) -> list[tuple[str | None, bytes]]:
    return [(m.id, encode_classified(m, classification(m.id))) for m in mentions]


def _router(taxonomy: Taxonomy) -> Router:
    return Router([employee("anna", budget_minutes_per_day=30)], taxonomy)


def test_route_stage_decides_each_mention_once_across_duplicates_and_restarts(
    taxonomy: Taxonomy,
) -> None:
    # Given classified mentions where a crashed classifier published the first three twice
    queue = MemoryQueue()
    first, second = _mentions(5), _mentions(4, "n")
    queue.publish(TOPICS.classified, _classified(first) + _classified(first[:3]))
    metrics = _metrics()
    router = RouteStage(queue, TOPICS, lambda: _router(taxonomy), metrics, lambda m: T0)

    # When the router takes them, then restarts (a new process) and gets more, with repeats
    router.step(100)
    router.close()
    queue.publish(TOPICS.classified, _classified(first[3:]) + _classified(second))
    restarted = RouteStage(queue, TOPICS, lambda: _router(taxonomy), metrics, lambda m: T0)
    restarted.step(100)

    # Then every mention has exactly one decision, and anna's 30 minutes hold three of them
    outcomes = [d.outcome for d in decisions_in(queue, TOPICS.decisions) if d.outcome]
    assert Counter(o.mention_id for o in outcomes) == {m.id: 1 for m in first + second}
    assert sum(o.status == "assigned" for o in outcomes) == 3
    assert metrics.registry.get_sample_value("mention_router_duplicate_mentions_total") == 5


def test_lag_is_what_a_group_has_not_committed(taxonomy: Taxonomy) -> None:
    # Given five mentions of which the classifier group committed two
    queue = MemoryQueue()
    queue.publish(TOPICS.mentions, [(m.id, encode_mention(m)) for m in _mentions(5)])
    consumer = queue.consumer(TOPICS.mentions, "classifier")
    consumer.commit(consumer.poll(2))
    metrics = _metrics()

    # When the metrics read the lag at scrape time
    metrics.watch_lag(queue_lag(queue, [(TOPICS.mentions, "classifier")]))
    lag = metrics.registry.get_sample_value(
        "mention_router_queue_lag_records", {"topic": "mentions", "partition": "0"}
    )

    # Then it is the three records not yet committed
    assert lag == 3


def test_an_unreachable_broker_is_retried_with_backoff_then_named() -> None:
    # Given a broker address nobody listens on, and a clock that the waits move
    queue = open_queue("kafka://127.0.0.1:1?timeout_seconds=1")
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    # When start-up waits for it for at most 30 s
    with pytest.raises(QueueUnavailableError) as caught:
        wait_until_reachable(queue, 30.0, sleep, lambda: now[0])
    queue.close()

    # Then it tried with growing pauses, and the error names the address, cause and attempts
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    message = str(caught.value)
    assert "127.0.0.1:1" in message
    assert "refused" in message
    assert "gave up after 7 attempts" in message


def test_a_broker_down_at_start_stops_run_with_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTION_ROUTER_QUEUE__URL", "kafka://127.0.0.1:1?timeout_seconds=1")
    monkeypatch.setenv("MENTION_ROUTER_QUEUE__STARTUP_TIMEOUT_SECONDS", "0")
    code = main(["run", "--role", "deliver", "--no-metrics", "--out", str(tmp_path / "o.jsonl")])

    assert code == 2
    assert "no broker reachable at 127.0.0.1:1" in capsys.readouterr().err


def test_embedded_queue_is_not_waited_for() -> None:
    # A local file that cannot be opened will not get better by waiting.
    settings = QueueSettings(url="embedded:/proc/no-such-dir/queue.db")
    with pytest.raises(QueueUnavailableError, match="no-such-dir"):
        open_ready_queue(settings, sleep=lambda s: pytest.fail("waited"))


def test_role_all_with_a_stream_ingests_classifies_routes_and_delivers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stream of 120 mentions and an embedded queue
    monkeypatch.setenv("MENTION_ROUTER_QUEUE__URL", f"embedded:{tmp_path / 'queue.db'}")
    monkeypatch.setenv("MENTION_ROUTER_STATE_DIR", str(tmp_path / "state"))
    stream = tmp_path / "stream.jsonl"
    stream.write_text("\n".join(stream_lines(120)) + "\n", encoding="utf-8")
    roster, taxonomy = write_config(tmp_path)
    out = tmp_path / "out.jsonl"
    args = ["run", "--role", "all", "--stream", str(stream), "--until-idle", "--use-labels",
            "--no-metrics", "--roster", str(roster), "--taxonomy", str(taxonomy),
            "--out", str(out)]  # fmt: skip

    # When one process plays every role until the queue is drained, then runs again
    assert main(args) == 0
    first = out.read_text().splitlines()
    assert main(args) == 0

    # Then every mention has an outcome, and the second run ingested and decided nothing more
    assert {json.loads(line)["mention_id"] for line in first} == {
        json.loads(line)["id"] for line in stream.read_text().splitlines()
    }
    assert out.read_text().splitlines() == first


def test_ingest_without_a_stream_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTION_ROUTER_QUEUE__URL", f"embedded:{tmp_path / 'queue.db'}")
    assert main(["run", "--role", "ingest", "--no-metrics"]) == 2
    assert "the ingest role needs --stream" in capsys.readouterr().err
