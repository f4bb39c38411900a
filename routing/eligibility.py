"""Hard constraints: who may take a mention at a given moment, and why the others may not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routing.ledger import BudgetLedger
from routing.models import UNDETERMINED_LANGUAGE, Employee


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


class DutyRoster:
    """Who is at work when, remembered until their hours next change (the hot path asks often).

    Bounds are kept as POSIX timestamps: comparing floats is far cheaper than comparing
    datetimes in IANA zones, and one offer asks about the same ``now`` many times.
    """

    def __init__(self) -> None:
        self._known: dict[str, tuple[float, float, bool, datetime]] = {}
        self._now: datetime | None = None
        self._ts = 0.0

    def _stamp(self, now: datetime) -> float:
        if now is not self._now:
            self._now, self._ts = now, now.timestamp()
        return self._ts

    def on_duty(self, employee: Employee, now: datetime) -> bool:
        ts = self._stamp(now)
        known = self._known.get(employee.id)
        if known is not None and known[0] <= ts < known[1]:
            return known[2]
        local = now.astimezone(employee.zone)
        state = employee.hours.is_open(local)
        until = employee.hours.steady_until(local)
        self._known[employee.id] = (ts, until.timestamp(), state, until)
        return state

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
        return "outside working hours"
    if not ledger.can_spend(employee.id, now, need.minutes):
        left = ledger.remaining(employee.id, now)
        return f"not enough budget left ({left:g} min < {need.minutes:g} min)"
    return None


def ineligibility(
    employee: Employee, need: Need, ledger: BudgetLedger, now: datetime
) -> str | None:
    """The first reason ``employee`` may not take the mention now, or None when eligible."""
    return structural_gap(employee, need) or availability_gap(employee, need, ledger, now)
