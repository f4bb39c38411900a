"""The pipeline stages on a queue, each resumable after a crash, and what they share.

    mentions --RoutingStage (classify and route in one step: replay)--> decisions
    decisions --DeliveryStage--> assignments topic and the out file
    (the stages that scale out, classify and route apart, are in ``workers.stages``)

Every stage makes a batch durable downstream before it commits the batch's offsets, so a
crash repeats work but loses none; repeats are harmless because the router drops mention ids
it has already decided. A batch whose output could not be written is kept and written again
(the queue was unreachable), or dropped with the consumer's position (``resync``) when the
group gave its partitions to another member.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Protocol, runtime_checkable

from config.settings import TopicNames
from connectors.codec import decode_mention
from connectors.files import OutcomeFile
from connectors.queues import Consumer, Queue
from connectors.queues.base import Record
from routing.models import Classification, Mention, Outcome
from routing.router import Decision, Router
from routing.tagger import Tagger
from workers.decisionlog import DecisionEncoder, OutcomeLine, decisions_in, decode_outcome_line
from workers.flow import (
    FlowMeter,
    log_classified,
    log_outcomes,
    observe_classified_ages,
)
from workers.handoff import Handoff
from workers.metrics import Metrics
from workers.outbox import Outbox, dead_letter, decode_records, together

Clock = Callable[[Mention | None], datetime]
Pair = tuple[Mention, Classification]

ROUTER_GROUP = "router"
CLASSIFIER_GROUP = "classifier"
DELIVERY_GROUP = "delivery"

log = logging.getLogger("mention_router")


@runtime_checkable
class Assigned(Protocol):
    """A consumer in a group that shares partitions out (Kafka); others own everything."""

    generation: int

    def assignment(self) -> frozenset[int]: ...


class QueueStage:
    """A consumer of one topic with its outbox; ``resync`` restarts from committed offsets."""

    def __init__(
        self, queue: Queue, topics: TopicNames, metrics: Metrics, topic: str, group: str
    ) -> None:
        self._queue = queue
        self._topics = topics
        self._metrics = metrics
        self._topic = topic
        self._group = group
        self._consumer: Consumer = queue.consumer(topic, group)
        self._outbox = Outbox()
        self._generation = -1

    def resync(self) -> None:
        """Drop the unfinished batch and read again from the group's committed offsets."""
        self._outbox.clear()
        self._consumer.close()
        self._consumer = self._queue.consumer(self._topic, self._group)
        self._generation = -1

    def close(self) -> None:
        self._consumer.close()

    def _moved(self) -> bool:
        """Whether the group reassigned partitions since the last call (always once at start)."""
        now = self._consumer.generation if isinstance(self._consumer, Assigned) else 0
        moved, self._generation = now != self._generation, now
        return moved

    def _owns(self, partition: int = 0) -> bool:
        consumer = self._consumer
        return not isinstance(consumer, Assigned) or partition in consumer.assignment()

    def _dead_letters(self, poison: list[tuple[Record, str]]) -> Callable[[], None]:
        reported = [not poison]  # once, though a transaction rolled back may publish again

        def publish() -> None:
            if poison:
                letters = [(r.key, dead_letter(r, why)) for r, why in poison]
                self._queue.publish(self._topics.dead_letters, letters)
            if not reported[0]:
                reported[0] = True
                self._metrics.malformed.labels("queue").inc(len(poison))
                log.warning(  # the reasons are in the dead letters, beside the records
                    "%d records of %s went to %s",
                    len(poison),
                    self._topic,
                    self._topics.dead_letters,
                    extra={"stage": self._group},
                )

        return publish

    def _commit(self, records: list[Record], metadata: str = "") -> Callable[[], None]:
        return lambda: self._consumer.commit(records, metadata)


class Decider:
    """The router's half of a stage: drop decided ids, route the rest, log the decisions.

    Given a ``handoff``, it keeps each decision it logs there, as the outcome and line a
    delivery in this process needs of it.
    """

    def __init__(
        self,
        queue: Queue,
        topics: TopicNames,
        router: Router,
        metrics: Metrics,
        clock: Clock,
        handoff: Handoff[OutcomeLine] | None = None,
    ) -> None:
        self.queue = queue
        self.topics = topics
        self.router = router
        self.metrics = metrics
        self.clock = clock
        self.flow = FlowMeter(metrics)
        self._handoff = handoff
        self._encode = DecisionEncoder().encode

    def rebuild(self) -> int:
        logged = decisions_in(self.queue, self.topics.decisions)
        count = self.router.rebuild(self.flow.replaying(logged))
        self.flow.refresh(self.router)
        return count

    def fresh(self, mentions: Sequence[Mention]) -> list[int]:
        """Positions of the mentions not decided before, each id once (repeats are counted)."""
        seen: set[str] = set()
        kept = []
        for i, m in enumerate(mentions):
            if m.id not in seen and not self.router.is_decided(m.id):
                kept.append(i)
            seen.add(m.id)
        self.metrics.duplicates.inc(len(mentions) - len(kept))
        return kept

    def decide(self, pairs: Iterable[Pair]) -> list[Decision]:
        started = time.perf_counter()
        decisions: list[Decision] = []
        count = 0
        for mention, classification in pairs:
            now = self.clock(mention)
            self.flow.arrived(mention.id, now)
            decisions.extend(self.router.route(mention, classification, now))
            count += 1
        self.metrics.stage_seconds.labels("route").observe(time.perf_counter() - started)
        self.metrics.stage_records.labels("route").inc(count)
        return decisions

    def publish(self, decisions: list[Decision]) -> None:
        self.log(decisions)
        self.observe(decisions)

    def log(self, decisions: list[Decision]) -> None:
        """Append ``decisions`` to the decision log."""
        if not decisions:
            return
        encode, handoff = self._encode, self._handoff
        records: list[tuple[str | None, bytes]] = []
        for decision in decisions:
            data, delivered = encode(decision)
            if handoff is not None:
                handoff.keep(data, delivered)
            records.append((decision.mention_id, data))
        self.queue.publish(self.topics.decisions, records)

    def observe(self, decisions: list[Decision]) -> None:
        """Metrics and logs of decisions now logged."""
        if not decisions:
            return
        outcomes = [d.outcome for d in decisions if d.outcome is not None]
        self.flow.decided_all(outcomes)
        log_outcomes("route", outcomes)
        self.flow.refresh(self.router)


class RoutingStage(QueueStage):
    """Consumes mentions, tags them in batches, routes them and logs the decisions.

    The one-process path (replay): no classified topic in between, one router by design.
    """

    def __init__(
        self,
        queue: Queue,
        topics: TopicNames,
        tagger: Tagger,
        router: Router,
        metrics: Metrics,
        clock: Clock,
        *,
        mentions: Handoff[Mention] | None = None,
        decisions: Handoff[OutcomeLine] | None = None,
    ) -> None:
        super().__init__(queue, topics, metrics, topics.mentions, ROUTER_GROUP)
        self._tagger = tagger
        self._decider = Decider(queue, topics, router, metrics, clock, decisions)
        self._decode = mentions.decode if mentions is not None else decode_mention

    def rebuild(self) -> int:
        """Restore the router's state from the decision log; returns the events replayed."""
        return self._decider.rebuild()

    def step(self, max_records: int, timeout: float = 0.0) -> int:
        """Process one batch; returns how many records it consumed (0 when idle)."""
        if self._outbox:
            return self._outbox.flush()
        records = self._consumer.poll(max_records, timeout)
        if not records:
            return 0
        decoded, poison = decode_records(records, self._decode)
        mentions = [m for _, m in decoded]
        fresh = [mentions[i] for i in self._decider.fresh(mentions)]
        classifications = tag_batch(self._tagger, fresh, self._metrics, self._decider.clock)
        decisions = self._decider.decide(zip(fresh, classifications, strict=True))
        self._outbox.fill(
            len(records),
            *together(
                self._queue,
                self._dead_letters(poison),
                lambda: self._decider.log(decisions),
                self._commit(records),
            ),
            lambda: self._decider.observe(decisions),
        )
        return self._outbox.flush()

    def tick(self) -> int:
        """Let the clock advance with no new mention (backlog drain, escalations)."""
        decisions = self._decider.router.tick(self._decider.clock(None))
        self._decider.publish(decisions)
        return len(decisions)


class DeliveryStage(QueueStage):
    """Consumes decisions and delivers their outcomes: the assignments topic and the out file.

    The out file's size is committed with the offsets; whenever this member takes over the
    decisions topic the file is cut back to that size, so every outcome is in it exactly once.
    ``delivered``, when given, hears of each batch's outcomes once they are written.
    """

    def __init__(
        self,
        queue: Queue,
        topics: TopicNames,
        metrics: Metrics,
        out: Path | None,
        *,
        handoff: Handoff[OutcomeLine] | None = None,
        delivered: Callable[[list[Outcome]], None] | None = None,
    ) -> None:
        super().__init__(queue, topics, metrics, topics.decisions, DELIVERY_GROUP)
        self._out = out
        self._delivered = delivered
        self._decode = handoff.decode if handoff is not None else decode_outcome_line
        self._file: OutcomeFile | None = None
        if not isinstance(self._consumer, Assigned):
            self._open_file()

    def step(self, max_records: int, timeout: float = 0.0) -> int:
        if self._outbox:
            return self._outbox.flush()
        records = self._consumer.poll(max_records, timeout)
        if isinstance(self._consumer, Assigned) and (self._moved() or not self._owns()):
            self._close_file()  # reopened below at the committed size once this member owns it
        if not records or not self._owns():
            return 0
        if self._file is None:
            self._open_file()
        started = time.perf_counter()
        decoded, poison = decode_records(records, self._decode)
        outcomes = [d.outcome for _, d in decoded if d.outcome is not None]
        lines = [d.line for _, d in decoded if d.outcome is not None]  # for the topic and file
        written: list[str] = [""]

        def write() -> None:
            if self._file is not None:
                self._file.write_lines(lines)
                written[0] = str(self._file.flush_durable())

        # The file first: the queue writes after it can then go in one transaction, and a
        # crash before they commit cuts the file back to the size committed before.
        self._outbox.fill(
            len(records),
            write,
            *together(
                self._queue,
                self._dead_letters(poison),
                lambda: self._queue.publish(
                    self._topics.assignments,
                    [(o.mention_id, line) for o, line in zip(outcomes, lines, strict=True)],
                ),
                lambda: self._consumer.commit(records, written[0]),
            ),
            *([] if self._delivered is None else [partial(self._delivered, outcomes)]),
        )
        done = self._outbox.flush()
        self._metrics.stage_seconds.labels("deliver").observe(time.perf_counter() - started)
        self._metrics.stage_records.labels("deliver").inc(len(outcomes))
        log_outcomes("deliver", outcomes)
        return done

    def resync(self) -> None:
        super().resync()
        self._close_file()
        if not isinstance(self._consumer, Assigned):
            self._open_file()

    def close(self) -> None:
        super().close()
        self._close_file()

    def _open_file(self) -> None:
        if self._out is None:
            return
        committed = self._consumer.committed().get(0)
        resume = int(committed.metadata) if committed and committed.metadata else None
        self._file = OutcomeFile.open(self._out, resume_size=resume)

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def tag_batch(
    tagger: Tagger, mentions: list[Mention], metrics: Metrics, clock: Clock
) -> list[Classification]:
    started = time.perf_counter()
    classifications = tagger.tag(mentions) if mentions else []
    metrics.stage_seconds.labels("classify").observe(time.perf_counter() - started)
    metrics.stage_records.labels("classify").inc(len(classifications))
    metrics.observe_classified(classifications)
    observe_classified_ages(metrics, mentions, [clock(m) for m in mentions])
    log_classified("classify", zip(mentions, classifications, strict=True))
    return classifications
