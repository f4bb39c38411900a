"""Routing policies: whom to give a mention among those who could take it right now.

Every policy sees the same candidates (structurally eligible, most proficient first) and may
only pick one who is available (inside working hours, budget left), so no policy can break a
hard constraint. They differ in the choice:

- ``greedy``: the highest value (proficiency x urgency weight), no balance.
- ``balance``: value discounted by budget already used, ``1 - e^(f-1)`` (Mehta et al. 2007).
- ``round-robin``: the next available person in a fixed rotation (Chatwoot's default).
- ``least-loaded``: the available person with the largest share of budget left ("most available").
- ``adaptive`` (the default): follows a plan over the rest of the day, re-solved every epoch
  over the backlog and the traffic expected ahead against remaining budgets (``routing.plan``);
  a mention that cannot wait for the next plan goes to the best bid, value minus the plan's
  price of the person's time (Devanur and Hayes 2009).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from routing.adaptive import AdaptivePolicy
from routing.ledger import BudgetLedger
from routing.models import Employee
from routing.offers import Available, Offer, Policy, Stateless
from routing.plan import DayPlan
from routing.shortlist import AtWork, Shortlist

__all__ = [
    "POLICIES", "AdaptivePolicy", "Available", "BalancePolicy", "GreedyPolicy",
    "LeastLoadedPolicy", "Offer", "Policy", "RoundRobinPolicy", "make_policy",
]  # fmt: skip

_BALANCE_CEILING = 1.0 - math.exp(-1.0)  # the discount of someone with an untouched budget


def _share_left(ledger: BudgetLedger, employee: Employee, now: datetime) -> float:
    return ledger.remaining(employee.id, now) / employee.budget_minutes_per_day


class GreedyPolicy(Stateless):
    """Highest proficiency among the available; ties go to the larger share of budget left."""

    name = "greedy"

    def __init__(self) -> None:
        self._shortlists = AtWork()

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]:
        topic, minutes, now = offer.need.topic, offer.need.minutes, offer.now
        shortlist = self._shortlist(offer, candidates, available)
        if shortlist is None:  # a list built for this offer (someone declined it)
            return _most_proficient(topic, candidates, ledger, now, available), "highest value"
        best: Employee | None = None
        best_share, spent = -1.0, []
        remaining = ledger.remaining
        for employee in shortlist.live(ledger, now):  # all at work: only budgets to check
            if best is not None and employee.skills[topic] < best.skills[topic]:
                break
            left = remaining(employee.id, now)
            if left + 1e-9 < minutes:  # as ``ledger.can_spend``
                spent.append(employee)
                continue
            share = left / employee.budget_minutes_per_day
            if share > best_share:
                best, best_share = employee, share
                if share >= 1.0:  # an untouched budget: no one of equal value can beat it
                    break
        shortlist.drop(spent, ledger, now)
        return best, "highest value"

    def _shortlist(
        self, offer: Offer, candidates: Sequence[Employee], available: Available
    ) -> Shortlist[Employee] | None:
        """Those of ``candidates`` at work, less who is out of budget (candidate lists that
        are indexed, not built for one offer)."""
        if not isinstance(candidates, tuple):
            return None
        return self._shortlists.of(available.at_work(candidates)[0], offer.need.minutes)


def _most_proficient(
    topic: str,
    candidates: Sequence[Employee],
    ledger: BudgetLedger,
    now: datetime,
    available: Available,
) -> Employee | None:
    """The greedy choice, asking each candidate in turn."""
    best: Employee | None = None
    best_share = -1.0
    for employee in candidates:
        if best is not None and employee.skills[topic] < best.skills[topic]:
            break
        if not available(employee):
            continue
        share = _share_left(ledger, employee, now)
        if share > best_share:
            best, best_share = employee, share
    return best


class BalancePolicy(Stateless):
    """Value discounted by ``1 - e^(f-1)``, f the fraction of today's budget already used."""

    name = "balance"

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]:
        topic = offer.need.topic
        best: Employee | None = None
        best_score = 0.0
        for employee in candidates:
            if employee.skills[topic] * _BALANCE_CEILING <= best_score:
                break  # nobody further down can beat it, even with an untouched budget
            if not available(employee):
                continue
            used = 1.0 - _share_left(ledger, employee, offer.now)
            score = employee.skills[topic] * (1.0 - math.exp(used - 1.0))
            if score > best_score:
                best, best_score = employee, score
        return best, "highest budget-discounted value"


class LeastLoadedPolicy(Stateless):
    """The available candidate with the largest share of today's budget left."""

    name = "least-loaded"

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]:
        free = [e for e in candidates if available(e)]
        if not free:
            return None, "most budget left"
        best = min(free, key=lambda e: (-_share_left(ledger, e, offer.now), e.id))
        return best, "most budget left"


class RoundRobinPolicy:
    """The next available candidate after the last one assigned, in a fixed rotation."""

    name = "round-robin"

    def __init__(self, roster: Sequence[Employee]) -> None:
        self._order = {e.id: i for i, e in enumerate(sorted(roster, key=lambda e: e.id))}
        self._last = -1

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]:
        size = len(self._order)
        ranked = sorted(candidates, key=lambda e: (self._order[e.id] - self._last - 1) % size)
        for employee in ranked:
            if available(employee):
                return employee, "next in rotation"
        return None, "next in rotation"

    def assigned(self, employee: Employee, offer: Offer) -> None:
        self._last = self._order[employee.id]


POLICIES = ("adaptive", "greedy", "balance", "round-robin", "least-loaded")


def make_policy(name: str, roster: Sequence[Employee], plan: DayPlan) -> Policy:
    if name == "adaptive":
        return AdaptivePolicy(plan)
    if name == "greedy":
        return GreedyPolicy()
    if name == "balance":
        return BalancePolicy()
    if name == "round-robin":
        return RoundRobinPolicy(roster)
    if name == "least-loaded":
        return LeastLoadedPolicy()
    raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(POLICIES)}")
