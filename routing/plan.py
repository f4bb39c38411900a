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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np

from routing.backlog import Backlog
from routing.catalogue import Catalogue
from routing.eligibility import Need
from routing.ledger import BudgetLedger
from routing.models import Urgency
from routing.planlp import solve_plan
from routing.planning import DayBook, Item, Shifts
from routing.stamps import Stamps

_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday; epochs count from here
_DAY = 86_400.0
PLANNED = "the day plan gives it to this person now"
_LEVEL_PRIOR = 10.0  # arrivals added to both sides of the level's ratio
_LEVEL_CAP = 2.0  # the level scales yesterday's traffic by half to double at most
_NOBODY: frozenset[str] = frozenset()  # no one excluded from expected traffic


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

    # POSIX timestamps of the moments asked about per decision: the router shares its Stamps
    # (``share_stamps``), which work each moment out once; alone, the plan asks the datetime.
    _stamp: Callable[[datetime], float] = staticmethod(datetime.timestamp)
    # The moment last asked about and its timestamp: one decision asks up to four times.
    _moment: tuple[datetime | None, float] = (None, 0.0)

    def share_stamps(self, stamps: Stamps) -> None:
        """Take the timestamps of the moments the router asks about from ``stamps``."""
        self._stamp = stamps

    def _timestamp(self, at: datetime) -> float:
        ts = self._stamp(at)
        self._moment = (at, ts)
        return ts

    def observe(self, at: datetime, need: Need, urgency: Urgency) -> None:
        moment = self._moment
        ts = moment[1] if at is moment[0] else self._timestamp(at)
        kind = self._kinds.setdefault((need, urgency), len(self._kinds))
        self._seen_at.append(ts)
        self._seen_kind.append(kind)
        if self._first is None:
            self._first = ts

    def forecasting(self, now: datetime) -> bool:
        """Whether enough traffic has been seen to plan with (before that, no mention waits
        for a plan)."""
        if self._first is None:
            return False
        moment = self._moment
        ts = moment[1] if now is moment[0] else self._timestamp(now)
        return ts - self._first >= self._min_history

    def epoch_of(self, now: datetime) -> datetime:
        return _EPOCH + (now - _EPOCH) // self.epoch * self.epoch

    def next_epoch(self, now: datetime) -> datetime:
        # Asked once per decision: the current epoch is remembered as POSIX bounds.
        start, end, following = self._next
        moment = self._moment
        if start <= (moment[1] if now is moment[0] else self._timestamp(now)) < end:
            return following
        begins = self.epoch_of(now)
        following = begins + self.epoch
        self._next = (begins.timestamp(), following.timestamp(), following)
        return following

    def next_epoch_at(self, now: datetime) -> tuple[datetime, float]:
        """``next_epoch(now)``, and the same moment as a POSIX timestamp."""
        start, end, following = self._next
        moment = self._moment
        if start <= (moment[1] if now is moment[0] else self._timestamp(now)) < end:
            return following, end
        following = self.next_epoch(now)
        return following, self._next[1]

    def table(self, now: datetime) -> dict[str, float]:
        """Every employee's price of a minute at ``now`` (absent: 0), solving the epoch's
        plan first if it has not been solved yet."""
        start, end = self._span
        moment = self._moment
        if start <= (moment[1] if now is moment[0] else self._timestamp(now)) < end:
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
        items = self._waiting_items(ts) + self._forecast_items(ts)
        if not items:
            self._prices, self._picks = {}, []
            return
        shifts = Shifts(now, self._horizon, self._book)
        self._prices, self._picks = solve_plan(
            items, shifts, self.catalogue, self.ledger, self._options, self._discount
        )

    def picks(self) -> list[tuple[str, str]]:
        """(mention id, employee id): waiting mentions the plan gives to someone at work now."""
        return self._picks

    def _waiting_items(self, ts: float) -> list[Item]:
        groups: dict[tuple[Need, Urgency, float, frozenset[str]], list[tuple[float, str]]] = {}
        last_chance = self.backlog.last_chance_at
        for w in self.backlog.values():
            last = last_chance(w.mention.id)
            # grouped by the last chance rounded down: the group's window never overstates
            slot = ts + (last - ts) // self._group * self._group
            key = (w.need, w.classification.urgency, max(slot, ts), w.excluded)
            groups.setdefault(key, []).append((last, w.mention.id))
        items = []
        for (need, urgency, end, excluded), members in groups.items():
            ids = tuple([m for _, m in sorted(members)])
            items.append(Item(len(ids), need, urgency, ts, end, ids, excluded))
        return items

    def _forecast_items(self, ts: float) -> list[Item]:
        """The traffic expected in the horizon, counted per kind, urgency and slot."""
        if self._first is None or ts - self._first < self._min_history:
            return []
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
        middles = (ts + (index + 0.5) * self._slot).tolist()
        windows = {u: self._window(u) for u in {urgency for _, urgency in kinds}}
        return [
            Item(n * scale, need, urgency, middle, middle + windows[urgency], (), _NOBODY)
            for (need, urgency), middle, n in zip(kinds, middles, count.tolist(), strict=True)
        ]

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
    ) -> tuple[list[tuple[Need, Urgency]], np.ndarray, np.ndarray]:
        """Arrivals per kind, urgency and slot ahead: the (need, urgency) pairs, slot numbers
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
        pairs = list(self._kinds)
        return [pairs[k] for k in (found // slots).tolist()], found % slots, count
