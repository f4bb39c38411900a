"""The roles ``mention-router run --role`` plays, one loop per process.

ingest    a recorded stream -> mentions
classify  mentions -> classified              any number share the work (one group)
route     classified -> decisions             one active router, the others stand by
deliver   decisions -> assignments + out file one active, the others stand by
all       classify, route and deliver in one process (and ingest, given a stream)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from config.settings import QueueSettings, Settings, TopicNames
from connectors.files import DeadLetterFile, StreamLine, read_stream
from connectors.queues import Queue, open_queue
from routing.errors import ConfigError, QueueError, QueueUnavailableError
from routing.models import Mention
from routing.router import Router
from routing.tagger import Tagger
from workers.health import Status
from workers.metrics import Metrics
from workers.pipeline import CLASSIFIER_GROUP, DELIVERY_GROUP, ROUTER_GROUP, DeliveryStage
from workers.replay import Checkpoint, batches, ingest
from workers.stages import ClassifyStage, RouteStage

ROLES = ("ingest", "classify", "route", "deliver", "all")
_MAX_BACKOFF = 10.0
_PACE_WINDOW = 0.05  # paced ingest publishes what falls due within 50 ms together

log = logging.getLogger("mention_router")


class Stage(Protocol):
    def step(self, max_records: int, timeout: float = 0.0) -> int: ...

    def resync(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Ticking(Protocol):
    def tick(self) -> int: ...


@runtime_checkable
class Cluster(Protocol):
    """A queue on a broker of its own (Kafka): reached over the network, topics made up front."""

    def create_topics(
        self, partitions: Mapping[str, int], replication_factor: int | None = None
    ) -> dict[str, int]: ...


def wall_clock(mention: Mention | None) -> datetime:
    return datetime.now(UTC)


def stream_clock(mention: Mention | None) -> datetime:
    """The mention's own time, as in a replay (the router keeps its clock monotonic)."""
    if mention is None:
        raise ValueError("a stream clock advances only with mentions")
    return mention.created_at


CLOCKS = {"wall": wall_clock, "stream": stream_clock}


@dataclass(frozen=True)
class RoleOptions:
    role: str = "all"
    stream: Path | None = None
    speed: float = 0.0
    out: Path | None = None
    until_idle: bool = False
    clock: str = "wall"


@dataclass(frozen=True)
class Parts:
    """How to build what a role needs, called only by the roles that need it."""

    tagger: Callable[[], Tagger]
    router: Callable[[], Router]


def topic_plan(settings: QueueSettings) -> dict[str, int]:
    """Partitions per topic: the router's input and its log have one, so one router owns them."""
    t, n = settings.topics, settings.partitions
    return {
        t.mentions: n, t.classified: 1, t.decisions: 1, t.assignments: n, t.dead_letters: 1,
        t.actions: 1,
    }  # fmt: skip


def open_ready_queue(
    settings: QueueSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Queue:
    """The configured queue, once it answers; a broker gets its topics created first."""
    queue = open_queue(settings.url)
    try:
        if isinstance(queue, Cluster):
            wait_until_reachable(queue, settings.startup_timeout_seconds, sleep, clock)
            provision(queue, settings)
        else:
            queue.check()
    except BaseException:
        queue.close()
        raise
    return queue


def wait_until_reachable(
    queue: Queue, timeout: float, sleep: Callable[[float], None], clock: Callable[[], float]
) -> None:
    """``check`` the queue, retrying with backoff for up to ``timeout`` seconds."""
    started, delay, attempt = clock(), 0.5, 0
    while True:
        attempt += 1
        try:
            queue.check()
            return
        except QueueUnavailableError as exc:
            waited = clock() - started
            if waited + delay > timeout:
                raise QueueUnavailableError(
                    f"{exc} (gave up after {attempt} attempts in {waited:.0f} s)"
                ) from exc
            log.warning(
                "queue unreachable (attempt %d, retrying in %.1f s): %s", attempt, delay, exc
            )
            sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF)


def provision(queue: Cluster, settings: QueueSettings) -> None:
    """Create the missing topics; refuse a router topic with more than one partition."""
    counts = queue.create_topics(topic_plan(settings), settings.replication_factor)
    for field in ("classified", "decisions", "actions"):
        name = getattr(settings.topics, field)
        if counts.get(name, 1) != 1:
            raise ConfigError(
                "queue.topics",
                field,
                f"topic {name!r} has {counts[name]} partitions; the router needs exactly one "
                "(one active router owns it, so no budget is spent twice)",
            )


class IngestStage:
    """Publishes a recorded stream to the mentions topic, resuming after the last line queued.

    A batch that could not be published is kept and published again before the stream is read
    further: while the queue is down nothing more is read (back-pressure), nothing dropped.
    """

    def __init__(
        self,
        queue: Queue,
        topics: TopicNames,
        stream: Path,
        state_dir: Path,
        dead_letters: Path,
        metrics: Metrics,
        speed: float = 0.0,
        batch_size: int = 512,
    ) -> None:
        self._queue = queue
        self._topics = topics
        self._metrics = metrics
        self._checkpoint = Checkpoint(state_dir / f"ingest-{stream.stem}.json", stream)
        state_dir.mkdir(parents=True, exist_ok=True)
        if self._checkpoint.load() and self._checkpoint.done:
            log.info("%s was ingested before; delete %s to ingest it again", stream, state_dir)
        lines = read_stream(stream, start_after_line=self._checkpoint.line)
        self._batches: Iterator[tuple[StreamLine, ...]] = iter(
            () if self._checkpoint.done else batches(lines, speed, batch_size, _PACE_WINDOW)
        )
        self._held: tuple[StreamLine, ...] | None = None
        self._dead = DeadLetterFile(dead_letters)

    def step(self, max_records: int, timeout: float = 0.0) -> int:
        batch = self._held or next(self._batches, None)
        if batch is None:
            if not self._checkpoint.done:
                self._checkpoint.done = True
                self._checkpoint.save()
            return 0
        self._held = batch
        ingest(self._queue, self._topics, batch, self._dead, self._metrics)
        self._held = None
        self._checkpoint.line = batch[-1].line
        self._checkpoint.save()
        return len(batch)

    def resync(self) -> None:
        """Nothing to re-read: the held batch is published again at the next step."""

    def close(self) -> None:
        self._dead.close()


def build_stages(
    options: RoleOptions, queue: Queue, settings: Settings, parts: Parts, metrics: Metrics
) -> list[Stage]:
    """The stages of ``options.role`` in pipeline order."""
    if options.role not in ROLES:
        raise ConfigError(
            "--role", "role", f"unknown role {options.role!r}; use {', '.join(ROLES)}"
        )
    if options.role == "ingest" and options.stream is None:
        raise ConfigError("--stream", "stream", "the ingest role needs --stream STREAM.jsonl")
    wanted = set(ROLES[1:4]) if options.role == "all" else {options.role}
    if options.stream is not None and options.role in ("ingest", "all"):
        wanted.add("ingest")
    topics = settings.queue.topics
    stages: list[Stage] = []
    if "ingest" in wanted:
        assert options.stream is not None
        stages.append(
            IngestStage(
                queue, topics, options.stream, settings.state_dir / "ingest",
                settings.output.dead_letters, metrics, options.speed, settings.queue.batch_size,
            )
        )  # fmt: skip
    if "classify" in wanted:
        tagger = parts.tagger()
        stages.append(ClassifyStage(queue, topics, tagger, metrics, CLOCKS[options.clock]))
    if "route" in wanted:
        clock = CLOCKS[options.clock]
        stages.append(
            RouteStage(queue, topics, parts.router, metrics, clock, idle_ticks=clock is wall_clock)
        )
    if "deliver" in wanted:
        stages.append(DeliveryStage(queue, topics, metrics, options.out))
    return stages


def watched(role: str, topics: TopicNames) -> list[tuple[str, str]]:
    """The (topic, consumer group) pairs a role reads, for its lag metric."""
    pairs = {
        "classify": (topics.mentions, CLASSIFIER_GROUP),
        "route": (topics.classified, ROUTER_GROUP),
        "deliver": (topics.decisions, DELIVERY_GROUP),
    }
    return list(pairs.values()) if role == "all" else [pairs[role]] if role in pairs else []


class Worker:
    """Runs stages round after round until stopped, riding out an unreachable queue.

    An unreachable queue is retried with backoff, keeping each stage's unfinished batch; any
    other queue error drops the unfinished batches and re-reads from the committed offsets.
    """

    def __init__(
        self,
        stages: Sequence[Stage],
        settings: QueueSettings,
        stop: Callable[[], bool],
        *,
        until_idle: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        queue_status: Status | None = None,
    ) -> None:
        self._stages = stages
        self._queue_status = queue_status if queue_status is not None else Status(None)
        self._batch = settings.batch_size
        self._timeout = settings.poll_timeout_seconds
        self._stop = stop
        self._until_idle = until_idle
        self._sleep = sleep

    def run(self) -> None:
        delay, idle = 0.0, False
        while not self._stop():
            try:
                busy = self._round(wait=idle)
            except QueueUnavailableError as exc:
                self._queue_status.fail(f"queue unreachable: {exc}")
                delay = min(max(delay * 2, 0.5), _MAX_BACKOFF)
                log.warning("queue unavailable, retrying in %.1f s: %s", delay, exc)
                self._sleep(delay)
                continue
            except QueueError as exc:
                self._queue_status.fail(f"queue error: {exc}")
                delay = min(max(delay * 2, 0.5), _MAX_BACKOFF)
                log.error("queue error, re-reading from committed offsets: %s", exc)
                for stage in self._stages:
                    stage.resync()
                self._sleep(delay)
                continue
            self._queue_status.ok()
            delay, idle = 0.0, not busy
            if self._until_idle and idle:
                return

    def _round(self, *, wait: bool) -> int:
        started = time.monotonic()
        busy = 0
        for i, stage in enumerate(self._stages):
            busy += stage.step(self._batch, self._timeout if wait and i == 0 else 0.0)
        if not busy:
            for stage in self._stages:
                if isinstance(stage, Ticking):
                    stage.tick()
            if wait and (left := self._timeout - (time.monotonic() - started)) > 0:
                self._sleep(left)  # a stage that does not wait (a finished ingest) must not spin
        return busy


def close_all(stages: Iterable[Stage]) -> None:
    for stage in stages:
        stage.close()
