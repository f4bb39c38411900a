"""The day plan's linear program: groups of mentions against budgets per person and local day."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

import numpy as np

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


@dataclass(frozen=True, slots=True)
class Items:
    """Items column by column (item ``i`` is entry ``i`` of each): what a plan builds per
    epoch, without an object per item."""

    kinds: Sequence[tuple[Need, Urgency]]  # what each kind number stands for
    kind: np.ndarray  # each item's kind number
    mentions: np.ndarray
    start: np.ndarray
    end: np.ndarray
    ids: Sequence[tuple[str, ...]]  # waiting ones' ids (as ``Item.ids``); () if expected
    excluded: Mapping[int, frozenset[str]]  # only the items with someone excluded

    @classmethod
    def of(cls, items: Sequence[Item]) -> Items:
        numbers: dict[tuple[Need, Urgency], int] = {}
        kind = [numbers.setdefault((item.need, item.urgency), len(numbers)) for item in items]
        return cls(
            tuple(numbers), np.array(kind, dtype=np.int64),
            np.array([item.mentions for item in items], dtype=float),
            np.array([item.start for item in items], dtype=float),
            np.array([item.end for item in items], dtype=float), [item.ids for item in items],
            {i: item.excluded for i, item in enumerate(items) if item.excluded},
        )  # fmt: skip

    @classmethod
    def empty(cls, kinds: Sequence[tuple[Need, Urgency]]) -> Items:
        none = np.empty(0)
        return cls(kinds, np.empty(0, dtype=np.int64), none, none, none, (), {})

    def __len__(self) -> int:
        return len(self.kind)


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

    def spans(
        self, employee: Employee, midnight: datetime, until: float
    ) -> Iterator[tuple[float, float, date, datetime]]:
        """Every working span (start, end, local day, start as a datetime) of the days from
        ``midnight`` on that begin before ``until``."""
        while True:
            begins, day_spans, following = self.day(employee, midnight)
            if begins >= until:
                return
            for a, b, at in day_spans:
                yield a, b, midnight.date(), at
            midnight = following


_Day = tuple[float, tuple[tuple[float, float, datetime], ...], datetime]


class Shifts:
    """Each person's working spans from ``now`` to a day past the horizon, built on demand."""

    def __init__(self, now: datetime, horizon: float, book: DayBook | None = None) -> None:
        self.now = now
        self.ts = now.timestamp()
        self.horizon_end = self.ts + horizon
        self.until = self.horizon_end + 86_400.0  # the longest window a mention may have
        self._spans: dict[tuple[WorkingHours, str], tuple[Span, ...]] = {}
        self.book = book if book is not None else DayBook()

    def spans(self, employee: Employee) -> tuple[Span, ...]:
        key = (employee.hours, employee.timezone)  # people with the same hours share spans
        found = self._spans.get(key)
        if found is None:
            found = self._spans[key] = tuple(self._build(employee))
        return found

    def midnight(self, employee: Employee) -> datetime:
        """The local midnight that begins the employee's day of ``now``."""
        local = self.now.astimezone(employee.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def _build(self, employee: Employee) -> list[Span]:
        spans: list[Span] = []
        ts, until, now = self.ts, self.until, self.now
        for a, b, day, at in self.book.spans(employee, self.midnight(employee), until):
            start = max(a, ts)
            if start < b and start < until:
                spans.append((start, b, day, max(at, now)))
        return spans

    def capacity(self, employee: Employee, day: date, ledger: BudgetLedger) -> float:
        """The minutes of ``day`` the plan may use: what is left of that day's budget, pro rata
        for the share of its remaining working time inside the horizon."""
        mine = [s for s in self.spans(employee) if s[2] == day]
        total = sum(b - a for a, b, _, _ in mine)
        inside = sum(max(0.0, min(b, self.horizon_end) - a) for a, b, _, _ in mine)
        left = ledger.remaining(employee.id, mine[0][3])
        return left * (inside / total if total else 0.0)
