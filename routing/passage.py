"""Letting time pass in the router: plans, last chances, shift ends and capacity events."""

from __future__ import annotations

import math
from datetime import datetime

from routing.decisions import Decision
from routing.eligibility import availability_gap
from routing.parts import RouterParts
from routing.plan import PLANNED
from routing.winddown import NOTE


class Passage(RouterParts):
    """``tick`` and the events it visits, mixed into ``Router``.

    A mixin, not a collaborator: each event (a new plan, a last chance, a shift's end, someone
    coming to work) decides waiting mentions with the router's own offer, audit and books.
    """

    def tick(self, now: datetime) -> list[Decision]:
        """Let time pass up to ``now``: timeouts, capacity freeing up, last chances, escalations.

        Capacity events (someone's hours begin, a budget day resets) between the previous
        moment and ``now`` are visited in order, so a quiet spell in the stream does not skip
        a morning in which the backlog could have been assigned.
        """
        stamp, clock = self._stamps, self._clock
        now_ts = stamp(now)
        if clock is not None:
            clock_ts = self._clock_ts[1] if clock is self._clock_ts[0] else stamp(clock)
            if now_ts < clock_ts:
                now, now_ts = clock, clock_ts
        decisions: list[Decision] = []
        # Most calls find nothing due: one look at the earliest event instead of the loop's.
        if self._first_event_at() <= now_ts and self._backlog:
            decisions = self._visit_events(now_ts)
        self._clock, self._clock_ts = now, (now, now_ts)
        if self._timeouts:  # without an accept timeout the book never has any
            timeouts = self._timeouts_until(now)
            if timeouts:  # only they can have put a mention due by now back in the backlog
                decisions += timeouts
                if (due := self._backlog.next_last_chance_at()) is not None and due <= now_ts:
                    decisions += self._expire(now)
        self._prune(now)
        return decisions

    def _first_event_at(self) -> float:
        """When the loop of ``_visit_events`` would look first: the earliest of the backlog's
        next last chance, the next capacity event and the next plan (POSIX)."""
        first = self._backlog.next_last_chance_at()
        first_ts = math.inf if first is None else first
        events = self._events
        if self._next_capacity is not events[0] or self._next_plan is not events[1]:
            ats = [self._stamps(e) for e in (self._next_capacity, self._next_plan) if e is not None]
            events = self._events = (
                self._next_capacity,
                self._next_plan,
                min(ats, default=math.inf),
            )
        return min(first_ts, events[2])

    def _visit_events(self, now_ts: float) -> list[Decision]:
        """Every event up to ``now_ts`` in order: plans, last chances, capacity events."""
        stamp = self._stamps
        decisions: list[Decision] = []
        while self._backlog:
            last_chance = self._backlog.next_last_chance()
            last_ts = self._backlog.next_last_chance_at() or 0.0
            at, at_ts = self._next_event(last_chance, last_ts)
            if at is None or at_ts > now_ts:
                break
            if self._clock is not None and stamp(self._clock) > at_ts:
                at, at_ts = self._clock, stamp(self._clock)
            self._clock = at
            if self._next_plan is not None and stamp(self._next_plan) <= at_ts:
                decisions += self._follow_plan(at)
            if last_chance is not None and last_ts <= at_ts:
                decisions += self._expire(at)
            if self._next_capacity is not None and stamp(self._next_capacity) <= at_ts:
                decisions += self._wind_down(at)
                decisions += self._drain(at)
                self._next_capacity = self._capacity_event_after(at)
        return decisions

    def _next_event(
        self, last_chance: datetime | None, last_ts: float
    ) -> tuple[datetime | None, float]:
        """The first of the backlog's next last chance (at ``last_ts``), the next capacity
        event and the next plan, as ``min`` would pick it (the earliest, the first listed on
        a tie), compared as timestamps."""
        first, first_ts = (last_chance, last_ts) if last_chance is not None else (None, math.inf)
        for event in (self._next_capacity, self._next_plan):
            if event is not None and (ts := self._stamps(event)) < first_ts:
                first, first_ts = event, ts
        return first, first_ts

    # -- the backlog ---------------------------------------------------------------------

    def _expire(self, now: datetime) -> list[Decision]:
        """Waiting mentions at their last chance: anyone available takes them, else escalate."""
        decisions = []
        nobody: set[tuple[str, str, str, float]] = set()
        for waiting in list(self._backlog.pop_last_chances(now)):
            decision = None
            if not self._nobody_available(waiting, now, nobody):
                decision = self._offer(waiting, now, last_chance=True, quiet=True)
            if decision is None:
                sla = self.taxonomy.sla_minutes(waiting.classification.urgency)
                reason = f"SLA of {sla:g} min about to pass with nobody available"
                decision = self._escalate(
                    waiting.mention, waiting.classification, waiting.need, now, reason
                )
            decisions.append(decision)
        return decisions

    def _wind_down(self, now: datetime) -> list[Decision]:
        """Spend the last budget of shifts about to end on the most valuable waiting mentions."""
        decisions = []
        for employee_id in sorted(self._winding_down):
            employee = self._by_id[employee_id]
            for waiting in self._wind_down_picks.picks(employee, self._backlog.values(), now):
                weight = self.taxonomy.weight(waiting.classification.urgency)
                audit = self._auditor.audit(waiting.need, weight, now, [employee], employee, NOTE)
                self._backlog.take(waiting.mention.id)
                decisions.append(self._assign(employee, waiting, now, audit))
                if self.ledger.remaining(employee_id, now) <= 0:
                    break
        self._winding_down = frozenset()
        return decisions

    def _follow_plan(self, now: datetime) -> list[Decision]:
        """A new epoch: solve the day plan, give the people at work what it plans for them."""
        self._next_plan = self.plan.next_epoch(now)
        self.plan.solve(now)
        decisions = []
        for mention_id, employee_id in self.plan.picks():
            waiting = self._backlog.get(mention_id)
            employee = self._by_id[employee_id]
            if waiting is None or availability_gap(
                employee, waiting.need, self.ledger, now, self._duty
            ):
                continue
            sticky, note = self._sticky_choice(waiting.mention, waiting.need, now, waiting.excluded)
            employee, note = (sticky, note) if sticky is not None else (employee, PLANNED)
            weight = self.taxonomy.weight(waiting.classification.urgency)
            audit = self._auditor.audit(waiting.need, weight, now, [employee], employee, note)
            self._backlog.take(mention_id)
            decisions.append(self._assign(employee, waiting, now, audit))
        return decisions

    def _drain(self, now: datetime) -> list[Decision]:
        decisions = []
        nobody: set[tuple[str, str, str, float]] = set()
        for waiting in self._backlog.in_order():
            if self._nobody_available(waiting, now, nobody):
                continue
            decision = self._offer(waiting, now, quiet=True)
            if decision is not None:
                self._backlog.take(waiting.mention.id)
                decisions.append(decision)
        return decisions
