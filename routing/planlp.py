"""The day plan's linear program, assembled with numpy: one column per item, person and span.

Columns, rows and coefficients come out in exactly the order a plain loop over items, their
candidates (most proficient first) and each candidate's spans would give, so the program HiGHS
sees, and the plan it returns, does not depend on how it was put together: items one by one
or as arrays, spans built afresh or kept in a ``Timetable`` across epochs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csc_array

from routing.catalogue import Catalogue
from routing.eligibility import Need
from routing.highs import solve_packing
from routing.ledger import BudgetLedger
from routing.planning import Item, Items, Shifts
from routing.timetable import Epoch, Pairs, Timetable


@dataclass(frozen=True, slots=True)
class _Columns:
    item: np.ndarray
    row: np.ndarray
    value: np.ndarray
    at_work: np.ndarray
    ids: np.ndarray  # the person (id) of each column


def _columns(
    items: Items, members: np.ndarray, lo: np.ndarray, hi: np.ndarray, pairs: Pairs, options: int
) -> tuple[np.ndarray, np.ndarray]:
    """The columns of one kind's items (windows [lo, hi]) as (item, pair of the epoch): each
    item's first ``options`` candidates with a span in its window (the excluded skipped),
    every such span of theirs."""
    inside = (pairs.start[None, :] <= hi[:, None]) & (pairs.end[None, :] > lo[:, None])
    if items.excluded:
        for k, i in enumerate(members.tolist()):
            if excluded := items.excluded.get(i):
                inside[k] &= np.array([e not in excluded for e in pairs.ids])
    keep = inside
    if len(pairs.bounds) > options:  # else every candidate is among the first ``options``
        found = np.logical_or.reduceat(inside, pairs.bounds, axis=1)
        before = np.cumsum(found, axis=1) - found  # candidates found ahead of each one
        keep = inside & (before < options)[:, pairs.candidate]
    a, p = np.nonzero(keep)  # item by item, pairs in order: the loop's order
    return members[a], p + pairs.offset


def solve_plan(
    items: Sequence[Item] | Items,
    shifts: Shifts,
    catalogue: Catalogue,
    ledger: BudgetLedger,
    options: int,
    discount: float,
    timetable: Timetable | None = None,
) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """Prices per employee (their first day's budget dual) and the picks to assign now.

    Expected mentions are worth ``1 - discount`` of their value: they may not come, and a
    waiting mention wins a tie against one that may not. A ``timetable`` kept across epochs
    (for one catalogue) saves building everyone's spans again.
    """
    batch = items if isinstance(items, Items) else Items.of(items)
    needs: dict[Need, int] = {}  # each kind of mention, numbered
    need = np.zeros(len(batch.kinds), dtype=np.int64)  # of each (need, urgency) kind
    weight = np.zeros(len(batch.kinds))
    minutes = np.zeros(len(batch.kinds))
    for k in np.unique(batch.kind).tolist():
        kind, urgency = batch.kinds[k]
        need[k] = needs.setdefault(kind, len(needs))
        weight[k] = float(catalogue.taxonomy.weight(urgency))
        minutes[k] = kind.minutes
    table = timetable if timetable is not None else Timetable(shifts.book)
    epoch = table.epoch(shifts, needs, catalogue)
    # each kind's items in order: one stable sort instead of a search per kind
    of_item = need[batch.kind]
    order = np.argsort(of_item, kind="stable")
    ends = np.cumsum(np.bincount(of_item, minlength=len(needs))).tolist()
    lo, hi = batch.start[order], batch.end[order]
    parts = []
    for kind, a, b in zip(needs, [0, *ends], ends, strict=False):
        pairs = epoch.pairs(kind)
        if pairs is not None:
            parts.append(_columns(batch, order[a:b], lo[a:b], hi[a:b], pairs, options))
    waiting = np.fromiter(map(bool, batch.ids), bool, len(batch))
    columns = _merge(parts, epoch, weight[batch.kind], waiting, discount)
    if columns is None:
        return {}, []
    row, budgets = _number_rows(columns.row, epoch.budgets)
    caps = epoch.capacities(budgets, ledger)
    first_row: dict[str, int] = {}
    for index, number in enumerate(budgets.tolist()):
        first_row.setdefault(epoch.person(number), index)
    x, duals = _solve(batch, minutes[batch.kind], columns, row, caps)
    prices = {e: max(0.0, float(duals[r])) for e, r in first_row.items()}
    return prices, _picks(batch, waiting, columns, x)


def _merge(
    parts: list[tuple[np.ndarray, np.ndarray]],
    epoch: Epoch,
    weight: np.ndarray,
    waiting: np.ndarray,
    discount: float,
) -> _Columns | None:
    """All kinds' columns in item order, worth the person's skill times the item's weight;
    expected traffic discounted."""
    if not parts or not sum(len(item) for item, _ in parts):
        return None
    item = np.concatenate([item for item, _ in parts])
    order = np.argsort(item, kind="stable")
    item, pair = item[order], np.concatenate([pair for _, pair in parts])[order]
    value = epoch.skill[pair] * weight[item]
    expected = ~waiting[item]
    value[expected] = value[expected] * (1.0 - discount)
    return _Columns(item, epoch.row[pair], value, epoch.at_work[pair], epoch.ids[pair])


def _number_rows(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Budget rows (numbered below ``size``) numbered in the order the columns first meet
    them; the budgets so met."""
    first = np.full(size, len(keys))
    np.minimum.at(first, keys, np.arange(len(keys)))
    met = np.flatnonzero(first < len(keys))
    in_order = met[np.argsort(first[met])]
    number = np.empty(size, dtype=np.int64)
    number[in_order] = np.arange(len(in_order))
    return number[keys], in_order


def _solve(
    items: Items, minutes: np.ndarray, columns: _Columns, row: np.ndarray, caps: list[float]
) -> tuple[np.ndarray, np.ndarray]:
    n, m = len(items), len(columns.item)
    # Two entries a column, item row above budget row: the column-wise form HiGHS takes.
    index = np.empty(2 * m, dtype=np.int32)
    index[0::2], index[1::2] = columns.item, n + row
    data = np.empty(2 * m)
    data[0::2] = 1.0
    data[1::2] = minutes[columns.item]
    start = np.arange(0, 2 * m + 1, 2, dtype=np.int32)
    matrix = csc_array((data, index, start), shape=(n + len(caps), m))
    bounds = np.concatenate([items.mentions, caps])
    solved = solve_packing(columns.value, matrix, bounds)
    if solved is None:
        return np.zeros(m), np.zeros(len(caps))
    return solved[0], solved[1][n:]


def _picks(
    items: Items, waiting: np.ndarray, columns: _Columns, x: np.ndarray
) -> list[tuple[str, str]]:
    """Waiting mentions planned for someone at work now, earliest last chance first."""
    now_share: dict[int, list[tuple[float, str]]] = {}
    for var in np.nonzero(columns.at_work & waiting[columns.item] & (x > 1e-6))[0]:
        i = int(columns.item[var])
        now_share.setdefault(i, []).append((-float(x[var]), columns.ids[var]))
    picks: list[tuple[str, str]] = []
    for i, shares in sorted(now_share.items()):
        members = iter(items.ids[i])
        for minus_x, employee_id in sorted(shares):
            for _ in range(int(-minus_x + 0.5)):
                mention_id = next(members, None)
                if mention_id is not None:
                    picks.append((mention_id, employee_id))
    return picks
