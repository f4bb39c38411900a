"""Ranked candidates with those found out of budget dropped until their budget can return."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from routing.ledger import BudgetLedger
from routing.models import Employee

T = TypeVar("T")


class Shortlist(Generic[T]):
    """A ranking (best first) for offers of ``minutes``, less those who cannot spend them today.

    Someone without ``minutes`` left keeps that state until their local day ends or time is
    given back to anyone (a decline, a timeout, a reassignment, work done faster than
    estimated): until then a scan skips them without asking the ledger again, so a ranking
    whose head has spent its day costs what its live part costs. Dropping only people who
    would be skipped anyway changes no choice.
    """

    __slots__ = ("_all", "_employee", "_live", "_refunds", "_since", "_until")

    def __init__(self, ranked: Sequence[T], employee: Callable[[T], Employee]) -> None:
        self._all = ranked
        self._employee = employee
        self._live: list[T] | None = None  # None: nobody left out
        self._refunds = -1
        self._since, self._until = -math.inf, math.inf

    def live(self, ledger: BudgetLedger, now: datetime) -> Sequence[T]:
        """The ranking without those known to be out of budget at ``now``."""
        if self._live is None:
            return self._all
        ts = ledger.timestamp(now)
        if ledger.refunds != self._refunds or not self._since <= ts < self._until:
            self._live = None
            self._since, self._until = -math.inf, math.inf
            return self._all
        return self._live

    def drop(self, spent: Iterable[Employee], ledger: BudgetLedger, now: datetime) -> None:
        """Leave out ``spent`` (found unable to spend ``minutes`` at ``now``) until their
        budget day ends or the ledger gives time back."""
        gone = set()
        for employee in spent:
            gone.add(employee.id)
            since, until = ledger.day_span(employee.id, now)
            self._since, self._until = max(self._since, since), min(self._until, until)
        if not gone:
            return
        self._refunds = ledger.refunds
        live = self._live = list(self._all) if self._live is None else self._live
        # Those found were scanned, so they sit near the head: delete in place from there
        # rather than copy the whole ranking again.
        index, employee_of = 0, self._employee
        while gone and index < len(live):
            employee_id = employee_of(live[index]).id
            if employee_id in gone:
                del live[index]
                gone.discard(employee_id)
            else:
                index += 1


def _itself(employee: Employee) -> Employee:
    return employee


class AtWork:
    """A shortlist of each list of people at work (kept by the duty roster), per minutes."""

    __slots__ = ("_lists",)

    def __init__(self) -> None:
        self._lists: dict[tuple[int, float], tuple[Sequence[Employee], Shortlist[Employee]]] = {}

    def of(self, at_work: Sequence[Employee], minutes: float) -> Shortlist[Employee]:
        """``at_work`` less those known to be unable to spend ``minutes`` (``at_work`` must be
        a list that is kept, not built for one offer: it is known by identity)."""
        key = (id(at_work), minutes)
        known = self._lists.get(key)
        if known is None or known[0] is not at_work:
            if len(self._lists) > 10_000:
                self._lists.clear()
            known = self._lists[key] = (at_work, Shortlist(at_work, _itself))
        return known[1]
