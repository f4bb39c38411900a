"""Routing policies: whom to give a mention among those who could take it right now.

Every policy sees the same candidates (structurally eligible, most proficient first) and may
only pick one who is available (inside working hours, budget left), so no policy can break a
hard constraint. They differ in the choice:

- ``greedy``: the highest value (proficiency x urgency weight), no balance.
- ``balance``: value discounted by budget already used, ``1 - e^(f-1)`` (Mehta et al. 2007).
- ``round-robin``: the next available person in a fixed rotation (Chatwoot's default).
- ``least-loaded``: the available person with the largest share of budget left ("most available").
- ``adaptive`` (the default): value minus the price of the person's time, with prices learned
  from recent traffic (Devanur and Hayes 2009); a mention worth less than the time it would take
  now waits while its SLA leaves slack, and takes its last chance before the deadline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from routing.eligibility import Need
from routing.ledger import BudgetLedger
from routing.models import Employee
from routing.prices import PriceBook

_BALANCE_CEILING = 1.0 - math.exp(-1.0)  # the discount of someone with an untouched budget


@dataclass(frozen=True, slots=True)
class Offer:
    """One mention on offer at ``now``, with what it is worth per unit of proficiency."""

    need: Need
    weight: float
    now: datetime
    last_chance: bool = False
    deadline: datetime | None = None  # the last moment it can still wait for someone better
    flexible: bool = False  # it may wait past today's shifts (a long SLA)


class Available(Protocol):
    """Whether an employee can take the offer now, and when an off-duty one comes to work."""

    def __call__(self, employee: Employee) -> bool: ...

    def next_at_work(self, employee: Employee) -> datetime: ...


class Policy(Protocol):
    """Chooses among candidates; returns the choice (or None) and a note for the audit."""

    name: str

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]: ...

    def assigned(self, employee: Employee, offer: Offer) -> None:
        """Told of every assignment (for policies that keep state)."""
        ...


class _Stateless:
    """A policy whose choice depends only on the offer, the ledger and the candidates."""

    def assigned(self, employee: Employee, offer: Offer) -> None:
        return None


def _share_left(ledger: BudgetLedger, employee: Employee, now: datetime) -> float:
    return ledger.remaining(employee.id, now) / employee.budget_minutes_per_day


class GreedyPolicy(_Stateless):
    """Highest proficiency among the available; ties go to the larger share of budget left."""

    name = "greedy"

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]:
        topic = offer.need.topic
        best: Employee | None = None
        best_share = -1.0
        for employee in candidates:
            if best is not None and employee.skills[topic] < best.skills[topic]:
                break
            if not available(employee):
                continue
            share = _share_left(ledger, employee, offer.now)
            if share > best_share:
                best, best_share = employee, share
        return best, "highest value"


class BalancePolicy(_Stateless):
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


class LeastLoadedPolicy(_Stateless):
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


class AdaptivePolicy(_Stateless):
    """Value minus the learned price of the employee's time; low-value work waits for slack.

    ``value = proficiency x weight``; the bid of employee e is ``value - price_e x minutes``.
    The best bid wins if it is not negative. Otherwise the mention waits: it is offered again
    when capacity frees up and when a shift winds down (budget that would go unused), and if
    no one takes it by its last chance it is escalated: the learned price says someone's time
    is worth more on other mentions. It also waits, while its SLA allows, for a more
    proficient colleague who comes to work before its last chance.
    """

    name = "adaptive"

    def __init__(self, prices: PriceBook) -> None:
        self.prices = prices

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]:
        topic, minutes = offer.need.topic, offer.need.minutes
        best: Employee | None = None
        best_key = (-math.inf, -1.0)
        later: tuple[float, Employee, datetime] | None = None
        prices = self.prices.table(offer.now)
        for employee in candidates:
            value = employee.skills[topic] * offer.weight
            if value < max(best_key[0], later[0] if later else -math.inf):
                break  # prices are never negative: nobody further down can bid higher
            price = prices.get(employee.id, 0.0) * minutes
            if available(employee):
                key = (round(value - price, 9), _share_left(ledger, employee, offer.now))
                if key > best_key:  # ties: the larger share of budget left
                    best, best_key = employee, key
            elif later is None and not offer.last_chance and offer.deadline is not None:
                starts = _starts_in_time(employee, offer, ledger, available)
                if starts is not None:
                    later = (value - price, employee, starts)
        best_bid = best_key[0]
        if later is not None and later[0] > best_bid + 1e-9:
            return None, f"waiting for {later[1].id}, at work from {later[2].isoformat()}"
        if best is None:
            return None, "nobody available"
        if best_bid < 0:
            return None, f"deferred: worth {best_bid:+.2f} after the price of time"
        if offer.flexible and not offer.last_chance:
            return None, "deferred: its SLA leaves time to use budget that would go unused"
        return best, f"best bid {best_bid:+.2f} after the price of time"


def _starts_in_time(
    employee: Employee, offer: Offer, ledger: BudgetLedger, available: Available
) -> datetime | None:
    """When an off-duty employee comes to work, if before the offer's deadline with budget."""
    assert offer.deadline is not None
    opens = available.next_at_work(employee)
    if opens >= offer.deadline or not ledger.can_spend(employee.id, opens, offer.need.minutes):
        return None
    return opens


POLICIES = ("adaptive", "greedy", "balance", "round-robin", "least-loaded")


def make_policy(name: str, roster: Sequence[Employee], prices: PriceBook) -> Policy:
    if name == "adaptive":
        return AdaptivePolicy(prices)
    if name == "greedy":
        return GreedyPolicy()
    if name == "balance":
        return BalancePolicy()
    if name == "round-robin":
        return RoundRobinPolicy(roster)
    if name == "least-loaded":
        return LeastLoadedPolicy()
    raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(POLICIES)}")
