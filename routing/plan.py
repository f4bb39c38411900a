"""The day plan: the backlog and the traffic expected ahead, assigned against remaining budgets.

Every ``epoch`` (aligned to fixed moments, so the same stream gives the same plans) the plan
solves one linear program (HiGHS) over

- the waiting mentions, grouped by kind, urgency and last chance, each group able to go to
  anyone who can take it and is at work at some moment before its last chance;
- the mentions expected in the ``horizon`` ahead: the same hours of the previous day once a
  day of traffic has been seen, scaled by the level of the last three hours against the same
  hours of the previous day; before that the traffic of the last three hours (all of it seen,
  if less) repeated at its rate;

against each person's budget per local day (today's remaining minutes, later days pro rata
for the part of their working time inside the horizon). The primal plan says which waiting
mentions the people at work now take now, and which wait for someone later or for nobody;
the duals of the budget rows are the prices of a minute of each person's time, which decide
the mentions that arrive between epochs and cannot wait for the next one (Devanur and Hayes
2009, re-solved). Per mention the plan is a lookup; the work is per epoch.

A waiting mention the plan gives to someone at work now is still held when its last chance is
more than ``hold_slack`` away and that person is at work when the next plan is made: their
time stays open for what arrives meanwhile (a forecast is least sure about the hours just
ahead, and on a first day it knows only the hours seen so far), and the next plan, knowing
more, gives it again or gives their time to something worth more.

For comparison only, ``foresee`` replaces the forecast by the traffic that will come (the
routing report's ``foresight`` row: how much of the distance to the hindsight optimum is the
forecast's).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from itertools import islice

import numpy as np

from routing.backlog import Backlog, Waiting
from routing.catalogue import Catalogue
from routing.eligibility import Need
from routing.ledger import BudgetLedger
from routing.models import Urgency
from routing.planlp import solve_plan
from routing.planning import DayBook, Items, Shifts
from routing.stamps import Stamps
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
        far_group: timedelta = timedelta(hours=1),
        near: timedelta = timedelta(hours=2),
        options: int = 8,
        min_history: timedelta = timedelta(hours=1),
        forecast_discount: float = 0.05,
        level_window: timedelta = timedelta(hours=3),
        hold_slack: timedelta = timedelta(hours=1),
    ) -> None:
        self.catalogue = catalogue
        self.ledger = ledger
        self.backlog = backlog
        self.epoch = epoch
        self._horizon = min(horizon, timedelta(days=1)).total_seconds()
        self._slot = slot.total_seconds()
        self._group = group.total_seconds()
        self._far_group = far_group.total_seconds()
        self._near = near.total_seconds()
        self._discount = forecast_discount
        self._options = options
        self._min_history = min_history.total_seconds()
        self._level_window = level_window.total_seconds()
        self._hold_slack = hold_slack.total_seconds()
        self._people = {e.id: e for e in catalogue.roster}
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
        self._group_keys: list[tuple[int, frozenset[str]]] = []
        self._windows: list[float] = []  # each kind's window for expected traffic
        # the arrivals remembered, as arrays: only those new since the last epoch converted
        self._arrived = (np.empty(0), np.empty(0, dtype=np.int64))
        self._dropped = 0  # arrivals forgotten since
        self._foreseen: tuple[np.ndarray, np.ndarray] | None = None  # ``foresee``

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

    def foresee(self, arrivals: Iterable[tuple[datetime, Need, Urgency]]) -> None:
        """For comparison only: plan with the traffic that will come, ``arrivals`` at their
        moments, instead of a forecast from the traffic seen so far. What a plan told the
        future achieves, against the same plan forecasting, is how much of its distance to
        the hindsight optimum is the forecast's (the routing report's ``foresight`` row)."""
        at: list[float] = []
        kinds: list[int] = []
        for moment, need, urgency in sorted(arrivals, key=lambda arrival: arrival[0]):
            at.append(moment.timestamp())
            kinds.append(self._kinds.setdefault((need, urgency), len(self._kinds)))
        self._foreseen = (np.array(at, dtype=float), np.array(kinds, dtype=np.int64))

    def forecasting(self, now: datetime) -> bool:
        """Whether enough traffic has been seen to plan with (before that, no mention waits
        for a plan); a plan told the traffic ahead (``foresee``) plans from the start."""
        if self._foreseen is not None:
            return True
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
        self._forget(ts)
        items = self._items(ts)
        if not len(items):
            self._prices, self._picks = {}, []
            return
        shifts = Shifts(now, self._horizon, self._book)
        self._prices, picks = solve_plan(
            items, shifts, self.catalogue, self.ledger, self._options, self._discount,
            self._timetable,
        )  # fmt: skip
        self._picks = self._due_now(picks, shifts)

    def _due_now(self, picks: list[tuple[str, str]], shifts: Shifts) -> list[tuple[str, str]]:
        """The picks not held for the next plan: those whose last chance is within
        ``hold_slack``, or whose person is no longer at work when the next plan is made."""
        if self._hold_slack <= 0:
            return picks
        soon = shifts.ts + self._hold_slack
        following = self._span[1]  # when the next plan is made
        due = []
        for mention_id, employee_id in picks:
            if self.backlog.last_chance_at(mention_id) > soon:
                spans = shifts.spans(self._people[employee_id])
                if spans and spans[0][0] <= shifts.ts < following < spans[0][1]:
                    continue  # at work now and still then: the next plan decides
            due.append((mention_id, employee_id))
        return due

    def _forget(self, ts: float) -> None:
        """Drop the arrivals no forecast at ``ts`` or later looks at."""
        kept = _DAY + self._level_window  # yesterday's hours ahead and behind
        while self._seen_at and self._seen_at[0] < ts - kept:
            self._seen_at.popleft()
            self._seen_kind.popleft()
            self._dropped += 1

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
        if len(self._groups) >= 100_000:  # exclusions vary: a long-running worker stays small
            self._groups.clear()
            self._group_keys.clear()
            self._waiting.clear()
        waiting = list(self.backlog.values())
        ids = [w.mention.id for w in waiting]
        known = self._waiting
        # only the backlog's mentions are kept: holding on to those gone would keep them
        # alive long enough to cost the garbage collector a full pass now and then
        self._waiting = kept = {
            i: entry if (entry := known.get(i)) is not None and entry[0] is w else self._group_of(w)
            for w, i in zip(waiting, ids, strict=True)
        }
        groups = np.fromiter((group for _, group in kept.values()), np.int64, len(kept))
        last = np.fromiter(map(self.backlog.last_chance_at, ids), float, len(ids))
        return self._grouped(ts, ids, last, groups)

    def _group_of(self, w: Waiting) -> tuple[Waiting, int]:
        kind = self._kinds.setdefault((w.need, w.classification.urgency), len(self._kinds))
        group = self._groups.setdefault((kind, w.excluded), len(self._groups))
        if group == len(self._group_keys):
            self._group_keys.append((kind, w.excluded))
        return w, group

    def _grouped(self, ts: float, ids: list[str], last: np.ndarray, group: np.ndarray) -> Items:
        """Mentions by (group, end of their window), in the order first met. Windows are cut
        to ``group`` while their last chance is ``near``, to ``far_group`` beyond (a window
        of many hours loses little by an hour less, and the program a column per group)."""
        ahead = last - ts
        step = np.where(ahead > self._near, self._far_group, self._group)
        end = np.maximum(ts + ahead // step * step, ts)
        found: dict[tuple[int, float], list[tuple[float, str]]] = {}
        for number, ends, at, mention_id in zip(
            group.tolist(), end.tolist(), last.tolist(), ids, strict=True
        ):
            found.setdefault((number, ends), []).append((at, mention_id))
        kinds, excluded, members = [], {}, []
        for g, ((number, _), chances) in enumerate(found.items()):
            kind, out = self._group_keys[number]
            kinds.append(kind)
            if out:
                excluded[g] = out
            members.append(tuple([mention_id for _, mention_id in sorted(chances)]))
        return Items(
            tuple(self._kinds), np.array(kinds, dtype=np.int64),
            np.array([len(m) for m in members], dtype=float), np.full(len(kinds), ts),
            np.array([ends for _, ends in found], dtype=float), members, excluded,
        )  # fmt: skip

    def _forecast_items(self, ts: float) -> Items:
        """The traffic expected in the horizon, counted per kind, urgency and slot."""
        if self._foreseen is not None:
            return self._foreseen_items(ts)
        if self._first is None or ts - self._first < self._min_history:
            return Items.empty(tuple(self._kinds))
        at, kind = self._arrivals()
        scale = 1.0
        if ts - self._first >= _DAY:  # a whole day seen: the same hours of yesterday
            shifts = [(_DAY, ts - _DAY, ts - _DAY + self._horizon)]
            scale = self._level(ts, at)
        else:  # the traffic of the last hours, repeated at its rate
            span = ts - self._first
            if self._level_window > 0:
                # A first day's traffic grows into its busy hours: a night's rate would
                # leave the plan sure of time it does not have.
                span = min(span, self._level_window)
            repeats = int(self._horizon // span) + 1
            shifts = [(k * span, ts - span, ts) for k in range(1, repeats + 1)]
        kinds, index, count = self._counts(ts, shifts, at, kind)
        middles = ts + (index + 0.5) * self._slot
        return self._expected(kinds, count * scale, middles)

    def _expected(self, kinds: np.ndarray, count: np.ndarray, start: np.ndarray) -> Items:
        """Expected traffic: ``count`` mentions of each kind from ``start``, each within its
        urgency's window."""
        for _, urgency in list(self._kinds)[len(self._windows) :]:
            self._windows.append(self._window(urgency))
        windows = np.array(self._windows)[kinds] if len(kinds) else np.empty(0)
        ids: list[tuple[str, ...]] = [()] * len(kinds)
        return Items(tuple(self._kinds), kinds, count, start, start + windows, ids, {})

    def _foreseen_items(self, ts: float) -> Items:
        """The arrivals ``foresee`` was told of in the horizon after ``ts``, each at its
        moment (those of one kind at the same moment counted together)."""
        assert self._foreseen is not None
        at, kind = self._foreseen
        after, until = np.searchsorted(at, [ts, ts + self._horizon], side="right")
        ahead = slice(after, until)
        keys, count = np.unique(
            np.stack([at[ahead], kind[ahead].astype(float)], axis=1), axis=0, return_counts=True
        )
        return self._expected(keys[:, 1].astype(np.int64), count.astype(float), keys[:, 0])

    def _arrivals(self) -> tuple[np.ndarray, np.ndarray]:
        """The remembered arrivals' times and kinds as arrays. Arrivals are only appended
        (``observe``) and dropped from the front (``solve``), so the arrays of the last epoch,
        less what was dropped, are the front of the remembered ones: only the rest are new."""
        at, kind = self._arrived
        seen_at, seen_kind = self._seen_at, self._seen_kind
        at, kind = at[self._dropped :], kind[self._dropped :]
        self._dropped = 0
        if not self._in_step(at, kind):  # never expected: convert them all
            at, kind = np.empty(0), np.empty(0, dtype=np.int64)
        new = len(seen_at) - len(at)
        if new:
            at = np.concatenate([at, np.array(list(islice(reversed(seen_at), new))[::-1])])
            added = list(islice(reversed(seen_kind), new))[::-1]
            kind = np.concatenate([kind, np.array(added, dtype=np.int64)])
        self._arrived = (at, kind)
        return at, kind

    def _in_step(self, at: np.ndarray, kind: np.ndarray) -> bool:
        """Whether the arrays are the front of the remembered arrivals (checked at both ends)."""
        known = len(at)
        if known > len(self._seen_at):
            return False
        if not known:
            return True
        last = known - 1
        return (at[0], at[last], kind[0], kind[last]) == (
            self._seen_at[0], self._seen_at[last], self._seen_kind[0], self._seen_kind[last],
        )  # fmt: skip

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
        self, ts: float, shifts: list[tuple[float, float, float]], at: np.ndarray, kind: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrivals per kind, urgency and slot ahead: the (need, urgency) numbers, slot numbers
        and counts, in the order first counted (shift by shift, oldest arrival first), as a
        loop over the arrivals would count them."""
        keys = []
        slots = int(self._horizon // self._slot) + 1
        for shift, since, until in shifts:
            inside = (since <= at) & (at < until)
            ahead = at[inside] + shift - ts
            kept = (ahead >= 0) & (ahead < self._horizon)
            index = (ahead[kept] // self._slot).astype(np.int64)
            keys.append(kind[inside][kept] * slots + index)
        counted = np.concatenate(keys)
        size = len(self._kinds) * slots  # every key below it: counted by position
        count = np.bincount(counted, minlength=size)
        first = np.full(size, len(counted))
        np.minimum.at(first, counted, np.arange(len(counted)))
        found = np.flatnonzero(count)
        found = found[np.argsort(first[found])]
        return found // slots, found % slots, count[found].astype(float)
