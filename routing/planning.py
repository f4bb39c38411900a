"""The day plan's linear program: groups of mentions against budgets per person and local day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from routing.catalogue import Catalogue
from routing.eligibility import Need
from routing.ledger import BudgetLedger
from routing.models import Employee, Urgency

Span = tuple[float, float, date, datetime]  # start, end (POSIX), local day, start as a datetime


@dataclass(frozen=True, slots=True)
class Item:
    """``count`` mentions of one kind, any of which may be taken within [start, end] (POSIX);
    ``ids`` names waiting ones (earliest last chance first), empty for expected traffic."""

    count: float
    need: Need
    urgency: Urgency
    start: float
    end: float
    ids: tuple[str, ...]
    excluded: frozenset[str]


class Shifts:
    """Each person's working spans from ``now`` to a day past the horizon, built on demand."""

    def __init__(self, now: datetime, horizon: float) -> None:
        self.now = now
        self.ts = now.timestamp()
        self.horizon_end = self.ts + horizon
        self._until = self.horizon_end + 86_400.0  # the longest window a mention may have
        self._spans: dict[str, tuple[Span, ...]] = {}

    def spans(self, employee: Employee) -> tuple[Span, ...]:
        found = self._spans.get(employee.id)
        if found is None:
            found = self._spans[employee.id] = tuple(self._build(employee))
        return found

    def _build(self, employee: Employee) -> list[Span]:
        spans: list[Span] = []
        local = self.now.astimezone(employee.zone)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        while day.timestamp() < self._until:
            for a, b in employee.hours.day_spans(day):
                start, end = max(a.timestamp(), self.ts), b.timestamp()
                if start < end and start < self._until:
                    spans.append((start, end, day.date(), max(a, self.now)))
            day = (day + timedelta(days=1, hours=2)).replace(hour=0)
        return spans

    def capacity(self, employee: Employee, day: date, ledger: BudgetLedger) -> float:
        """The minutes of ``day`` the plan may use: what is left of that day's budget, pro rata
        for the share of its remaining working time inside the horizon."""
        mine = [s for s in self.spans(employee) if s[2] == day]
        total = sum(b - a for a, b, _, _ in mine)
        inside = sum(max(0.0, min(b, self.horizon_end) - a) for a, b, _, _ in mine)
        left = ledger.remaining(employee.id, mine[0][3])
        return left * (inside / total if total else 0.0)


def solve_plan(
    items: Sequence[Item],
    shifts: Shifts,
    catalogue: Catalogue,
    ledger: BudgetLedger,
    options: int,
    discount: float,
) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """Prices per employee (their first day's budget dual) and the picks to assign now.

    Expected mentions are worth ``1 - discount`` of their value: they may not come, and a
    waiting mention wins a tie against one that may not.
    """
    rows: dict[tuple[str, date], int] = {}
    caps: list[float] = []
    first_row: dict[str, int] = {}
    columns: list[tuple[int, int, float, bool, str]] = []  # item, row, value, now, employee
    for i, item in enumerate(items):
        weight = catalogue.taxonomy.weight(item.urgency)
        taken = 0
        for employee in catalogue.candidates_for(item.need):
            if employee.id in item.excluded:
                continue
            found = False
            for start, end, day, _ in shifts.spans(employee):
                if start > item.end:
                    break
                if end <= item.start:
                    continue
                row = rows.get((employee.id, day))
                if row is None:
                    row = rows[(employee.id, day)] = len(caps)
                    caps.append(shifts.capacity(employee, day, ledger))
                    first_row.setdefault(employee.id, row)
                value = employee.skills[item.need.topic] * weight
                if not item.ids:
                    value *= 1.0 - discount
                at_work = start <= shifts.ts < end
                columns.append((i, row, value, at_work, employee.id))
                found = True
            taken += found
            if taken == options:
                break
    if not columns:
        return {}, []
    x, duals = _solve(items, columns, caps)
    prices = {e: max(0.0, float(duals[row])) for e, row in first_row.items()}
    return prices, _picks(items, columns, x)


def _solve(
    items: Sequence[Item], columns: list[tuple[int, int, float, bool, str]], caps: list[float]
) -> tuple[np.ndarray, np.ndarray]:
    n = len(items)
    r, c, data = [], [], []
    for var, (i, row, _, _, _) in enumerate(columns):
        r += [i, n + row]
        c += [var, var]
        data += [1.0, items[i].need.minutes]
    matrix = coo_matrix((data, (r, c)), shape=(n + len(caps), len(columns))).tocsr()
    bounds = np.concatenate([[item.count for item in items], caps])
    values = np.array([col[2] for col in columns])
    result = linprog(-values, A_ub=matrix, b_ub=bounds, bounds=(0, None), method="highs")
    if result.status != 0:
        return np.zeros(len(columns)), np.zeros(len(caps))
    return result.x, -result.ineqlin.marginals[n:]


def _picks(
    items: Sequence[Item], columns: list[tuple[int, int, float, bool, str]], x: np.ndarray
) -> list[tuple[str, str]]:
    """Waiting mentions planned for someone at work now, earliest last chance first."""
    now_share: dict[int, list[tuple[float, str]]] = {}
    for var, (i, _, _, at_work, employee_id) in enumerate(columns):
        if at_work and items[i].ids and x[var] > 1e-6:
            now_share.setdefault(i, []).append((-float(x[var]), employee_id))
    picks: list[tuple[str, str]] = []
    for i, shares in sorted(now_share.items()):
        members = iter(items[i].ids)
        for minus_x, employee_id in sorted(shares):
            for _ in range(int(-minus_x + 0.5)):
                mention_id = next(members, None)
                if mention_id is not None:
                    picks.append((mention_id, employee_id))
    return picks
