"""The router: assign each classified mention to the best eligible employee, or backlog it."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from routing.eligibility import Need, availability_gap, structural_gap
from routing.ledger import BudgetLedger
from routing.models import (
    Assignment,
    Classification,
    Employee,
    Mention,
    NotAssigned,
    NotAssignedStatus,
    Outcome,
    Taxonomy,
)

# How long a decided mention id is remembered to drop redeliveries, beyond its own deadline.
DEDUP_RETENTION = timedelta(days=2)


class Decision(BaseModel):
    """One routing event; a backlogged one carries its mention so the backlog can be rebuilt."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: Outcome
    mention: Mention | None = None
    classification: Classification | None = None


@dataclass(slots=True)
class _Waiting:
    mention: Mention
    classification: Classification
    need: Need
    due_at: datetime


class Router:
    """Stateful, deterministic router. ``now`` is always an argument; it never reads a clock.

    State: the budget ledger, the backlog ordered by SLA deadline, and the ids already decided
    (so a redelivered mention is not routed twice). ``apply`` folds a logged ``Decision`` back
    into that state, which is how a restarted router rebuilds itself from the decision log.
    """

    def __init__(self, roster: Sequence[Employee], taxonomy: Taxonomy) -> None:
        self.roster = tuple(sorted(roster, key=lambda e: e.id))
        self.taxonomy = taxonomy
        self.ledger = BudgetLedger(self.roster)
        self._by_id = {e.id: e for e in self.roster}
        self._own_handles = {h.lower() for e in self.roster for h in e.accounts.values()}
        self._candidates: dict[tuple[str, str, str], tuple[Employee, ...]] = {}
        self._heap: list[tuple[datetime, int, str]] = []
        self._waiting: dict[str, _Waiting] = {}
        self._seq = 0
        self._decided: dict[str, datetime] = {}
        self._clock: datetime | None = None
        self._next_capacity: datetime | None = None

    # -- queries -------------------------------------------------------------------------

    @property
    def backlog_size(self) -> int:
        return len(self._waiting)

    def backlog(self) -> list[tuple[Mention, Classification, datetime]]:
        """Waiting mentions, most pressing deadline first."""
        items = sorted(self._heap)
        return [
            (w.mention, w.classification, w.due_at)
            for _, _, mid in items
            if (w := self._waiting.get(mid)) is not None
        ]

    @property
    def clock(self) -> datetime | None:
        """The latest moment the router has seen; it never moves backwards."""
        return self._clock

    def is_decided(self, mention_id: str) -> bool:
        return mention_id in self._decided

    # -- routing -------------------------------------------------------------------------

    def route(
        self, mention: Mention, classification: Classification, now: datetime
    ) -> list[Decision]:
        """Decide ``mention`` at ``now``: first whatever the passage of time decides, then it."""
        decisions = self.tick(now)
        if mention.id in self._decided:
            return decisions
        now = self._clock or now
        need = self._need(mention, classification)
        due_at = mention.created_at + timedelta(
            minutes=self.taxonomy.sla_minutes(classification.urgency)
        )
        self._decided[mention.id] = due_at
        if mention.author.handle.lower() in self._own_handles:
            reason = f"authored by an employee account ({mention.author.handle})"
            decisions.append(self._not_assigned("rejected", mention, classification, now, reason))
            return decisions
        candidates = self._candidates_for(need)
        if not candidates:
            reason = "no one on the roster can take it: " + self._structural_reasons(need)
            decisions.append(self._not_assigned("escalated", mention, classification, now, reason))
            return decisions
        if due_at <= now:
            reason = "SLA had already passed on arrival"
            decisions.append(self._not_assigned("escalated", mention, classification, now, reason))
            return decisions
        chosen = self._choose(candidates, need, now)
        if chosen is not None:
            decisions.append(self._assign(chosen, mention, classification, need, now, due_at))
            return decisions
        reason = f"none of {len(candidates)} candidates available: " + self._availability_reasons(
            candidates, need, now
        )
        self._enqueue(_Waiting(mention, classification, need, due_at))
        decisions.append(self._not_assigned("backlogged", mention, classification, now, reason))
        return decisions

    def tick(self, now: datetime) -> list[Decision]:
        """Let time pass: escalate backlog items past their SLA, retry when capacity freed up."""
        if self._clock is not None and now <= self._clock:
            now = self._clock
        self._clock = now
        decisions = self._escalate_expired(now)
        if self._waiting and (self._next_capacity is None or now >= self._next_capacity):
            decisions.extend(self._drain(now))
            self._next_capacity = self._capacity_event_after(now)
        self._forget_old(now)
        return decisions

    def _escalate_expired(self, now: datetime) -> list[Decision]:
        decisions = []
        while self._heap and self._heap[0][0] <= now:
            _, _, mention_id = heapq.heappop(self._heap)
            waiting = self._waiting.pop(mention_id, None)
            if waiting is None:
                continue
            sla = self.taxonomy.sla_minutes(waiting.classification.urgency)
            reason = f"SLA of {sla:g} min passed with nobody available"
            decisions.append(
                self._not_assigned(
                    "escalated", waiting.mention, waiting.classification, now, reason
                )
            )
        return decisions

    def _drain(self, now: datetime) -> list[Decision]:
        decisions = []
        for _, _, mention_id in sorted(self._heap):
            waiting = self._waiting.get(mention_id)
            if waiting is None:
                continue
            chosen = self._choose(self._candidates_for(waiting.need), waiting.need, now)
            if chosen is None:
                continue
            del self._waiting[mention_id]
            decisions.append(
                self._assign(
                    chosen,
                    waiting.mention,
                    waiting.classification,
                    waiting.need,
                    now,
                    waiting.due_at,
                )
            )
        if decisions:
            self._heap = [item for item in self._heap if item[2] in self._waiting]
            heapq.heapify(self._heap)
        return decisions

    # -- rebuilding from the decision log --------------------------------------------------

    def apply(self, decision: Decision) -> None:
        """Fold a previously logged decision into the state, without deciding anything."""
        outcome = decision.outcome
        at = outcome.assigned_at if isinstance(outcome, Assignment) else outcome.decided_at
        if self._clock is None or at > self._clock:
            self._clock = at
            self._next_capacity = None
        self._decided.setdefault(outcome.mention_id, outcome.due_at)
        if isinstance(outcome, Assignment):
            self._waiting.pop(outcome.mention_id, None)
            self.ledger.adjust(outcome.employee_id, outcome.assigned_at, outcome.estimated_minutes)
        elif outcome.status == "backlogged" and decision.mention and decision.classification:
            need = self._need(decision.mention, decision.classification)
            self._enqueue(_Waiting(decision.mention, decision.classification, need, outcome.due_at))
        else:
            self._waiting.pop(outcome.mention_id, None)

    def rebuild(self, decisions: Iterable[Decision]) -> int:
        count = 0
        for decision in decisions:
            self.apply(decision)
            count += 1
        self._heap = [item for item in self._heap if item[2] in self._waiting]
        heapq.heapify(self._heap)
        return count

    # -- internals -----------------------------------------------------------------------

    def _need(self, mention: Mention, classification: Classification) -> Need:
        return Need(
            platform=mention.platform,
            language=classification.language,
            topic=classification.topic,
            minutes=self.taxonomy.handling_minutes(classification.topic),
        )

    def _candidates_for(self, need: Need) -> tuple[Employee, ...]:
        key = (need.platform, need.language, need.topic)
        found = self._candidates.get(key)
        if found is None:
            fits = [e for e in self.roster if structural_gap(e, need) is None]
            found = tuple(sorted(fits, key=lambda e: (-e.skills[need.topic], e.id)))
            self._candidates[key] = found
        return found

    def _choose(
        self, candidates: tuple[Employee, ...], need: Need, now: datetime
    ) -> Employee | None:
        """Highest proficiency among the available; ties go to the most budget left (share)."""
        best: Employee | None = None
        best_share = -1.0
        for employee in candidates:
            if best is not None and employee.skills[need.topic] < best.skills[need.topic]:
                break
            if availability_gap(employee, need, self.ledger, now) is not None:
                continue
            share = self.ledger.remaining(employee.id, now) / employee.budget_minutes_per_day
            if share > best_share:
                best, best_share = employee, share
        return best

    def _assign(
        self,
        employee: Employee,
        mention: Mention,
        classification: Classification,
        need: Need,
        now: datetime,
        due_at: datetime,
    ) -> Decision:
        self.ledger.spend(employee.id, now, need.minutes)
        score = employee.skills[need.topic] * self.taxonomy.weight(classification.urgency)
        assignment = Assignment(
            mention_id=mention.id,
            employee_id=employee.id,
            team=employee.team,
            platform=mention.platform,
            account=employee.accounts[mention.platform],
            topic=classification.topic,
            urgency=classification.urgency,
            language=classification.language,
            score=round(score, 6),
            estimated_minutes=need.minutes,
            created_at=mention.created_at,
            assigned_at=now,
            due_at=due_at,
        )
        return Decision(outcome=assignment)

    def _not_assigned(
        self,
        status: NotAssignedStatus,
        mention: Mention,
        classification: Classification,
        now: datetime,
        reason: str,
    ) -> Decision:
        """The outcome for a mention nobody takes; a backlogged one keeps what rebuilding needs."""
        sla = timedelta(minutes=self.taxonomy.sla_minutes(classification.urgency))
        outcome = NotAssigned(
            status=status,
            mention_id=mention.id,
            platform=mention.platform,
            topic=classification.topic,
            urgency=classification.urgency,
            language=classification.language,
            reason=reason,
            created_at=mention.created_at,
            decided_at=now,
            due_at=mention.created_at + sla,
        )
        if status == "backlogged":
            return Decision(outcome=outcome, mention=mention, classification=classification)
        return Decision(outcome=outcome)

    def _enqueue(self, waiting: _Waiting) -> None:
        self._waiting[waiting.mention.id] = waiting
        heapq.heappush(self._heap, (waiting.due_at, self._seq, waiting.mention.id))
        self._seq += 1

    def _structural_reasons(self, need: Need) -> str:
        counts = Counter(structural_gap(e, need) or "" for e in self.roster)
        return _summarize(counts)

    def _availability_reasons(
        self, candidates: Iterable[Employee], need: Need, now: datetime
    ) -> str:
        counts = Counter(availability_gap(e, need, self.ledger, now) or "" for e in candidates)
        return _summarize(counts)

    def _capacity_event_after(self, now: datetime) -> datetime:
        """The next moment someone's hours begin or someone's budget day resets."""
        events = []
        for employee in self.roster:
            local = now.astimezone(employee.zone)
            tomorrow = local + timedelta(days=1)
            midnight = tomorrow.replace(hour=0, minute=0, second=0, microsecond=0)
            events.append(min(employee.hours.next_start(local), midnight))
        return min(events)

    def _forget_old(self, now: datetime) -> None:
        if len(self._decided) < 100_000:
            return
        horizon = now - DEDUP_RETENTION
        self._decided = {m: due for m, due in self._decided.items() if due >= horizon}


def _summarize(counts: Counter[str]) -> str:
    """``"3 outside working hours; 2 not enough budget left"``: counts per kind of reason.

    A kind given with one detail only keeps it: ``"1 not enough budget left (5 min < 10 min)"``.
    """
    details: dict[str, set[str]] = {}
    kinds: Counter[str] = Counter()
    for why, n in counts.items():
        kind = why.split(" (")[0]
        kinds[kind] += n
        details.setdefault(kind, set()).add(why)
    counts = Counter(
        {(next(iter(details[k])) if len(details[k]) == 1 else k): n for k, n in kinds.items()}
    )
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{n} {why}" for why, n in ranked if why]
    return "; ".join(parts) if parts else "roster is empty"


def is_terminal(outcome: Outcome) -> bool:
    """Assigned, escalated and rejected are final; backlogged may still change."""
    return outcome.status != "backlogged"


__all__ = ["Decision", "Router", "is_terminal"]
