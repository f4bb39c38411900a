"""What makes a batch durable downstream: the outbox of steps, queue writes together, decoding."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TypeVar

import orjson

from connectors.queues import Queue, Transactional
from connectors.queues.base import Record
from routing.errors import MalformedMentionError

T = TypeVar("T")


class Outbox:
    """What makes one batch durable downstream, done in order and resumed where it failed."""

    def __init__(self) -> None:
        self._steps: deque[Callable[[], None]] = deque()
        self.size = 0

    def fill(self, size: int, *steps: Callable[[], None]) -> None:
        self._steps.extend(steps)
        self.size = size

    def flush(self) -> int:
        """Run the steps left; returns the batch size once all are done."""
        while self._steps:
            self._steps[0]()
            self._steps.popleft()
        size, self.size = self.size, 0
        return size

    def clear(self) -> None:
        self._steps.clear()
        self.size = 0

    def __bool__(self) -> bool:
        return bool(self._steps)


def together(queue: Queue, *steps: Callable[[], None]) -> tuple[Callable[[], None], ...]:
    """A batch's queue writes as outbox steps: one step in one transaction where the backend
    offers them (one sync to disk instead of one per write), else one step each."""
    if not isinstance(queue, Transactional):
        return steps

    def at_once() -> None:
        with queue.transaction():
            for step in steps:
                step()

    return (at_once,)


def decode_records(
    records: list[Record], decode: Callable[[bytes], T]
) -> tuple[list[tuple[Record, T]], list[tuple[Record, str]]]:
    """Each record with its decoded value, and those that did not decode with the reason."""
    good: list[tuple[Record, T]] = []
    poison: list[tuple[Record, str]] = []
    for record in records:
        try:
            good.append((record, decode(record.value)))
        except MalformedMentionError as exc:
            poison.append((record, exc.reason))
        except ValueError as exc:  # a decision or other pydantic record that does not parse
            poison.append((record, str(exc).splitlines()[0]))
    return good, poison


def dead_letter(record: Record, reason: str) -> bytes:
    return orjson.dumps(
        {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "reason": reason,
            "value": record.value.decode(errors="backslashreplace"),
        }
    )
