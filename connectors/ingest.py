"""Where every connector delivers: drop duplicates, publish durably, record, report."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from connectors.codec import encode_mention
from connectors.dedup import SeenIds
from connectors.files import StreamWriter
from connectors.observer import ConnectorObserver, NullObserver
from connectors.queues.base import Queue
from routing.models import Mention

__all__ = ["IngestResult", "Ingestor"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: int
    duplicates: int


class Ingestor:
    """Publishes new mentions to the mentions topic; returns once they are durable.

    The check, the publish and the remembering happen under one lock, so a tweet delivered by
    the stream and by catch-up search at the same moment is still published once. Ids are
    remembered only after the publish, so a failed publish loses nothing: the platform's
    retry (or the next catch-up) brings the mention again.
    """

    def __init__(
        self,
        queue: Queue,
        topic: str,
        seen: SeenIds,
        *,
        recorder: StreamWriter | None = None,
        observer: ConnectorObserver | None = None,
    ) -> None:
        self._queue = queue
        self._topic = topic
        self._seen = seen
        self._recorder = recorder
        self._observer = observer if observer is not None else NullObserver()
        self._lock = threading.Lock()

    def ingest(self, connector: str, mentions: Sequence[Mention]) -> IngestResult:
        """Publish the mentions not seen before; raises ``QueueError`` when the queue fails."""
        if not mentions:
            return IngestResult(0, 0)
        with self._lock:
            fresh = _first_of_each(mentions, set(self._seen.unseen([m.id for m in mentions])))
            if fresh:
                records = [(m.conversation_id or m.id, encode_mention(m)) for m in fresh]
                self._queue.publish(self._topic, records)
                self._seen.remember(m.id for m in fresh)
                self._record(fresh)
        duplicates = len(mentions) - len(fresh)
        if fresh:
            self._observer.received(connector, len(fresh))
        if duplicates:
            self._observer.duplicate(connector, duplicates)
        return IngestResult(len(fresh), duplicates)

    def _record(self, mentions: Sequence[Mention]) -> None:
        if self._recorder is None:
            return
        for m in mentions:
            self._recorder.write(m)
        self._recorder.flush()

    def close(self) -> None:
        with self._lock:
            if self._recorder is not None:
                self._recorder.close()
            self._seen.close()


def _first_of_each(mentions: Sequence[Mention], fresh_ids: set[str]) -> list[Mention]:
    """The mentions whose id is in ``fresh_ids``, a repeat within the batch left out."""
    fresh = []
    for m in mentions:
        if m.id in fresh_ids:
            fresh_ids.discard(m.id)
            fresh.append(m)
    return fresh
