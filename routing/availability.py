"""Who can take a kind of mention at one moment: hours and budget, asked per candidate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from routing.eligibility import DutyRoster, Need
from routing.ledger import BudgetLedger
from routing.models import Employee


class Availability(NamedTuple):
    """Whether an employee can take a given need at a given moment (hours and budget).

    A named tuple: immutable, and cheaper to build than a frozen dataclass (one per offer)."""

    ledger: BudgetLedger
    need: Need
    now: datetime
    duty: DutyRoster

    def __call__(self, employee: Employee) -> bool:
        # ``availability_gap(...) is None``, without building the reason
        return self.duty.on_duty(employee, self.now) and self.ledger.can_spend(
            employee.id, self.now, self.need.minutes
        )

    def next_at_work(self, employee: Employee) -> datetime:
        return self.duty.next_at_work(employee, self.now)

    def day_progress(self, employee: Employee) -> float:
        return self.duty.day_progress(employee, self.now)

    def at_work(
        self, candidates: Sequence[Employee]
    ) -> tuple[Sequence[Employee], Sequence[tuple[Employee, datetime]]]:
        return self.duty.among(candidates, self.now)

    def starts(self, candidates: Sequence[Employee]) -> Sequence[float]:
        return self.duty.starts(candidates, self.now)
