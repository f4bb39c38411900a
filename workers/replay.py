"""Replay a recorded stream through the whole pipeline, resumable after a crash."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path

from config.settings import TopicNames
from connectors.codec import decode_mention, encode_mention
from connectors.files import DeadLetterFile, StreamLine, paced, read_stream
from connectors.queues import Queue, Transactional
from routing.errors import MalformedMentionError
from routing.models import Mention
from routing.router import Router
from routing.tagger import Tagger
from workers.decisionlog import OutcomeLine, decode_outcome_line
from workers.handoff import Handoff
from workers.health import Status
from workers.heap import Sweeper, settled_heap
from workers.metrics import Metrics
from workers.pipeline import DELIVERY_GROUP, ROUTER_GROUP, DeliveryStage, RoutingStage
from workers.stages import queue_lag
from workers.summary import Finals, Summary

CONNECTOR = "replay"
_QUEUE_FILES = ("queue.db", "queue.db-wal", "queue.db-shm")
_DECISIONS_PER_MENTION = 2
_BATCHES_PER_SYNC = 8

log = logging.getLogger("mention_router")


@dataclass(frozen=True)
class ReplayOptions:
    stream: Path
    state_dir: Path
    out: Path
    dead_letters: Path
    speed: float = 0.0
    batch_size: int = 512
    fresh: bool = False


@dataclass(frozen=True)
class ReplayResult:
    summary: Summary
    lines: int
    malformed: int
    resumed_after_line: int
    seconds: float


class Checkpoint:
    """How far a replay got: the last stream line whose mentions are durably queued."""

    def __init__(self, path: Path, stream: Path) -> None:
        self.path = path
        self.stream = str(stream.resolve())
        self.line = 0
        self.done = False

    def load(self) -> bool:
        """Read a checkpoint of the same stream; False when there is none to resume."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return False
        if data.get("stream") != self.stream:
            return False
        self.line, self.done = int(data["line"]), bool(data["done"])
        return True

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump({"stream": self.stream, "line": self.line, "done": self.done}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)


def replay_clock(mention: Mention | None) -> datetime:
    """In a replay the mentions' own timestamps are the clock; the router keeps it monotonic."""
    if mention is None:
        raise ValueError("a replay advances only with mentions")
    return mention.created_at


class Replay:
    """Ingest a stream into the queue batch by batch, routing and delivering as it goes."""

    def __init__(
        self,
        options: ReplayOptions,
        queue_factory: Callable[[Path], Queue],
        topics: TopicNames,
        tagger: Tagger,
        router: Router,
        metrics: Metrics,
    ) -> None:
        self.options = options
        self._queue_factory = queue_factory
        self._topics = topics
        self._tagger = tagger
        self._router = router
        self._metrics = metrics
        self.queue_status = Status("the replay has not opened its queue yet")

    def run(self, progress: Callable[[int], None] | None = None) -> ReplayResult:
        with settled_heap() as sweeper:  # the tagger and the router are built: settle them
            return self._run(progress, sweeper)

    def _run(self, progress: Callable[[int], None] | None, sweeper: Sweeper) -> ReplayResult:
        opts = self.options
        opts.state_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = Checkpoint(opts.state_dir / "checkpoint.json", opts.stream)
        resuming = not opts.fresh and checkpoint.load() and not checkpoint.done
        if not resuming:
            self._reset(checkpoint)
        started_after = checkpoint.line
        lines = read_stream(opts.stream, start_after_line=checkpoint.line)
        queue = self._queue_factory(opts.state_dir / "queue.db")
        self.queue_status.ok()
        # Routing and delivery read back what this process just wrote: handed over, not parsed.
        mentions, decisions = Handoff(decode_mention), Handoff[OutcomeLine](decode_outcome_line)
        routing = RoutingStage(
            queue, self._topics, self._tagger, self._router, self._metrics, replay_clock,
            mentions=mentions, decisions=decisions,
        )  # fmt: skip
        finals = Finals()  # the summary's outcomes: those delivered before, then this run's
        delivery = DeliveryStage(
            queue, self._topics, self._metrics, opts.out, handoff=decisions, delivered=finals.add
        )
        lag = queue_lag(
            queue,
            [(self._topics.mentions, ROUTER_GROUP), (self._topics.decisions, DELIVERY_GROUP)],
        )
        self._metrics.watch_lag(lag)
        self._metrics.connectors.state(CONNECTOR, up=True)
        started = time.perf_counter()
        count = malformed = 0
        try:
            routing.rebuild()
            before = queue.end_offset(self._topics.assignments)  # a resumed run delivered these
            finals.add_lines(r.value for r in islice(queue.scan(self._topics.assignments), before))
            with DeadLetterFile(opts.dead_letters) as dead:
                # At speed 0 several batches share one transaction: one sync to disk for all.
                size = opts.batch_size * (_BATCHES_PER_SYNC if opts.speed == 0 else 1)
                for batch in batches(lines, opts.speed, size):
                    with _atomically(queue):
                        malformed += ingest(
                            queue, self._topics, batch, dead, self._metrics, mentions
                        )
                        while routing.step(opts.batch_size):
                            pass
                        # A mention makes about two decisions: deliver them in one step.
                        while delivery.step(size * _DECISIONS_PER_MENTION):
                            pass
                    checkpoint.line = batch[-1].line  # its mentions are on disk, and decided
                    checkpoint.save()
                    count += len(batch)
                    sweeper.passed(len(batch))
                    if progress is not None:
                        progress(count)
            checkpoint.done = True
            checkpoint.save()
            summary = finals.summary(self._router.roster)
            final = list(lag())
            self._metrics.watch_lag(lambda: final)  # the queue closes; keep the lag it ended with
        finally:
            routing.close()
            delivery.close()
            queue.close()
            self.queue_status.fail("the replay has ended and closed its queue")
        seconds = time.perf_counter() - started
        log.info(
            "replayed %d lines (%d malformed) in %.2f s", count, malformed, seconds,
            extra={"stage": "ingest", "connector": CONNECTOR},
        )  # fmt: skip
        return ReplayResult(summary, count, malformed, started_after, seconds)

    def _reset(self, checkpoint: Checkpoint) -> None:
        for name in _QUEUE_FILES:
            (self.options.state_dir / name).unlink(missing_ok=True)
        self.options.dead_letters.unlink(missing_ok=True)
        checkpoint.line, checkpoint.done = 0, False


def _atomically(queue: Queue) -> AbstractContextManager[None]:
    """One transaction for a group of batches, where the queue offers them.

    Whatever fails inside ends the replay, and nothing of the group is on disk: the next run
    resumes from the checkpoint before it. The stages' own transactions join this one.
    """
    return queue.transaction() if isinstance(queue, Transactional) else nullcontext()


def batches(
    lines: Iterator[StreamLine], speed: float, size: int, window: float = 0.0
) -> Iterable[tuple[StreamLine, ...]]:
    """Stream lines in batches of ``size``; at a ``speed`` above 0, each batch when it is due.

    Paced batches hold the lines that fall within ``window`` seconds (of replay time) of the
    batch's first line, up to ``size``; a window of 0 paces line by line.
    """
    if speed == 0:
        return _batched(lines, size)
    last: list[datetime] = []

    def timestamp(line: StreamLine) -> datetime:
        if isinstance(line.result, Mention):
            last[:] = [line.result.created_at]
        return last[0] if last else datetime.now().astimezone()

    if window <= 0:
        return ((line,) for line in paced(lines, speed=speed, timestamp=timestamp))
    grouped = _windows(lines, timestamp, timedelta(seconds=window * speed), size)
    return paced(grouped, speed=speed, timestamp=lambda batch: timestamp(batch[0]))


def _windows(
    lines: Iterator[StreamLine],
    timestamp: Callable[[StreamLine], datetime],
    span: timedelta,
    size: int,
) -> Iterator[tuple[StreamLine, ...]]:
    batch: list[StreamLine] = []
    first: datetime | None = None
    for line in lines:
        at = timestamp(line)
        if batch and (len(batch) >= size or first is None or at - first > span):
            yield tuple(batch)
            batch = []
        if not batch:
            first = at
        batch.append(line)
    if batch:
        yield tuple(batch)


def ingest(
    queue: Queue,
    topics: TopicNames,
    batch: tuple[StreamLine, ...],
    dead: DeadLetterFile,
    metrics: Metrics,
    handoff: Handoff[Mention] | None = None,
) -> int:
    """Publish a batch's mentions, keyed by conversation; bad lines go to ``dead``.

    Returns the number of bad lines. They are written after the publish, so a batch whose
    publish failed and is tried again does not write them twice. Each mention published is
    kept in ``handoff``, when given, for a stage in this process that reads it back.
    """
    started = time.perf_counter()
    records: list[tuple[str | None, bytes]] = []
    bad: list[tuple[MalformedMentionError, str]] = []
    for line in batch:
        result = line.result
        if isinstance(result, Mention):
            data = encode_mention(result)
            if handoff is not None:
                handoff.keep(data, result)
            records.append((result.conversation_id or result.id, data))
        else:
            bad.append((result, line.raw))
    queue.publish(topics.mentions, records)
    for error, raw in bad:
        dead.write(error, raw)
    if bad:
        dead.flush()
        metrics.malformed.labels(CONNECTOR).inc(len(bad))
        metrics.connectors.errors(CONNECTOR, "malformed", len(bad))
        log.warning("%d malformed lines went to %s", len(bad), dead.path, extra={"stage": "ingest"})
    metrics.connectors.received(CONNECTOR, len(records))
    metrics.stage_records.labels("ingest").inc(len(records))
    metrics.stage_seconds.labels("ingest").observe(time.perf_counter() - started)
    if log.isEnabledFor(logging.DEBUG):
        for line in batch:
            if isinstance(line.result, Mention):
                log.debug(
                    "queued %s from line %d", line.result.id, line.line,
                    extra={"correlation_id": line.result.id, "stage": "ingest",
                           "connector": CONNECTOR, "platform": line.result.platform},
                )  # fmt: skip
    return len(bad)


def _batched(lines: Iterator[StreamLine], size: int) -> Iterator[tuple[StreamLine, ...]]:
    while batch := tuple(islice(lines, size)):
        yield batch
