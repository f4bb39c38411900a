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
from typing import Any, NamedTuple, Protocol

from routing.eligibility import Need
from routing.ledger import BudgetLedger
from routing.models import Employee
from routing.plan import DayPlan
from routing.shortlist import AtWork, Shortlist

_BALANCE_CEILING = 1.0 - math.exp(-1.0)  # the discount of someone with an untouched budget


class Offer(NamedTuple):
    """One mention on offer at ``now``, with what it is worth per unit of proficiency.

    A named tuple: immutable like a frozen dataclass, and built in a third of the time (one
    per decision)."""

    need: Need
    weight: float
    now: datetime
    last_chance: bool = False
    deadline: datetime | None = None  # the last moment it can still wait for someone better
    deadline_at: float | None = None  # ``deadline`` as a POSIX timestamp, when known


class Available(Protocol):
    """Whether an employee can take the offer now, and when an off-duty one comes to work."""

    def __call__(self, employee: Employee) -> bool: ...

    def next_at_work(self, employee: Employee) -> datetime: ...

    def day_progress(self, employee: Employee) -> float:
        """The share of the employee's working time today already gone."""
        ...

    def at_work(
        self, candidates: Sequence[Employee]
    ) -> tuple[Sequence[Employee], Sequence[tuple[Employee, datetime]]]:
        """Those of ``candidates`` inside working hours now (budget not checked), and the
        others with the moment each comes to work, both in the candidates' order."""
        ...

    def starts(self, candidates: Sequence[Employee]) -> Sequence[float]:
        """The moments of ``at_work``'s second part, as POSIX timestamps (cheap to compare)."""
        ...


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
    """Follows the day plan: a mention that can wait for the next epoch waits for it; one that
    cannot goes to the best bid, value minus the plan's price of the employee's time.

    ``value = proficiency x weight``; the bid of employee e is ``value - price_e x minutes``,
    less ``pacing x ahead x value`` when e has spent a larger share of today's budget than of
    today's working hours (``ahead`` is the difference). The best bid wins if it is not
    negative. A mention not taken waits: the next epoch's plan (``routing.plan``) assigns the
    backlog together with the traffic expected ahead, and a mention nobody takes by its last
    chance is escalated: the plan's price says someone's time is worth more on other mentions.
    It also waits, while its SLA allows, for a more proficient colleague who comes to work
    before its last chance.
    """

    name = "adaptive"

    def __init__(self, plan: DayPlan, pacing: float = 0.0) -> None:
        self.plan = plan
        self.pacing = pacing  # off by default: the plan paces budgets over the day
        # Bids (best first) of those at work, per kind of offer: they change only when
        # someone's shift starts or ends or the plan is solved again.
        self._ranked: dict[tuple[int, float, float], tuple[Any, Any, Shortlist[_Bid]]] = {}
        self._open_at: dict[tuple[str, float], bool] = {}  # who is at work at a plan
        self._budgeted = AtWork()  # those at work, less who has spent their day
        self._held: tuple[datetime, str] = (datetime.min, "")

    def _held_note(self, planned: datetime) -> str:
        if self._held[0] != planned:
            self._held = (planned, f"held for the plan of {planned.isoformat()}")
        return self._held[1]

    def _still_there(
        self,
        at_work: Sequence[Employee],
        offer: Offer,
        ledger: BudgetLedger,
        planned: tuple[datetime, float],
        kept: bool,
    ) -> bool:
        """Whether the most proficient of those at work with budget now (if any) is still at
        work at ``planned`` (the moment, and its POSIX timestamp): if they leave before the
        next plan, the mention is decided now. ``kept``: ``at_work`` is a list the duty
        roster keeps, so those found without budget are left out of the next scans."""
        can_spend, now, minutes = ledger.can_spend, offer.now, offer.need.minutes
        shortlist = self._budgeted.of(at_work, minutes) if kept else None
        spent: list[Employee] = []
        first = None
        for employee in at_work if shortlist is None else shortlist.live(ledger, now):
            # at work: ``available`` would only ask the budget
            if can_spend(employee.id, now, minutes):
                first = employee
                break
            spent.append(employee)
        if shortlist is not None and spent:
            shortlist.drop(spent, ledger, now)
        if first is None:
            return True
        key = (first.id, planned[1])
        known = self._open_at.get(key)
        if known is None:
            if len(self._open_at) > 10_000:
                self._open_at.clear()
            known = self._open_at[key] = first.hours.is_open(planned[0].astimezone(first.zone))
        return known

    def _ranking(
        self, offer: Offer, at_work: Sequence[Employee], prices: dict[str, float]
    ) -> Shortlist[_Bid]:
        key = (id(at_work), offer.weight, offer.need.minutes)
        known = self._ranked.get(key)
        if known is None or known[0] is not at_work or known[1] is not prices:
            if len(self._ranked) > 10_000:
                self._ranked.clear()
            ranked = Shortlist(_rank(offer, at_work, prices), _bidder)
            known = self._ranked[key] = (at_work, prices, ranked)
        return known[2]

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]:
        at_work, coming = available.at_work(candidates)
        plan, now = self.plan, offer.now
        deadline: float | None = None
        if not offer.last_chance and offer.deadline is not None:
            deadline = offer.deadline_at
            if deadline is None:
                deadline = offer.deadline.timestamp()
            if plan.forecasting(now):
                planned = plan.next_epoch_at(now)
                kept = isinstance(candidates, tuple)
                if deadline >= planned[1] and self._still_there(
                    at_work, offer, ledger, planned, kept
                ):
                    return None, self._held_note(planned[0])
        topic, minutes, weight = offer.need.topic, offer.need.minutes, offer.weight
        prices = self.plan.table(offer.now)
        ranked = self._ranking(offer, at_work, prices)
        spent: list[Employee] = []
        best, best_bid = _best_bid(
            offer, ranked.live(ledger, offer.now), ledger, available, self.pacing, spent
        )
        if spent:
            ranked.drop(spent, ledger, offer.now)
        later: tuple[float, Employee, datetime] | None = None
        if deadline is not None:
            # The most proficient colleague who comes to work in time, if they would bid
            # higher: only those worth more than the best bid now can matter.
            for (employee, starts), at in zip(coming, available.starts(candidates), strict=True):
                value = employee.skills[topic] * weight
                if value < best_bid:
                    break
                if at < deadline and ledger.can_spend(employee.id, starts, minutes):
                    later = (value - prices.get(employee.id, 0.0) * minutes, employee, starts)
                    break
        if later is not None and later[0] > best_bid + 1e-9:
            return None, f"waiting for {later[1].id}, at work from {later[2].isoformat()}"
        if best is None:
            return None, "nobody available"
        if best_bid < 0:
            return None, f"deferred: worth {best_bid:+.2f} after the price of time"
        return best, f"best bid {best_bid:+.2f} after the price of time"


_Bid = tuple[float, int, Employee]  # (minus the bid, rank by proficiency, employee)


def _bidder(bid: _Bid) -> Employee:
    return bid[2]


def _rank(offer: Offer, at_work: Sequence[Employee], prices: dict[str, float]) -> list[_Bid]:
    topic, minutes, weight = offer.need.topic, offer.need.minutes, offer.weight
    return sorted(
        (round(e.skills[topic] * weight - prices.get(e.id, 0.0) * minutes, 9) * -1.0, i, e)
        for i, e in enumerate(at_work)
    )


def _best_bid(
    offer: Offer,
    ranked: Sequence[_Bid],
    ledger: BudgetLedger,
    available: Available,
    pacing: float,
    spent: list[Employee] | None = None,
) -> tuple[Employee | None, float]:
    """The highest bid among those with budget; ties go to the larger share of budget left.
    Those found without budget are added to ``spent``.

    Someone who has spent more of today's budget than of today's working time is ahead of
    pace: their bid loses ``pacing x ahead x value``, so their last minutes are kept for
    what only they can do (pacing only lowers bids: the ranking stays an upper bound).
    """
    minutes, now, topic = offer.need.minutes, offer.now, offer.need.topic
    value_of = offer.weight
    best: Employee | None = None
    best_bid, best_share = -math.inf, -1.0
    remaining, progress = ledger.remaining, available.day_progress
    for minus_bid, _, employee in ranked:
        bid = -minus_bid
        if bid < best_bid or (bid == best_bid and best_share >= 1.0):
            # sorted by the bid before pacing: nobody further down can bid higher, nor tie
            # with more than an untouched budget's share
            break
        left = remaining(employee.id, now)
        if left + 1e-9 < minutes:  # as ``ledger.can_spend``
            if spent is not None:
                spent.append(employee)
            continue
        share = left / employee.budget_minutes_per_day
        # An untouched budget (share 1) is never ahead of pace: no need to ask the progress.
        if pacing and share < 1.0 and (ahead := 1.0 - share - progress(employee)) > 0:
            value = employee.skills[topic] * value_of
            bid = round(bid - pacing * ahead * value, 9)
        if best is None or bid > best_bid or (bid == best_bid and share > best_share):
            best, best_bid, best_share = employee, bid, share
    return best, best_bid


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
