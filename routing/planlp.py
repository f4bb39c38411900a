"""The day plan's linear program, assembled with numpy: one column per item, person and span.

Columns, rows and coefficients come out in exactly the order a plain loop over items, their
candidates (most proficient first) and each candidate's spans would give, so the program HiGHS
sees, and the plan it returns, does not depend on how it was put together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.sparse import csc_array

from routing.catalogue import Catalogue
from routing.eligibility import Need
from routing.highs import solve_packing
from routing.ledger import BudgetLedger
from routing.models import Employee
from routing.planning import Item, Shifts

_Row = tuple[Employee, date]


@dataclass(frozen=True, slots=True)
class _Pairs:
    """Every (candidate, span) of one kind of mention, candidates most proficient first."""

    candidate: np.ndarray  # which candidate (0, 1, ...) each pair belongs to
    bounds: np.ndarray  # where each candidate's pairs begin
    start: np.ndarray
    end: np.ndarray
    row: np.ndarray  # the (person, local day) budget, numbered in ``_Rows``
    at_work: np.ndarray
    skill: np.ndarray
    ids: np.ndarray  # the person (id, an object array) of each pair


@dataclass(frozen=True, slots=True)
class _Columns:
    item: np.ndarray
    row: np.ndarray
    value: np.ndarray
    at_work: np.ndarray
    ids: np.ndarray  # the person (id) of each column


class _Rows:
    """Budgets (person, local day) as they are met, renumbered later in column order; and
    each person's spans as arrays with their budget rows, built once per program."""

    def __init__(self, shifts: Shifts) -> None:
        self.keys: list[_Row] = []
        self._index: dict[tuple[str, date], int] = {}
        self._shifts = shifts
        self._spans: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray] | None] = {}

    def key(self, employee: Employee, day: date) -> int:
        found = self._index.get((employee.id, day))
        if found is None:
            found = self._index[(employee.id, day)] = len(self.keys)
            self.keys.append((employee, day))
        return found

    def spans(self, employee: Employee) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Starts, ends and budget rows of the person's spans (None: never at work)."""
        if employee.id in self._spans:
            return self._spans[employee.id]
        spans = self._shifts.spans(employee)
        found = None
        if spans:
            found = (
                np.array([a for a, _, _, _ in spans]), np.array([b for _, b, _, _ in spans]),
                np.array([self.key(employee, day) for _, _, day, _ in spans], dtype=np.int64),
            )  # fmt: skip
        self._spans[employee.id] = found
        return found


def _pairs(need: Need, shifts: Shifts, catalogue: Catalogue, rows: _Rows) -> _Pairs | None:
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    skill: list[float] = []
    people: list[str] = []
    sizes: list[int] = []
    for employee in catalogue.candidates_for(need):
        spans = rows.spans(employee)
        if spans is None:  # never at work in the window: never a column, never counted
            continue
        parts.append(spans)
        sizes.append(len(spans[0]))
        skill.append(employee.skills[need.topic])
        people.append(employee.id)
    if not parts:
        return None
    count = np.array(sizes)
    starts = np.concatenate([a for a, _, _ in parts])
    ends = np.concatenate([b for _, b, _ in parts])
    at_work = (starts <= shifts.ts) & (shifts.ts < ends)
    return _Pairs(
        np.repeat(np.arange(len(parts)), count), np.cumsum(count) - count, starts, ends,
        np.concatenate([r for _, _, r in parts]), at_work, np.repeat(np.array(skill), count),
        np.repeat(np.array(people, dtype=object), count),
    )  # fmt: skip


def _columns(
    items: Sequence[Item], members: list[int], pairs: _Pairs, options: int, weights: np.ndarray
) -> _Columns:
    """The columns of one kind's items: each item's first ``options`` candidates with a span
    in its window (the excluded skipped), every such span of theirs."""
    chosen = [items[i] for i in members]
    lo = np.array([item.start for item in chosen])
    hi = np.array([item.end for item in chosen])
    inside = (pairs.start[None, :] <= hi[:, None]) & (pairs.end[None, :] > lo[:, None])
    for k, item in enumerate(chosen):
        if item.excluded:
            inside[k] &= np.array([e not in item.excluded for e in pairs.ids])
    found = np.logical_or.reduceat(inside, pairs.bounds, axis=1)
    before = np.cumsum(found, axis=1) - found  # candidates found ahead of each one
    keep = inside & (before < options)[:, pairs.candidate]
    a, p = np.nonzero(keep)  # item by item, pairs in order: the loop's order
    return _Columns(
        np.array(members, dtype=np.int64)[a], pairs.row[p], pairs.skill[p] * weights[a],
        pairs.at_work[p], pairs.ids[p],
    )  # fmt: skip


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
    rows = _Rows(shifts)
    kinds: dict[Need, list[int]] = {}
    for i, item in enumerate(items):
        kinds.setdefault(item.need, []).append(i)
    parts = []
    weight = {u: float(catalogue.taxonomy.weight(u)) for u in {item.urgency for item in items}}
    for need, members in kinds.items():
        pairs = _pairs(need, shifts, catalogue, rows)
        if pairs is not None:
            weights = np.array([weight[items[i].urgency] for i in members])
            parts.append(_columns(items, members, pairs, options, weights))
    columns = _merge(items, parts, discount)
    if columns is None:
        return {}, []
    row, budgets = _number_rows(columns.row, rows)
    caps = [shifts.capacity(employee, day, ledger) for employee, day in budgets]
    first_row: dict[str, int] = {}
    for index, (employee, _) in enumerate(budgets):
        first_row.setdefault(employee.id, index)
    x, duals = _solve(items, columns, row, caps)
    prices = {e: max(0.0, float(duals[r])) for e, r in first_row.items()}
    return prices, _picks(items, columns, x)


def _merge(items: Sequence[Item], parts: list[_Columns], discount: float) -> _Columns | None:
    """All kinds' columns in item order; expected traffic discounted."""
    if not parts or not sum(len(part.item) for part in parts):
        return None
    item = np.concatenate([part.item for part in parts])
    order = np.argsort(item, kind="stable")
    ids = np.concatenate([part.ids for part in parts])
    value = np.concatenate([part.value for part in parts])[order]
    expected = np.array([not items[i].ids for i in range(len(items))])[item[order]]
    value[expected] = value[expected] * (1.0 - discount)
    return _Columns(
        item[order], np.concatenate([part.row for part in parts])[order], value,
        np.concatenate([part.at_work for part in parts])[order], ids[order],
    )  # fmt: skip


def _number_rows(keys: np.ndarray, rows: _Rows) -> tuple[np.ndarray, list[_Row]]:
    """Budget rows numbered in the order the columns first meet them."""
    met, first = np.unique(keys, return_index=True)
    in_order = met[np.argsort(first)]
    number = np.empty(len(rows.keys), dtype=np.int64)
    number[in_order] = np.arange(len(in_order))
    return number[keys], [rows.keys[k] for k in in_order]


def _solve(
    items: Sequence[Item], columns: _Columns, row: np.ndarray, caps: list[float]
) -> tuple[np.ndarray, np.ndarray]:
    n, m = len(items), len(columns.item)
    # Two entries a column, item row above budget row: the column-wise form HiGHS takes.
    index = np.empty(2 * m, dtype=np.int32)
    index[0::2], index[1::2] = columns.item, n + row
    data = np.empty(2 * m)
    data[0::2] = 1.0
    data[1::2] = np.array([item.need.minutes for item in items])[columns.item]
    start = np.arange(0, 2 * m + 1, 2, dtype=np.int32)
    matrix = csc_array((data, index, start), shape=(n + len(caps), m))
    bounds = np.concatenate([[item.mentions for item in items], caps])
    solved = solve_packing(columns.value, matrix, bounds)
    if solved is None:
        return np.zeros(m), np.zeros(len(caps))
    return solved[0], solved[1][n:]


def _picks(items: Sequence[Item], columns: _Columns, x: np.ndarray) -> list[tuple[str, str]]:
    """Waiting mentions planned for someone at work now, earliest last chance first."""
    waiting = np.array([bool(item.ids) for item in items])[columns.item]
    now_share: dict[int, list[tuple[float, str]]] = {}
    for var in np.nonzero(columns.at_work & waiting & (x > 1e-6))[0]:
        i = int(columns.item[var])
        now_share.setdefault(i, []).append((-float(x[var]), columns.ids[var]))
    picks: list[tuple[str, str]] = []
    for i, shares in sorted(now_share.items()):
        members = iter(items[i].ids)
        for minus_x, employee_id in sorted(shares):
            for _ in range(int(-minus_x + 0.5)):
                mention_id = next(members, None)
                if mention_id is not None:
                    picks.append((mention_id, employee_id))
    return picks
