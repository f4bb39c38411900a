"""The book of handed-out mentions: open assignments, escalations and sticky conversations."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from routing.backlog import Waiting
from routing.decisions import Decision, Feedback
from routing.ledger import BudgetLedger
from routing.models import Assignment, Classification, Mention


@dataclass(slots=True)
class Open:
    """An assignment awaiting its employee's feedback, and who declined the mention before."""

    assignment: Assignment
    mention: Mention
    classification: Classification
    accepted: bool = False
    declined_by: frozenset[str] = frozenset()


class AssignmentBook:
    """What was handed to whom: feedback settles it against the budget ledger."""

    def __init__(
        self, ledger: BudgetLedger, sticky_window: timedelta, accept_timeout: timedelta | None
    ) -> None:
        self.ledger = ledger
        self.open: dict[str, Open] = {}
        self.escalated: dict[str, Waiting] = {}  # kept so a lead can still hand them out
        self._sticky: dict[str, tuple[str, datetime]] = {}
        self._sticky_window = sticky_window
        self._accept_timeout = accept_timeout
        self._timeouts: list[tuple[datetime, str]] = []

    def own(self, mention_id: str, employee_id: str) -> Open:
        opened = self.open.get(mention_id)
        if opened is None or opened.assignment.employee_id != employee_id:
            raise KeyError(f"{mention_id} is not an open assignment of {employee_id}")
        return opened

    def track(self, decision: Decision, declined_by: frozenset[str] = frozenset()) -> None:
        """Remember an assignment as open (for feedback) and its conversation as sticky."""
        assignment = decision.outcome
        assert isinstance(assignment, Assignment)
        if decision.mention is not None and decision.classification is not None:
            self.open[assignment.mention_id] = Open(
                assignment, decision.mention, decision.classification, declined_by=declined_by
            )
            for key in sticky_keys(decision.mention):
                self._sticky[key] = (assignment.employee_id, assignment.assigned_at)
        if self._accept_timeout is not None:
            due = assignment.assigned_at + self._accept_timeout
            heapq.heappush(self._timeouts, (due, assignment.mention_id))

    def settle(self, feedback: Feedback, opened: Open) -> None:
        """Fold an employee's feedback into the open assignment and the ledger."""
        assignment = opened.assignment
        if feedback.kind == "corrected":
            return  # labels for retraining; the assignment and its budget stand
        if feedback.kind == "reassigned":  # the time goes back; the new assignment books its own
            self.ledger.adjust(
                assignment.employee_id, assignment.assigned_at, -assignment.estimated_minutes
            )
            self.open.pop(feedback.mention_id, None)
        elif feedback.kind == "accepted":
            opened.accepted = True
        elif feedback.kind == "done":
            actual = feedback.minutes if feedback.minutes is not None else 0.0
            self.ledger.adjust(
                assignment.employee_id,
                assignment.assigned_at,
                actual - assignment.estimated_minutes,
            )
            self.open.pop(feedback.mention_id, None)
        else:  # declined or timed out: the time is given back, the mention goes elsewhere
            self.ledger.adjust(
                assignment.employee_id, assignment.assigned_at, -assignment.estimated_minutes
            )
            opened.declined_by = opened.declined_by | {feedback.employee_id}

    def next_timeout(self, now: datetime) -> Feedback | None:
        """The next assignment not accepted in time by ``now``, as its feedback, if any."""
        while self._timeouts and self._timeouts[0][0] <= now:
            at, mention_id = heapq.heappop(self._timeouts)
            opened = self.open.get(mention_id)
            if opened is None or opened.accepted or opened.assignment.assigned_at > at:
                continue
            return Feedback(
                kind="timed_out",
                mention_id=mention_id,
                employee_id=opened.assignment.employee_id,
                at=at,
                reason="not accepted in time",
            )
        return None

    def answered_before(self, mention: Mention, now: datetime) -> Iterator[tuple[str, str]]:
        """Who answered this conversation or author within the window: (employee, which)."""
        window = self._sticky_window
        for key in sticky_keys(mention):
            previous = self._sticky.get(key)
            if previous is not None and now - previous[1] <= window:
                yield previous[0], key.split(":", 1)[0]

    def prune(self, horizon: datetime) -> None:
        """Forget what was due before ``horizon``."""
        self.open = {m: o for m, o in self.open.items() if o.assignment.due_at >= horizon}
        self._sticky = {k: v for k, v in self._sticky.items() if v[1] >= horizon}
        self.escalated = {m: w for m, w in self.escalated.items() if w.due_at >= horizon}


def sticky_keys(mention: Mention) -> list[str]:
    keys = []
    if mention.conversation_id:
        keys.append(f"conversation:{mention.conversation_id}")
    keys.append(f"author:{mention.platform}:{mention.author.id}")
    return keys
