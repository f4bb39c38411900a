"""The stages that scale out as processes of their own: classify (many) and route (one active).

    mentions --ClassifyStage--> classified --RouteStage--> decisions
                                  actions --^  (the inbox's accept, done, decline, reassign)

Both follow ``workers.pipeline``: a batch is made durable downstream before its offsets are
committed, and a repeated mention is dropped by its id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from config.settings import TopicNames
from connectors.codec import decode_classified, decode_mention, encode_classified
from connectors.queues import Queue
from connectors.queues.base import Record
from routing.errors import QueueError
from routing.models import Classification, Mention
from routing.router import Decision, Router
from routing.tagger import Tagger
from workers.actions import ActionIntake
from workers.metrics import LagReading, Metrics
from workers.outbox import decode_records
from workers.pipeline import (
    CLASSIFIER_GROUP,
    ROUTER_GROUP,
    Clock,
    Decider,
    QueueStage,
    tag_batch,
)

log = logging.getLogger("mention_router")


@runtime_checkable
class Fencing(Protocol):
    """A consumer that can prove to its group that it still holds its records' partitions."""

    def confirm(self, records: Sequence[Record]) -> None: ...


class ClassifyStage(QueueStage):
    """Consumes mentions and publishes them with their tags; any number share one group.

    It keeps no state, so a mention classified twice (after a crash) is published twice and
    the router drops the second copy by its id.
    """

    def __init__(
        self,
        queue: Queue,
        topics: TopicNames,
        tagger: Tagger,
        metrics: Metrics,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(queue, topics, metrics, topics.mentions, CLASSIFIER_GROUP)
        self._tagger = tagger
        self._clock: Clock = clock or _wall_clock  # to time each mention's age when tagged

    @property
    def version(self) -> str:
        """The model version the tags come from."""
        return self._tagger.version

    def step(self, max_records: int, timeout: float = 0.0) -> int:
        if self._outbox:
            return self._outbox.flush()
        records = self._consumer.poll(max_records, timeout)
        if not records:
            return 0
        decoded, poison = decode_records(records, decode_mention)
        mentions = [m for _, m in decoded]
        tagged, failed = _tag_each(self._tagger, mentions, self._metrics, self._clock)
        poison += [(record, why) for (record, _), why in zip(decoded, failed, strict=True) if why]
        classified = [
            (record.key, encode_classified(m, c))
            for (record, m), c in zip(decoded, tagged, strict=True)
            if c is not None
        ]
        self._outbox.fill(
            len(records),
            self._dead_letters(poison),
            lambda: self._queue.publish(self._topics.classified, classified),
            self._commit(records),
        )
        return self._outbox.flush()


class RouteStage(QueueStage):
    """Consumes classified mentions and routes them: the one router that spends budgets.

    The classified topic has one partition and the stage one group, so the group gives it to
    one member at a time; the others stand by. Whenever this member is handed the partition
    it rebuilds its router from the decision log before routing anything, so it spends only
    what the log says is left.
    """

    def __init__(
        self,
        queue: Queue,
        topics: TopicNames,
        new_router: Callable[[], Router],
        metrics: Metrics,
        clock: Clock,
        *,
        idle_ticks: bool = True,
    ) -> None:
        super().__init__(queue, topics, metrics, topics.classified, ROUTER_GROUP)
        self._new_router = new_router
        self._clock = clock
        self._idle_ticks = idle_ticks  # off when the mentions' own time is the clock
        self._decider: Decider | None = None
        self._actions = ActionIntake(queue, topics)

    @property
    def active(self) -> bool:
        """Whether this member owns the router now (and has rebuilt it)."""
        return self._decider is not None

    def step(self, max_records: int, timeout: float = 0.0) -> int:
        if self._outbox:
            return self._outbox.flush()
        records = self._consumer.poll(max_records, timeout)
        decider = self._take_over()
        if decider is None:
            return 0
        actions = self._actions.poll(max_records)
        if not records and not actions:
            return 0
        decoded, poison = decode_records(records, decode_classified)
        kept = decider.fresh([m for _, (m, _) in decoded])
        decisions = decider.decide(decoded[i][1] for i in kept)
        acted, refused = self._actions.perform(decider.router, actions)
        decisions += acted
        self._outbox.fill(
            len(records) + len(actions),
            self._dead_letters(poison + refused),
            lambda: self._publish_if_owner(decider, decisions, records),
            self._commit(records),
            lambda: self._actions.commit(actions),
        )
        return self._outbox.flush()

    def tick(self) -> int:
        """Let the wall clock advance with no new mention (backlog drain, escalations)."""
        decider = self._decider
        if decider is None or self._outbox or not self._idle_ticks or not self._owns():
            return 0
        decisions = decider.router.tick(self._clock(None))
        decider.publish(decisions)
        return len(decisions)

    def resync(self) -> None:
        super().resync()
        self._decider = None
        self._actions.reset()

    def _take_over(self) -> Decider | None:
        """The decider while this member owns the partition, rebuilt on every hand-over."""
        if self._moved() or not self._owns():
            self._decider = None
            self._actions.reset()
        if self._decider is None and not self._owns():
            return None
        if self._decider is None:
            decider = Decider(
                self._queue, self._topics, self._new_router(), self._metrics, self._clock
            )
            count = decider.rebuild()
            log.info("router active: rebuilt from %d logged decisions", count)
            self._decider = decider
        return self._decider

    def _publish_if_owner(
        self, decider: Decider, decisions: list[Decision], records: list[Record]
    ) -> None:
        # A router replaced meanwhile (paused, cut off) must not publish what its successor
        # may have decided since: first what its client knows, then the group itself.
        if self._moved() or not self._owns():
            self._decider = None
            raise QueueError("the router's partition moved to another member; batch dropped")
        if isinstance(self._consumer, Fencing):
            self._consumer.confirm(records)
        decider.publish(decisions)


def _wall_clock(mention: Mention | None) -> datetime:
    return datetime.now(UTC)


def _tag_each(
    tagger: Tagger, mentions: list[Mention], metrics: Metrics, clock: Clock
) -> tuple[list[Classification | None], list[str]]:
    """Tags per mention; when the batch fails, each mention alone, so one poison is isolated."""
    try:
        tagged: list[Classification | None] = list(tag_batch(tagger, mentions, metrics, clock))
        return tagged, [""] * len(mentions)
    except Exception:  # any classifier failure: isolate it below
        log.warning("classifying a batch of %d failed; classifying one by one", len(mentions))
    tagged, failed = [], []
    for mention in mentions:
        try:
            tagged.append(tag_batch(tagger, [mention], metrics, clock)[0])
            failed.append("")
        except Exception as exc:  # the reason goes to the dead letter
            tagged.append(None)
            failed.append(f"classifier failed: {type(exc).__name__}: {exc}")
    return tagged, failed


@runtime_checkable
class PartitionLag(Protocol):
    """A backend that reports lag per partition itself (Kafka)."""

    def lag(self, topic: str, group: str) -> dict[int, int]: ...


def queue_lag(queue: Queue, watched: Sequence[tuple[str, str]]) -> Callable[[], LagReading]:
    """A reader of ``(topic, partition, records behind)`` for each watched (topic, group)."""

    def read() -> LagReading:
        rows: list[tuple[str, int, float]] = []
        for topic, group in watched:
            try:
                if isinstance(queue, PartitionLag):
                    per = queue.lag(topic, group)
                else:
                    committed = queue.consumer(topic, group).committed().get(0)
                    per = {0: queue.end_offset(topic) - (committed.offset if committed else 0)}
            except QueueError as exc:
                log.debug("lag of %s on %s not readable: %s", group, topic, exc)
                continue
            rows.extend((topic, partition, float(lag)) for partition, lag in per.items())
        return rows

    return read
