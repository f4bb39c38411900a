"""The backlog: mentions waiting for someone, ordered by their last chance before the SLA."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from routing.eligibility import Need
from routing.hours import WorkingHours
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
    """Waiting mentions by id, and a heap of (last chance, arrival order) to visit them.

    The heap orders by the last chance as a POSIX timestamp: the same order as the datetimes
    (distinct microseconds stay distinct floats), but comparing two datetimes whose offsets
    are separate tzinfo objects (as parsed mentions carry) asks both for their offset, which
    costs as much as the rest of a heap operation. The datetime itself rides along unchanged.
    """

    def __init__(self) -> None:
        self._items: dict[str, Waiting] = {}
        self._heap: list[tuple[float, int, str, datetime]] = []
        self._lasts: dict[str, float] = {}  # each waiting mention's last chance (POSIX)
        self._seq = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, mention_id: str) -> bool:
        return mention_id in self._items

    def values(self) -> Iterator[Waiting]:
        return iter(self._items.values())

    def add(self, waiting: Waiting, last_chance: datetime, at: float | None = None) -> None:
        """Queue ``waiting`` by its last chance (``at``: the same moment as a POSIX timestamp,
        when the caller has it)."""
        mention_id = waiting.mention.id
        self._items[mention_id] = waiting
        if at is None:
            at = last_chance.timestamp()
        self._lasts[mention_id] = at
        heapq.heappush(self._heap, (at, self._seq, mention_id, last_chance))
        self._seq += 1

    def get(self, mention_id: str) -> Waiting | None:
        return self._items.get(mention_id)

    def last_chance_at(self, mention_id: str) -> float:
        """A waiting mention's last chance, as the POSIX timestamp it was queued with."""
        return self._lasts[mention_id]

    def take(self, mention_id: str) -> Waiting | None:
        """Remove and return a waiting mention (its heap entry goes stale and is skipped)."""
        self._lasts.pop(mention_id, None)
        return self._items.pop(mention_id, None)

    def next_last_chance(self) -> datetime | None:
        entry = self._head()
        return entry[3] if entry is not None else None

    def next_last_chance_at(self) -> float | None:
        """``next_last_chance`` as a POSIX timestamp."""
        heap = self._heap
        if heap and heap[0][2] in self._items:  # ``_head`` without a stale entry on top
            return heap[0][0]
        entry = self._head()
        return entry[0] if entry is not None else None

    def pop_last_chances(self, now: datetime) -> Iterator[Waiting]:
        """Remove and yield, in order, every mention whose last chance is at or before ``now``."""
        ts = now.timestamp()
        while (entry := self._head()) is not None and entry[0] <= ts:
            heapq.heappop(self._heap)
            del self._lasts[entry[2]]
            yield self._items.pop(entry[2])

    def in_order(self) -> list[Waiting]:
        """Every waiting mention, the nearest last chance first."""
        items = self._items
        return [items[entry[2]] for entry in sorted(self._heap) if entry[2] in items]

    def compact(self) -> None:
        self._heap = [item for item in self._heap if item[2] in self._items]
        heapq.heapify(self._heap)

    def _head(self) -> tuple[float, int, str, datetime] | None:
        """The live entry with the nearest last chance (stale ones on top are dropped)."""
        heap, items = self._heap, self._items
        while heap and heap[0][2] not in items:
            heapq.heappop(heap)
        return heap[0] if heap else None


def next_capacity_event(
    roster: Sequence[Employee], now: datetime, wind_down_minutes: int | None
) -> tuple[datetime, frozenset[str]]:
    """The next moment capacity changes, and who winds down their shift then.

    Capacity changes when someone's hours begin, when a budget day resets at someone's local
    midnight, and (with ``wind_down_minutes``) that long before a shift ends, when budget left
    would otherwise go unused. A pure function of the roster and the clock, so a router rebuilt
    from its log visits exactly the moments the original did.
    """
    # Everyone with the same zone and hours has the same events: work each pair out once.
    found: dict[tuple[ZoneInfo, WorkingHours], tuple[datetime, datetime | None]] = {}
    events: list[tuple[datetime, str | None]] = []
    for employee in roster:
        zone = employee.zone
        key = (zone, employee.hours)
        known = found.get(key)
        if known is None:
            known = found[key] = _events_of(employee.hours, now.astimezone(zone), wind_down_minutes)
        events.append((known[0], None))
        if known[1] is not None:
            events.append((known[1], employee.id))
    first = min(at for at, _ in events)
    return first, frozenset(e for at, e in events if at == first and e is not None)


def _events_of(
    hours: WorkingHours, local: datetime, wind_down_minutes: int | None
) -> tuple[datetime, datetime | None]:
    """The next start of hours or local midnight, whichever comes first, and the next wind-down."""
    tomorrow = local + timedelta(days=1)
    midnight = tomorrow.replace(hour=0, minute=0, second=0, microsecond=0)
    start = min(hours.next_start(local), midnight)
    if wind_down_minutes is None:
        return start, None
    return start, hours.next_wind_down(local, wind_down_minutes)
