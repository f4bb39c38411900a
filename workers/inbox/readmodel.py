"""The inbox's read model: the decision log folded into who holds what, and the team's books.

It is rebuilt by reading the ``decisions`` topic from the start, so it shows exactly what the
router decided and what people reported, budgets included (the same corrections the router
applies to its ledger are applied here).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from routing.decisions import Audit, Decision, Feedback
from routing.ledger import BudgetLedger
from routing.models import Assignment, Classification, Employee, Mention, NotAssigned

State = Literal[
    "assigned", "accepted", "done", "declined", "timed_out", "reassigned",
    "backlogged", "escalated", "rejected",
]  # fmt: skip
OPEN: frozenset[str] = frozenset({"assigned", "accepted"})


@dataclass
class Item:
    """One mention as the inbox knows it: its latest outcome and what happened to it since."""

    outcome: Assignment | NotAssigned
    mention: Mention | None
    classification: Classification | None
    audit: Audit | None
    state: State
    labels: dict[str, str] = field(default_factory=dict)  # people's corrections of the tags
    finished_at: datetime | None = None
    minutes: float | None = None

    @property
    def mention_id(self) -> str:
        return self.outcome.mention_id

    @property
    def holder(self) -> str | None:
        """Whose assignment it is while open."""
        if isinstance(self.outcome, Assignment) and self.state in OPEN:
            return self.outcome.employee_id
        return None


class InboxModel:
    """Items by mention id, open ones indexed by holder, the budget ledger and SLA tallies."""

    def __init__(self, employees: tuple[Employee, ...]) -> None:
        self.lock = threading.RLock()
        self.ledger = BudgetLedger(employees)
        self.items: dict[str, Item] = {}
        self.by_holder: dict[str, dict[str, Item]] = defaultdict(dict)
        # (team, urgency, UTC day of the deadline) -> [answered in time, answered]
        self.answered: dict[tuple[str, str, date], list[int]] = defaultdict(lambda: [0, 0])
        self.version = 0
        self.clock: datetime | None = None

    def apply(self, decision: Decision) -> Item | None:
        """Fold one logged decision in; returns the item when it is a new assignment."""
        with self.lock:
            self.version += 1
            if decision.feedback is not None:
                self._feedback(decision.feedback)
                return None
            return self._outcome(decision)

    def open_of(self, employee_id: str) -> Iterator[Item]:
        return iter(list(self.by_holder.get(employee_id, {}).values()))

    def _outcome(self, decision: Decision) -> Item | None:
        outcome = decision.outcome
        assert outcome is not None
        self._advance(
            outcome.assigned_at if isinstance(outcome, Assignment) else outcome.decided_at
        )
        previous = self.items.get(outcome.mention_id)
        self._release(previous)
        item = Item(
            outcome,
            decision.mention or (previous.mention if previous else None),
            decision.classification or (previous.classification if previous else None),
            decision.audit,
            "assigned" if isinstance(outcome, Assignment) else outcome.status,
            labels=previous.labels if previous else {},
        )
        self.items[outcome.mention_id] = item
        if isinstance(outcome, Assignment):
            self.ledger.adjust(outcome.employee_id, outcome.assigned_at, outcome.estimated_minutes)
            self.by_holder[outcome.employee_id][outcome.mention_id] = item
            return item
        return None

    def _feedback(self, feedback: Feedback) -> None:
        self._advance(feedback.at)
        item = self.items.get(feedback.mention_id)
        if item is None or not isinstance(item.outcome, Assignment):
            return
        if feedback.kind == "corrected":
            item.labels.update(feedback.labels or {})
            return
        if item.holder != feedback.employee_id:
            return  # feedback on an assignment already closed: the router ignored it too
        a = item.outcome
        if feedback.kind == "accepted":
            item.state = "accepted"
        elif feedback.kind == "done":
            minutes = feedback.minutes or 0.0
            self.ledger.adjust(a.employee_id, a.assigned_at, minutes - a.estimated_minutes)
            self._release(item)
            item.state, item.finished_at, item.minutes = "done", feedback.at, minutes
            tally = self.answered[(a.team, a.urgency.value, a.due_at.date())]
            tally[0] += feedback.at <= a.due_at
            tally[1] += 1
        else:  # declined, timed out or reassigned: the time goes back
            self.ledger.adjust(a.employee_id, a.assigned_at, -a.estimated_minutes)
            self._release(item)
            item.state = feedback.kind

    def _release(self, item: Item | None) -> None:
        if item is not None and item.holder is not None:
            self.by_holder[item.holder].pop(item.mention_id, None)

    def _advance(self, at: datetime) -> None:
        if self.clock is None or at > self.clock:
            self.clock = at
