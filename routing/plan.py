"""The day plan: the backlog and the traffic expected ahead, assigned against remaining budgets.

Every ``epoch`` (aligned to fixed moments, so the same stream gives the same plans) the plan
solves one linear program (HiGHS) over

- the waiting mentions, grouped by kind, urgency and last chance, each group able to go to
  anyone who can take it and is at work at some moment before its last chance;
- the mentions expected in the ``horizon`` ahead: the same hours of the previous day once a
  day of traffic has been seen, scaled by the level of the last three hours against the same
  hours of the previous day; before that the traffic seen so far repeated at its rate;

against each person's budget per local day (today's remaining minutes, later days pro rata
for the part of their working time inside the horizon). The primal plan says which waiting
mentions the people at work now take now, and which wait for someone later or for nobody;
the duals of the budget rows are the prices of a minute of each person's time, which decide
the mentions that arrive between epochs and cannot wait for the next one (Devanur and Hayes
2009, re-solved). Per mention the plan is a lookup; the work is per epoch.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np

from routing.backlog import Backlog, Waiting
from routing.catalogue import Catalogue
from routing.eligibility import Need
from routing.ledger import BudgetLedger
from routing.models import Urgency
from routing.planlp import solve_plan
from routing.planning import DayBook, Items, Shifts
from routing.timetable import Timetable

_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday; epochs count from here
_DAY = 86_400.0
PLANNED = "the day plan gives it to this person now"
_LEVEL_PRIOR = 10.0  # arrivals added to both sides of the level's ratio
_LEVEL_CAP = 2.0  # the level scales yesterday's traffic by half to double at most


class DayPlan:
    """Re-solves the plan per epoch; answers prices and the waiting mentions to assign now."""

    def __init__(
        self,
        catalogue: Catalogue,
        ledger: BudgetLedger,
        backlog: Backlog,
        *,
        epoch: timedelta = timedelta(minutes=30),
        horizon: timedelta = timedelta(hours=24),
        slot: timedelta = timedelta(hours=1),
        group: timedelta = timedelta(minutes=5),
        options: int = 8,
        min_history: timedelta = timedelta(hours=1),
        forecast_discount: float = 0.05,
        level_window: timedelta = timedelta(hours=3),
    ) -> None:
        self.catalogue = catalogue
        self.ledger = ledger
        self.backlog = backlog
        self.epoch = epoch
        self._horizon = min(horizon, timedelta(days=1)).total_seconds()
        self._slot = slot.total_seconds()
        self._group = group.total_seconds()
        self._discount = forecast_discount
        self._options = options
        self._min_history = min_history.total_seconds()
        self._level_window = level_window.total_seconds()
        # arrivals remembered for the forecast: when (POSIX) and their (need, urgency) number
        self._seen_at: deque[float] = deque()
        self._seen_kind: deque[int] = deque()
        self._kinds: dict[tuple[Need, Urgency], int] = {}  # numbered: cheap forecast keys
        self._first: float | None = None
        self._solved: datetime | None = None  # the epoch of the current plan
        self._prices: dict[str, float] = {}
        self._picks: list[tuple[str, str]] = []
        self._span = (0.0, 0.0)
        self._next = (0.0, 0.0, _EPOCH)
        self._book = DayBook()  # working spans per local day, kept across epochs
        self._timetable = Timetable(self._book)  # and as arrays, with each kind's candidates
        # each waiting mention's group but for its last chance: (kind, excluded), numbered
        self._waiting: dict[str, tuple[Waiting, int]] = {}
        self._groups: dict[tuple[int, frozenset[str]], int] = {}
        self._windows: list[float] = []  # each kind's window for expected traffic

    def observe(self, at: datetime, need: Need, urgency: Urgency) -> None:
        ts = at.timestamp()
        kind = self._kinds.setdefault((need, urgency), len(self._kinds))
        self._seen_at.append(ts)
        self._seen_kind.append(kind)
        if self._first is None:
            self._first = ts

    def forecasting(self, now: datetime) -> bool:
        """Whether enough traffic has been seen to plan with (before that, no mention waits
        for a plan)."""
        return self._first is not None and now.timestamp() - self._first >= self._min_history

    def epoch_of(self, now: datetime) -> datetime:
        return _EPOCH + (now - _EPOCH) // self.epoch * self.epoch

    def next_epoch(self, now: datetime) -> datetime:
        # Asked once per decision: the current epoch is remembered as POSIX bounds.
        start, end, following = self._next
        if start <= now.timestamp() < end:
            return following
        begins = self.epoch_of(now)
        following = begins + self.epoch
        self._next = (begins.timestamp(), following.timestamp(), following)
        return following

    def table(self, now: datetime) -> dict[str, float]:
        """Every employee's price of a minute at ``now`` (absent: 0), solving the epoch's
        plan first if it has not been solved yet."""
        start, end = self._span
        if start <= now.timestamp() < end:
            return self._prices
        self.solve(now)
        return self._prices

    def solve(self, now: datetime) -> None:
        """Solve the plan of ``now``'s epoch, once: later calls in the epoch keep it."""
        begins = self.epoch_of(now)
        if begins == self._solved:
            return
        self._solved = begins
        self._span = (begins.timestamp(), (begins + self.epoch).timestamp())
        ts = now.timestamp()
        kept = _DAY + self._level_window  # yesterday's hours ahead and behind
        while self._seen_at and self._seen_at[0] < ts - kept:
            self._seen_at.popleft()
            self._seen_kind.popleft()
        items = self._items(ts)
        if not len(items):
            self._prices, self._picks = {}, []
            return
        shifts = Shifts(now, self._horizon, self._book)
        self._prices, self._picks = solve_plan(
            items, shifts, self.catalogue, self.ledger, self._options, self._discount,
            self._timetable,
        )  # fmt: skip

    def picks(self) -> list[tuple[str, str]]:
        """(mention id, employee id): waiting mentions the plan gives to someone at work now."""
        return self._picks

    def _items(self, ts: float) -> Items:
        """The waiting mentions' groups, then the expected traffic."""
        waiting, expected = self._waiting_items(ts), self._forecast_items(ts)
        return Items(
            tuple(self._kinds), np.concatenate([waiting.kind, expected.kind]),
            np.concatenate([waiting.mentions, expected.mentions]),
            np.concatenate([waiting.start, expected.start]),
            np.concatenate([waiting.end, expected.end]),
            [*waiting.ids, *expected.ids], waiting.excluded,
        )  # fmt: skip

    def _waiting_items(self, ts: float) -> Items:
        """The backlog in groups of one kind, urgency, exclusions and last chance rounded down
        (the group's window never overstates), in the order the backlog first meets them;
        each group's mentions earliest last chance first (then by id)."""
        ids, lasts, groups = [], [], []
        known, last_chance = self._waiting, self.backlog.last_chance_at
        for w in self.backlog.values():
            mention_id = w.mention.id
            entry = known.get(mention_id)
            if entry is None or entry[0] is not w:
                entry = known[mention_id] = (w, self._group_of(w))
            ids.append(mention_id)
            lasts.append(last_chance(mention_id))
            groups.append(entry[1])
        if len(known) > 2 * len(ids) + 1_000:  # forget the mentions gone from the backlog
            self._waiting = {i: known[i] for i in ids}
        return self._grouped(ts, ids, np.array(lasts, dtype=float), np.array(groups, np.int64))

    def _group_of(self, w: Waiting) -> int:
        if len(self._groups) >= 100_000:  # exclusions vary: a long-running worker stays small
            self._groups.clear()
            self._waiting.clear()
        kind = self._kinds.setdefault((w.need, w.classification.urgency), len(self._kinds))
        return self._groups.setdefault((kind, w.excluded), len(self._groups))

    def _grouped(self, ts: float, ids: list[str], last: np.ndarray, group: np.ndarray) -> Items:
        slot = ts + (last - ts) // self._group * self._group
        end = np.maximum(slot, ts)
        # groups (group, end) numbered in the order first met, then members in group order
        order = np.lexsort((end, group))
        new = np.ones(len(order), dtype=bool)
        new[1:] = (group[order][1:] != group[order][:-1]) | (end[order][1:] != end[order][:-1])
        rank = np.argsort(np.minimum.reduceat(order, np.flatnonzero(new)) if len(order) else order)
        number = np.empty(len(rank), dtype=np.int64)
        number[rank] = np.arange(len(rank))
        of = np.empty(len(order), dtype=np.int64)
        of[order] = number[np.cumsum(new) - 1]
        members = np.lexsort((np.array(ids, dtype=str), last, of))
        bounds = np.searchsorted(of[members], np.arange(len(rank) + 1)).tolist()
        names = [ids[i] for i in members.tolist()]
        heads = members[bounds[:-1]]
        found = list(self._groups)
        pairs = [found[g] for g in group[heads].tolist()]
        return Items(
            tuple(self._kinds), np.array([kind for kind, _ in pairs], dtype=np.int64),
            np.diff(bounds).astype(float), np.full(len(heads), ts), end[heads],
            [tuple(names[a:b]) for a, b in pairwise(bounds)],
            {g: excluded for g, (_, excluded) in enumerate(pairs) if excluded},
        )  # fmt: skip

    def _forecast_items(self, ts: float) -> Items:
        """The traffic expected in the horizon, counted per kind, urgency and slot."""
        if self._first is None or ts - self._first < self._min_history:
            return Items.empty(tuple(self._kinds))
        at = np.fromiter(self._seen_at, float, len(self._seen_at))
        scale = 1.0
        if ts - self._first >= _DAY:  # a whole day seen: the same hours of yesterday
            shifts = [(_DAY, ts - _DAY, ts - _DAY + self._horizon)]
            scale = self._level(ts, at)
        else:  # the traffic seen so far, repeated at its rate
            span = ts - self._first
            repeats = int(self._horizon // span) + 1
            shifts = [(k * span, self._first, ts) for k in range(1, repeats + 1)]
        kinds, index, count = self._counts(ts, shifts, at)
        middles = ts + (index + 0.5) * self._slot
        for _, urgency in list(self._kinds)[len(self._windows) :]:
            self._windows.append(self._window(urgency))
        windows = np.array(self._windows)[kinds]
        ids: list[tuple[str, ...]] = [()] * len(kinds)
        return Items(tuple(self._kinds), kinds, count * scale, middles, middles + windows, ids, {})

    def _window(self, urgency: Urgency) -> float:
        sla, lead = self.catalogue.sla(urgency)
        return (sla - lead).total_seconds()

    def _level(self, ts: float, at: np.ndarray) -> float:
        """How busy the last hours were against the same hours of yesterday (a few arrivals
        added to both so that a quiet spell does not swing it), kept within half to double:
        yesterday gives the shape of the day ahead, the last hours its level."""
        if self._level_window <= 0:
            return 1.0
        lately = np.count_nonzero(at >= ts - self._level_window)
        yesterday = np.count_nonzero((at >= ts - _DAY - self._level_window) & (at < ts - _DAY))
        ratio = (lately + _LEVEL_PRIOR) / (yesterday + _LEVEL_PRIOR)
        return float(min(max(ratio, 1 / _LEVEL_CAP), _LEVEL_CAP))

    def _counts(
        self, ts: float, shifts: list[tuple[float, float, float]], at: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrivals per kind, urgency and slot ahead: the (need, urgency) numbers, slot numbers
        and counts, in the order first counted (shift by shift, oldest arrival first), as a
        loop over the arrivals would count them."""
        kind = np.fromiter(self._seen_kind, np.int64, len(self._seen_kind))
        keys = []
        slots = int(self._horizon // self._slot) + 1
        for shift, since, until in shifts:
            inside = (since <= at) & (at < until)
            ahead = at[inside] + shift - ts
            kept = (ahead >= 0) & (ahead < self._horizon)
            index = (ahead[kept] // self._slot).astype(np.int64)
            keys.append(kind[inside][kept] * slots + index)
        found, first, count = np.unique(np.concatenate(keys), return_index=True, return_counts=True)
        order = np.argsort(first)
        found, count = found[order], count[order].astype(float)
        return found // slots, found % slots, count
