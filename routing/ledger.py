"""The time-budget ledger: minutes each employee has spent per local calendar day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from routing.models import Employee
from routing.stamps import Stamps

# Float sums of handling minutes drift by ulps; a tolerance keeps "exactly full" from
# reading as over budget.
EPSILON = 1e-9
_EPSILON = EPSILON


class BudgetExceededError(AssertionError):
    """Spending would take an employee past their daily budget: a routing bug, never expected."""


class BudgetLedger:
    """Minutes used per employee and local day, reset at each employee's own midnight."""

    def __init__(self, employees: Iterable[Employee], stamps: Stamps | None = None) -> None:
        self._employees: dict[str, Employee] = {e.id: e for e in employees}
        self._days: dict[str, dict[date, float]] = {e_id: {} for e_id in self._employees}
        self._budgets = {e_id: e.budget_minutes_per_day for e_id, e in self._employees.items()}
        self._spans: dict[str, tuple[float, float, date]] = {}
        self._at: datetime | None = None
        self._ts = 0.0
        self._stamp = stamps or Stamps()  # shared with whoever asks about the same moments
        self.refunds = 0  # how many times minutes were given back: budget left can grow then
        self.changes = 0  # how many times the books were changed, for answers kept meanwhile
        self._changed: dict[str, int] = {}  # ``changes`` at each employee's latest change

    @property
    def employees(self) -> Mapping[str, Employee]:
        return self._employees

    def local_day(self, employee_id: str, at: datetime) -> date:
        # The hot path asks about the same moment for many people: convert it once, and keep
        # each person's current local day as a span of timestamps.
        if at is not self._at:
            self._at, self._ts = at, self._stamp(at)
        span = self._spans.get(employee_id)
        if span is not None and span[0] <= self._ts < span[1]:
            return span[2]
        local = at.astimezone(self._employees[employee_id].zone)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=1)).replace(hour=0)
        self._spans[employee_id] = (start.timestamp(), end.timestamp(), local.date())
        return local.date()

    def timestamp(self, at: datetime) -> float:
        """``at`` as a POSIX timestamp (remembered: the hot path asks about one moment)."""
        if at is not self._at:
            self._at, self._ts = at, self._stamp(at)
        return self._ts

    def day_span(self, employee_id: str, at: datetime) -> tuple[float, float]:
        """The employee's local day of ``at``, as POSIX timestamps [start, end)."""
        self.local_day(employee_id, at)
        start, end, _ = self._spans[employee_id]
        return start, end

    def used(self, employee_id: str, at: datetime) -> float:
        # The hot path: ``local_day`` inlined for the common case of a known span.
        if at is not self._at:
            self._at, self._ts = at, self._stamp(at)
        span = self._spans.get(employee_id)
        if span is not None and span[0] <= self._ts < span[1]:
            return self._days[employee_id].get(span[2], 0.0)
        return self._days[employee_id].get(self.local_day(employee_id, at), 0.0)

    def remaining(self, employee_id: str, at: datetime) -> float:
        # The hottest path of all: ``used`` inlined for the common case of a known span.
        if at is not self._at:
            self._at, self._ts = at, self._stamp(at)
        span = self._spans.get(employee_id)
        if span is not None and span[0] <= self._ts < span[1]:
            used = self._days[employee_id].get(span[2], 0.0)
        else:
            used = self.used(employee_id, at)
        return max(0.0, self._budgets[employee_id] - used)

    def standing(self, employee_id: str, at: datetime) -> tuple[float, float, float]:
        """``remaining`` at ``at``, and the employee's local day around it as POSIX bounds
        (the answer holds until the day ends or the books change): ``can_spend`` is
        ``left + EPSILON >= minutes``."""
        left = self.remaining(employee_id, at)  # its local day's span is known after this
        span = self._spans[employee_id]
        return left, span[0], span[1]

    def can_spend(self, employee_id: str, at: datetime, minutes: float) -> bool:
        # ``remaining(...) + _EPSILON >= minutes``, inlined for the common case of a known span
        if at is not self._at:
            self._at, self._ts = at, self._stamp(at)
        span = self._spans.get(employee_id)
        if span is not None and span[0] <= self._ts < span[1]:
            used = self._days[employee_id].get(span[2], 0.0)
            return max(0.0, self._budgets[employee_id] - used) + _EPSILON >= minutes
        return self.remaining(employee_id, at) + _EPSILON >= minutes

    def spend(self, employee_id: str, at: datetime, minutes: float) -> None:
        """Book ``minutes`` on the employee's local day of ``at``; refuses to go over budget."""
        if not self.can_spend(employee_id, at, minutes):
            raise BudgetExceededError(
                f"{employee_id}: {minutes} min would exceed the daily budget "
                f"({self.remaining(employee_id, at):.1f} min left)"
            )
        self.adjust(employee_id, at, minutes)

    def adjust(self, employee_id: str, at: datetime, minutes: float) -> None:
        """Correct the books by ``minutes`` (negative gives time back); no budget check."""
        days = self._days[employee_id]
        day = self.local_day(employee_id, at)
        days[day] = max(0.0, days.get(day, 0.0) + minutes)
        if minutes < 0:
            self.refunds += 1
        self.changes += 1
        self._changed[employee_id] = self.changes

    def changed_since(self, employees: Iterable[Employee], changes: int) -> bool:
        """Whether any of the employees' books changed after ``changes`` was as given."""
        changed = self._changed
        for employee in employees:  # noqa: SIM110 (a loop, not ``any``: no generator to run)
            if changed.get(employee.id, 0) > changes:
                return True
        return False

    def days(self, employee_id: str) -> Mapping[date, float]:
        """Minutes used on each local day that saw any work."""
        return self._days[employee_id]

    def forget_before(self, employee_id: str, day: date) -> None:
        """Drop days before ``day`` so a long-running ledger stays small."""
        days = self._days[employee_id]
        for old in [d for d in days if d < day]:
            del days[old]
            self.changes += 1
            self._changed[employee_id] = self.changes
