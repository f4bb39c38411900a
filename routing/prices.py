"""Prices of employees' time, learned from recent traffic by a linear program.

Devanur and Hayes (2009): when mentions arrive in random order, the dual prices of the budget
constraints on a sample of past traffic, charged against each bid, reach nearly the offline
optimum. Every ``refresh`` period (``early_refresh`` while less than a ``window`` of traffic
has been seen; aligned to fixed epochs, so a router rebuilt from its log learns exactly the
same prices) the book solves

    max  sum v[m,e] x[m,e]   s.t.  sum_e x[m,e] <= 1,   sum_m minutes[m] x[m,e] <= budget[e],
    0 <= x <= 1

over the arrivals of the trailing ``window`` and keeps each budget row's dual as the price of
one minute of that employee's time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from routing.models import Employee

_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday; epochs count from here


@dataclass(frozen=True, slots=True)
class Arrival:
    """A mention as the learner saw it: when, how long it takes, what each person could earn."""

    at: datetime
    minutes: float
    options: tuple[tuple[str, float], ...]


class PriceBook:
    """Per-employee price of a minute of their time, refreshed per epoch from recent arrivals."""

    def __init__(
        self,
        roster: Sequence[Employee],
        *,
        window: timedelta = timedelta(hours=24),
        refresh: timedelta = timedelta(hours=4),
        early_refresh: timedelta = timedelta(hours=1),
        sample: int = 800,
    ) -> None:
        self._budget = {e.id: e.budget_minutes_per_day for e in roster}
        self._window = window
        self._refresh = refresh
        self._early_refresh = early_refresh
        self._first: datetime | None = None  # the first arrival ever seen
        self._sample = sample
        self._arrivals: deque[Arrival] = deque()
        self._epoch: datetime | None = None
        self._prices: dict[str, float] = {}
        self._span = (0.0, 0.0)  # the current epoch, as POSIX timestamps (a cheap check)

    def observe(self, arrival: Arrival) -> None:
        if arrival.options:
            self._arrivals.append(arrival)
            if self._first is None:
                self._first = arrival.at

    def price(self, employee_id: str, now: datetime) -> float:
        return self.table(now).get(employee_id, 0.0)

    def table(self, now: datetime) -> dict[str, float]:
        """Every employee's price at ``now`` (absent: 0)."""
        start, end = self._span
        if start <= now.timestamp() < end:
            return self._prices
        # While less than a window of traffic has been seen, the prices are learned again
        # more often: the first hours decide a day's worth of budget.
        young = self._first is None or now - self._first < self._window
        refresh = self._early_refresh if young else self._refresh
        begins = _EPOCH + (now - _EPOCH) // refresh * refresh
        if begins != self._epoch:
            self._epoch = begins
            self._prices = self._solve(begins)
        self._span = (begins.timestamp(), (begins + refresh).timestamp())
        return self._prices

    def _solve(self, until: datetime) -> dict[str, float]:
        since = until - self._window
        while self._arrivals and self._arrivals[0].at < since:
            self._arrivals.popleft()
        seen = [a for a in self._arrivals if a.at < until]
        if not seen:
            return {}
        stride = max(1, -(-len(seen) // self._sample))
        sample = seen[::stride]
        # The sample stands for the traffic of ``span``; it gets that share of a day's budget.
        span = min(self._window, until - seen[0].at + self._refresh)
        scale = len(sample) / len(seen) * (span / timedelta(days=1))
        people = sorted({e for a in sample for e, _ in a.options})
        column = {e: i for i, e in enumerate(people)}
        rows, cols, data, values = [], [], [], []
        var = 0
        for m, arrival in enumerate(sample):
            for employee_id, value in arrival.options:
                rows += [m, len(sample) + column[employee_id]]
                cols += [var, var]
                data += [1.0, arrival.minutes]
                values.append(value)
                var += 1
        matrix = coo_matrix((data, (rows, cols)), shape=(len(sample) + len(people), var)).tocsr()
        bounds = np.concatenate([np.ones(len(sample)), [self._budget[e] * scale for e in people]])
        result = linprog(
            -np.asarray(values), A_ub=matrix, b_ub=bounds, bounds=(0, 1), method="highs"
        )
        if result.status != 0:
            return {}
        duals = -result.ineqlin.marginals[len(sample) :]
        return {e: max(0.0, float(duals[column[e]])) for e in people}
