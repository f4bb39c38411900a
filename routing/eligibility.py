"""Hard constraints: who may take a mention at a given moment, and why the others may not."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from routing.ledger import BudgetLedger
from routing.models import UNDETERMINED_LANGUAGE, Employee
from routing.stamps import Stamps


@dataclass(frozen=True, slots=True)
class Need:
    """What answering one mention requires of the person who takes it."""

    platform: str
    language: str
    topic: str
    minutes: float


def structural_gap(employee: Employee, need: Need) -> str | None:
    """Why ``employee`` can never take this mention (account, language, skill), or None."""
    if need.platform not in employee.accounts:
        return f"no account on {need.platform}"
    if need.language != UNDETERMINED_LANGUAGE and need.language not in employee.languages:
        return f"does not speak {need.language}"
    if employee.skills.get(need.topic, 0.0) <= 0.0:
        return f"no skill in {need.topic}"
    if need.minutes > employee.budget_minutes_per_day:
        budget = employee.budget_minutes_per_day
        return f"daily budget too small ({budget:g} min < {need.minutes:g} min)"
    return None


class _Among(NamedTuple):
    """Who of a candidate list is at work, valid from ``since`` until ``until`` (POSIX)."""

    candidates: Sequence[Employee]
    since: float
    until: float
    at_work: Sequence[Employee]
    coming: Sequence[tuple[Employee, datetime]]
    stamps: Sequence[float]  # when each of ``coming`` comes to work


class DutyRoster:
    """Who is at work when, remembered until their hours next change (the hot path asks often).

    Bounds are kept as POSIX timestamps: comparing floats is far cheaper than comparing
    datetimes in IANA zones, and one offer asks about the same ``now`` many times.
    """

    def __init__(self, stamps: Stamps | None = None) -> None:
        self._known: dict[str, tuple[float, float, bool, datetime]] = {}
        self._reach: dict[tuple[int, float, int], tuple[Any, float, float, Sequence[Employee]]] = {}
        self._days: dict[str, tuple[float, float, tuple[tuple[float, float], ...], float]] = {}
        self._among: dict[int, _Among] = {}
        self._now: datetime | None = None
        self._ts = 0.0
        self._stamp_of = stamps or Stamps()  # shared with whoever asks about the same moments

    def _stamp(self, now: datetime) -> float:
        if now is not self._now:
            self._now, self._ts = now, self._stamp_of(now)
        return self._ts

    def on_duty(self, employee: Employee, now: datetime) -> bool:
        if now is not self._now:  # ``_stamp``, inlined: the hottest question of all
            self._now, self._ts = now, self._stamp_of(now)
        ts = self._ts
        known = self._known.get(employee.id)
        if known is not None and known[0] <= ts < known[1]:
            return known[2]
        local = now.astimezone(employee.zone)
        state = employee.hours.is_open(local)
        since = min(ts, employee.hours.steady_since(local).timestamp())
        until = employee.hours.steady_until(local)
        self._known[employee.id] = (since, until.timestamp(), state, until)
        return state

    def steady(self, employee: Employee, now: datetime) -> tuple[bool, float, float]:
        """``on_duty``, and POSIX bounds around ``now`` within which it keeps its answer."""
        self.on_duty(employee, now)
        known = self._known[employee.id]
        return known[2], known[0], known[1]

    def among(
        self, candidates: Sequence[Employee], now: datetime
    ) -> tuple[Sequence[Employee], Sequence[tuple[Employee, datetime]]]:
        """Those of ``candidates`` at work at ``now``, and the others with the moment each
        comes to work, both in the candidates' order.

        Kept per candidate list until the first of them starts or ends a shift, so a decision
        looks only at who is at work, not at the whole roster's share of a topic.
        """
        if now is not self._now:  # ``_stamp``, inlined: asked once per decision
            self._now, self._ts = now, self._stamp_of(now)
        entry = self._among.get(id(candidates))
        if (
            entry is not None
            and entry.candidates is candidates
            and entry.since <= self._ts < entry.until
        ):
            return entry.at_work, entry.coming
        entry = self._among_entry(candidates, now)
        return entry.at_work, entry.coming

    def starts(self, candidates: Sequence[Employee], now: datetime) -> Sequence[float]:
        """When each of ``among``'s off-duty ones comes to work, as POSIX timestamps."""
        return self._among_entry(candidates, now).stamps

    def _among_entry(self, candidates: Sequence[Employee], now: datetime) -> _Among:
        ts = self._stamp(now)
        entry = self._among.get(id(candidates))
        if entry is not None and entry.candidates is candidates and entry.since <= ts < entry.until:
            return entry
        at_work = tuple(e for e in candidates if self.on_duty(e, now))
        known = [self._known[e.id] for e in candidates]
        coming = tuple((e, k[3]) for e, k in zip(candidates, known, strict=True) if not k[2])
        stamps = tuple(k[1] for k in known if not k[2])
        since, until = -math.inf, math.inf
        if candidates:
            since, until = max(k[0] for k in known), min(k[1] for k in known)
        entry = _Among(candidates, since, until, at_work, coming, stamps)
        if isinstance(candidates, tuple) and candidates:
            self._among[id(candidates)] = entry
        return entry

    def reachable(
        self, candidates: Sequence[Employee], now: datetime, horizon: float, limit: int
    ) -> Sequence[Employee]:
        """The first ``limit`` of ``candidates`` at work at ``now`` or within ``horizon``
        seconds, in order; kept until one of those looked at starts or ends a shift, or an
        off-duty one's start comes within the horizon."""
        ts = self._stamp(now)
        key = (id(candidates), horizon, limit)
        entry = self._reach.get(key)
        if entry is not None and entry[0] is candidates and entry[1] <= ts < entry[2]:
            return entry[3]
        found: list[Employee] = []
        since, until, deadline = -math.inf, math.inf, ts + horizon
        for employee in candidates[: limit * 4]:  # the best few: a sample, not a census
            known = self._known.get(employee.id)
            if known is None or not known[0] <= ts < known[1]:
                self.on_duty(employee, now)
                known = self._known[employee.id]
            since, until = max(since, known[0]), min(until, known[1])
            if known[2] or known[1] <= deadline:
                found.append(employee)
                if not known[2]:  # off duty: in reach only from ``horizon`` before they start
                    since = max(since, known[1] - horizon)
                if len(found) == limit:
                    break
            else:
                until = min(until, known[1] - horizon)
        reachable = tuple(found)
        if isinstance(candidates, tuple):
            self._reach[key] = (candidates, since, until, reachable)
        return reachable

    def day_progress(self, employee: Employee, now: datetime) -> float:
        """The share of the employee's working time of their local day gone by ``now``
        (budgets are daily: this is how much of it they could have spent so far)."""
        if now is not self._now:  # ``_stamp``, inlined: a ranking asks for many people
            self._now, self._ts = now, self._stamp_of(now)
        ts = self._ts
        day = self._days.get(employee.id)
        if day is None or not day[0] <= ts < day[1]:
            local = now.astimezone(employee.zone)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            spans = tuple(
                (a.timestamp(), b.timestamp()) for a, b in employee.hours.day_spans(local)
            )
            end = (midnight + timedelta(days=1)).replace(hour=0).timestamp()
            total = sum(b - a for a, b in spans)
            day = self._days[employee.id] = (midnight.timestamp(), end, spans, total)
        if not day[3]:
            return 1.0
        spans = day[2]
        if len(spans) == 1:  # the usual day, one shift: the sum below without its generator
            a, b = spans[0]
            return min(max(ts - a, 0.0), b - a) / day[3]
        return sum(min(max(ts - a, 0.0), b - a) for a, b in spans) / day[3]

    def at_work_by(self, employee: Employee, now: datetime, deadline: float) -> bool:
        """Whether the employee is at work at ``now`` or comes to work by ``deadline`` (POSIX)."""
        ts = self._stamp(now)
        known = self._known.get(employee.id)
        if known is None or not known[0] <= ts < known[1]:
            self.on_duty(employee, now)
            known = self._known[employee.id]
        return known[2] or known[1] <= deadline

    def next_at_work(self, employee: Employee, now: datetime) -> datetime:
        """``now`` when at work, else when their hours next begin."""
        if self.on_duty(employee, now):
            return now
        return self._known[employee.id][3]


def availability_gap(
    employee: Employee,
    need: Need,
    ledger: BudgetLedger,
    now: datetime,
    duty: DutyRoster | None = None,
) -> str | None:
    """Why ``employee`` cannot take this mention right now (hours, budget left), or None."""
    at_work = (
        duty.on_duty(employee, now)
        if duty is not None
        else employee.hours.is_open(now.astimezone(employee.zone))
    )
    if not at_work:
        return OFF_DUTY
    if not ledger.can_spend(employee.id, now, need.minutes):
        return budget_gap(ledger.remaining(employee.id, now), need.minutes)
    return None


OFF_DUTY = "outside working hours"


def budget_gap(left: float, minutes: float) -> str:
    return f"not enough budget left ({left:g} min < {minutes:g} min)"


def ineligibility(
    employee: Employee, need: Need, ledger: BudgetLedger, now: datetime
) -> str | None:
    """The first reason ``employee`` may not take the mention now, or None when eligible."""
    return structural_gap(employee, need) or availability_gap(employee, need, ledger, now)
