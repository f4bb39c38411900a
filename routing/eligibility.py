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


def availability_gap(
    employee: Employee, need: Need, ledger: BudgetLedger, now: datetime
) -> str | None:
    """Why ``employee`` cannot take this mention right now (hours, budget left), or None."""
    if not employee.hours.is_open(now.astimezone(employee.zone)):
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
