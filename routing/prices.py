"""Prices of employees' time, learned from recent traffic by a linear program.

Devanur and Hayes (2009): when mentions arrive in random order, the dual prices of the budget
constraints on a sample of past traffic, charged against each bid, reach nearly the offline
optimum. Every ``refresh`` period (aligned to fixed epochs, so a router rebuilt from its log
learns exactly the same prices) the book solves

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
        sample: int = 800,
    ) -> None:
        self._budget = {e.id: e.budget_minutes_per_day for e in roster}
        self._window = window
        self._refresh = refresh
        self._sample = sample
        self._arrivals: deque[Arrival] = deque()
        self._epoch: int | None = None
        self._prices: dict[str, float] = {}

    def observe(self, arrival: Arrival) -> None:
        if arrival.options:
            self._arrivals.append(arrival)

    def price(self, employee_id: str, now: datetime) -> float:
        return self.table(now).get(employee_id, 0.0)

    def table(self, now: datetime) -> dict[str, float]:
        """Every employee's price at ``now`` (absent: 0)."""
        epoch = (now - _EPOCH) // self._refresh
        if epoch != self._epoch:
            self._epoch = epoch
            self._prices = self._solve(_EPOCH + epoch * self._refresh)
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
