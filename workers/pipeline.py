"""The pipeline stages on a queue: route (tag + decide) and deliver, each resumable."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import orjson

from config.settings import TopicNames
from connectors.codec import decode_mention, encode_outcome
from connectors.files import OutcomeFile
from connectors.queues import Queue
from connectors.queues.base import Record
from routing.errors import MalformedMentionError
from routing.models import Mention
from routing.router import Decision, Router
from routing.tagger import Tagger
from workers.metrics import Metrics

Clock = Callable[[Mention | None], datetime]

ROUTER_GROUP = "router"
DELIVERY_GROUP = "delivery"


def encode_decision(decision: Decision) -> bytes:
    return decision.__pydantic_serializer__.to_json(decision, exclude_none=True)


def decode_decision(data: bytes) -> Decision:
    return Decision.model_validate_json(data)


def decisions_in(queue: Queue, topic: str) -> Iterator[Decision]:
    """Every decision logged on ``topic`` so far, oldest first."""
    for record in queue.scan(topic):
        yield decode_decision(record.value)


class RoutingStage:
    """Consumes mentions, tags them in batches, routes them and logs the decisions.

    Decisions are published before the mentions' offsets are committed, and the router drops
    ids it has already decided, so a crash between the two repeats no assignment.
    """

    def __init__(
        self,
        queue: Queue,
        topics: TopicNames,
        tagger: Tagger,
        router: Router,
        metrics: Metrics,
        clock: Clock,
    ) -> None:
        self._queue = queue
        self._topics = topics
        self._tagger = tagger
        self._router = router
        self._metrics = metrics
        self._clock = clock
        self._consumer = queue.consumer(topics.mentions, ROUTER_GROUP)

    def rebuild(self) -> int:
        """Restore the router's state from the decision log; returns the events replayed."""
        count = self._router.rebuild(decisions_in(self._queue, self._topics.decisions))
        self._metrics.backlog.set(self._router.backlog_size)
        return count

    def step(self, max_records: int, timeout: float = 0.0) -> int:
        """Process one batch; returns how many records it consumed (0 when idle)."""
        records = self._consumer.poll(max_records, timeout)
        if not records:
            return 0
        mentions = self._decode(records)
        fresh = [m for m in mentions if not self._router.is_decided(m.id)]
        self._metrics.duplicates.inc(len(mentions) - len(fresh))
        started = time.perf_counter()
        classifications = self._tagger.tag(fresh) if fresh else []
        routed = time.perf_counter()
        self._metrics.stage_seconds.labels("classify").observe(routed - started)
        self._metrics.observe_classified(classifications)
        decisions: list[Decision] = []
        for mention, classification in zip(fresh, classifications, strict=True):
            decisions.extend(self._router.route(mention, classification, self._clock(mention)))
        self._metrics.stage_seconds.labels("route").observe(time.perf_counter() - routed)
        self._publish(decisions)
        self._consumer.commit(records)
        return len(records)

    def tick(self) -> int:
        """Let the clock advance with no new mention (backlog drain, escalations)."""
        decisions = self._router.tick(self._clock(None))
        self._publish(decisions)
        return len(decisions)

    def close(self) -> None:
        self._consumer.close()

    def _decode(self, records: list[Record]) -> list[Mention]:
        mentions = []
        poison = []
        for record in records:
            try:
                mentions.append(decode_mention(record.value))
            except MalformedMentionError as exc:
                poison.append((record.key, _dead_letter(record, exc.reason)))
        if poison:
            self._queue.publish(self._topics.dead_letters, poison)
            self._metrics.malformed.labels("queue").inc(len(poison))
        return mentions

    def _publish(self, decisions: list[Decision]) -> None:
        if not decisions:
            return
        self._queue.publish(
            self._topics.decisions,
            [(d.mention_id, encode_decision(d)) for d in decisions],
        )
        for decision in decisions:
            if decision.outcome is not None:
                self._metrics.observe_outcome(decision.outcome)
        self._metrics.backlog.set(self._router.backlog_size)
        self._metrics.set_budget_remaining(budget_remaining_by_team(self._router))


def _dead_letter(record: Record, reason: str) -> bytes:
    return orjson.dumps(
        {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "reason": reason,
            "value": record.value.decode(errors="backslashreplace"),
        }
    )


def budget_remaining_by_team(router: Router) -> dict[str, float]:
    """Minutes left today per team, at the router's clock."""
    now = router.clock
    per_team: dict[str, float] = defaultdict(float)
    for employee in router.roster:
        per_team[employee.team] += (
            router.ledger.remaining(employee.id, now)
            if now is not None
            else employee.budget_minutes_per_day
        )
    return dict(per_team)


class DeliveryStage:
    """Consumes decisions and delivers their outcomes: the assignments topic and the out file.

    The out file's size is committed with the offsets; on restart the file is cut back to it,
    so every outcome is in the file exactly once.
    """

    def __init__(
        self, queue: Queue, topics: TopicNames, metrics: Metrics, out: Path | None
    ) -> None:
        self._queue = queue
        self._topics = topics
        self._metrics = metrics
        self._consumer = queue.consumer(topics.decisions, DELIVERY_GROUP)
        self._file: OutcomeFile | None = None
        if out is not None:
            committed = self._consumer.committed().get(0)
            resume = int(committed.metadata) if committed and committed.metadata else None
            self._file = OutcomeFile.open(out, resume_size=resume)

    def step(self, max_records: int, timeout: float = 0.0) -> int:
        records = self._consumer.poll(max_records, timeout)
        if not records:
            return 0
        started = time.perf_counter()
        decisions = [decode_decision(r.value) for r in records]
        outcomes = [d.outcome for d in decisions if d.outcome is not None]
        self._queue.publish(
            self._topics.assignments, [(o.mention_id, encode_outcome(o)) for o in outcomes]
        )
        metadata = ""
        if self._file is not None:
            self._file.write_many(outcomes)
            metadata = str(self._file.flush_durable())
        self._consumer.commit(records, metadata=metadata)
        self._metrics.stage_seconds.labels("deliver").observe(time.perf_counter() - started)
        return len(records)

    def close(self) -> None:
        self._consumer.close()
        if self._file is not None:
            self._file.close()
