"""The day plan's linear program: groups of mentions against budgets per person and local day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from routing.eligibility import Need
from routing.hours import WorkingHours
from routing.ledger import BudgetLedger
from routing.models import Employee, Urgency

Span = tuple[float, float, date, datetime]  # start, end (POSIX), local day, start as a datetime


class Item(NamedTuple):
    """``mentions`` of one kind (a count), any of which may be taken within [start, end] (POSIX);
    ``ids`` names waiting ones (earliest last chance first), empty for expected traffic.

    A named tuple: a plan builds hundreds per epoch."""

    mentions: float
    need: Need
    urgency: Urgency
    start: float
    end: float
    ids: tuple[str, ...]
    excluded: frozenset[str]


class DayBook:
    """Each set of working hours' spans per local day, as POSIX bounds, built once.

    Hours do not change, so a plan re-solved every epoch reads a person's days from here
    instead of converting the same local times again; people who share hours and a timezone
    share entries.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._days: dict[tuple[WorkingHours, str, date, int], _Day] = {}
        self._limit = limit  # past it the book starts over: a long-running worker stays small

    def day(self, employee: Employee, midnight: datetime) -> _Day:
        """``midnight``'s day (a local midnight in the employee's zone): its start (POSIX),
        its working spans (start, end as POSIX, start as a datetime) and the next midnight."""
        key = (employee.hours, employee.timezone, midnight.date(), midnight.fold)
        found = self._days.get(key)
        if found is None:
            if len(self._days) >= self._limit:
                self._days.clear()
            spans = tuple(
                (a.timestamp(), b.timestamp(), a) for a, b in employee.hours.day_spans(midnight)
            )
            following = (midnight + timedelta(days=1, hours=2)).replace(hour=0)
            found = self._days[key] = (midnight.timestamp(), spans, following)
        return found


_Day = tuple[float, tuple[tuple[float, float, datetime], ...], datetime]


class Shifts:
    """Each person's working spans from ``now`` to a day past the horizon, built on demand."""

    def __init__(self, now: datetime, horizon: float, book: DayBook | None = None) -> None:
        self.now = now
        self.ts = now.timestamp()
        self.horizon_end = self.ts + horizon
        self._until = self.horizon_end + 86_400.0  # the longest window a mention may have
        self._spans: dict[tuple[WorkingHours, str], tuple[Span, ...]] = {}
        self._book = book if book is not None else DayBook()

    def spans(self, employee: Employee) -> tuple[Span, ...]:
        key = (employee.hours, employee.timezone)  # people with the same hours share spans
        found = self._spans.get(key)
        if found is None:
            found = self._spans[key] = tuple(self._build(employee))
        return found

    def _build(self, employee: Employee) -> list[Span]:
        spans: list[Span] = []
        local = self.now.astimezone(employee.zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        ts, until, now = self.ts, self._until, self.now
        while True:
            begins, day_spans, following = self._book.day(employee, midnight)
            if begins >= until:
                return spans
            for a, b, at in day_spans:
                start = max(a, ts)
                if start < b and start < until:
                    spans.append((start, b, midnight.date(), max(at, now)))
            midnight = following

    def capacity(self, employee: Employee, day: date, ledger: BudgetLedger) -> float:
        """The minutes of ``day`` the plan may use: what is left of that day's budget, pro rata
        for the share of its remaining working time inside the horizon."""
        mine = [s for s in self.spans(employee) if s[2] == day]
        total = sum(b - a for a, b, _, _ in mine)
        inside = sum(max(0.0, min(b, self.horizon_end) - a) for a, b, _, _ in mine)
        left = ledger.remaining(employee.id, mine[0][3])
        return left * (inside / total if total else 0.0)
