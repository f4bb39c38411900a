"""The backlog: mentions waiting for someone, ordered by their last chance before the SLA."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from routing.eligibility import Need
from routing.models import Classification, Employee, Mention


@dataclass(slots=True)
class Waiting:
    """A mention nobody has taken yet, and who has declined it."""

    mention: Mention
    classification: Classification
    need: Need
    due_at: datetime
    excluded: frozenset[str] = frozenset()


class Backlog:
    """Waiting mentions by id, and a heap of (last chance, arrival order) to visit them."""

    def __init__(self) -> None:
        self._items: dict[str, Waiting] = {}
        self._heap: list[tuple[datetime, int, str]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, mention_id: str) -> bool:
        return mention_id in self._items

    def values(self) -> Iterator[Waiting]:
        return iter(self._items.values())

    def add(self, waiting: Waiting, last_chance: datetime) -> None:
        self._items[waiting.mention.id] = waiting
        heapq.heappush(self._heap, (last_chance, self._seq, waiting.mention.id))
        self._seq += 1

    def get(self, mention_id: str) -> Waiting | None:
        return self._items.get(mention_id)

    def take(self, mention_id: str) -> Waiting | None:
        """Remove and return a waiting mention (its heap entry goes stale and is skipped)."""
        return self._items.pop(mention_id, None)

    def next_last_chance(self) -> datetime | None:
        while self._heap and self._heap[0][2] not in self._items:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def pop_last_chances(self, now: datetime) -> Iterator[Waiting]:
        """Remove and yield, in order, every mention whose last chance is at or before ``now``."""
        while (at := self.next_last_chance()) is not None and at <= now:
            _, _, mention_id = heapq.heappop(self._heap)
            yield self._items.pop(mention_id)

    def in_order(self) -> list[Waiting]:
        """Every waiting mention, the nearest last chance first."""
        return [self._items[m] for _, _, m in sorted(self._heap) if m in self._items]

    def compact(self) -> None:
        self._heap = [item for item in self._heap if item[2] in self._items]
        heapq.heapify(self._heap)


def next_capacity_event(
    roster: Sequence[Employee], now: datetime, wind_down_minutes: int | None
) -> tuple[datetime, frozenset[str]]:
    """The next moment capacity changes, and who winds down their shift then.

    Capacity changes when someone's hours begin, when a budget day resets at someone's local
    midnight, and (with ``wind_down_minutes``) that long before a shift ends, when budget left
    would otherwise go unused. A pure function of the roster and the clock, so a router rebuilt
    from its log visits exactly the moments the original did.
    """
    events: list[tuple[datetime, str | None]] = []
    for employee in roster:
        local = now.astimezone(employee.zone)
        tomorrow = local + timedelta(days=1)
        midnight = tomorrow.replace(hour=0, minute=0, second=0, microsecond=0)
        events.append((min(employee.hours.next_start(local), midnight), None))
        if wind_down_minutes is not None:
            events.append((employee.hours.next_wind_down(local, wind_down_minutes), employee.id))
    first = min(at for at, _ in events)
    return first, frozenset(e for at, e in events if at == first and e is not None)
