"""The default policy: follow the day plan, or bid against the plan's price of time.

A mention that can wait for the next epoch waits for the plan (``routing.plan``); one that
cannot goes to the best bid, value minus the plan's price of the person's time (Devanur and
Hayes 2009).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from routing.ledger import BudgetLedger
from routing.models import Employee
from routing.offers import Available, Offer, Stateless
from routing.plan import DayPlan
from routing.shortlist import AtWork, Shortlist


class AdaptivePolicy(Stateless):
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
