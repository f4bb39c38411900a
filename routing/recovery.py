"""Rebuilding a router from its decision log, without deciding anything again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from routing.backlog import Waiting
from routing.decisions import Decision
from routing.models import Assignment, NotAssigned
from routing.parts import RouterParts


class Recovery(RouterParts):
    """``apply`` and ``rebuild``, mixed into ``Router``.

    A mixin, not a collaborator: folding a logged decision back touches every part of the
    router's state (clock, capacity events, backlog, ledger, book, price learner) at once.
    """

    def apply(self, decision: Decision) -> None:
        """Fold a previously logged decision into the state, without deciding anything."""
        if decision.feedback is not None:
            opened = self._book.open.get(decision.feedback.mention_id)
            if opened is not None:
                self._book.settle(decision.feedback, opened)
            self._advance_clock(decision.feedback.at)
            return
        outcome = decision.outcome
        assert outcome is not None
        at = outcome.assigned_at if isinstance(outcome, Assignment) else outcome.decided_at
        self._advance_clock(at)
        if outcome.mention_id not in self._decided and decision.mention and decision.classification:
            need = self._catalogue.need(decision.mention, decision.classification)
            self._tutor.learn(
                decision.mention,
                decision.classification,
                need,
                self._catalogue.candidates_for(need),
            )
        self._decided.setdefault(outcome.mention_id, outcome.due_at)
        if isinstance(outcome, Assignment):
            self._apply_assignment(decision, outcome)
        else:
            self._apply_not_assigned(decision, outcome)

    def rebuild(self, decisions: Iterable[Decision]) -> int:
        count = 0
        for decision in decisions:
            self.apply(decision)
            count += 1
        self._backlog.compact()
        return count

    def _apply_assignment(self, decision: Decision, outcome: Assignment) -> None:
        self._backlog.take(outcome.mention_id)
        self._book.escalated.pop(outcome.mention_id, None)
        self.ledger.adjust(outcome.employee_id, outcome.assigned_at, outcome.estimated_minutes)
        previous = self._book.open.get(outcome.mention_id)
        self._book.track(decision, previous.declined_by if previous else frozenset())

    def _apply_not_assigned(self, decision: Decision, outcome: NotAssigned) -> None:
        if outcome.status == "backlogged" and decision.mention and decision.classification:
            if outcome.mention_id not in self._backlog:
                need = self._catalogue.need(decision.mention, decision.classification)
                excluded = self._book.open.pop(outcome.mention_id, None)
                declined = excluded.declined_by if excluded else frozenset()
                waiting = Waiting(
                    decision.mention, decision.classification, need, outcome.due_at, declined
                )
                self._enqueue(waiting)
            return
        self._backlog.take(outcome.mention_id)
        self._book.open.pop(outcome.mention_id, None)
        if outcome.status == "escalated" and decision.mention and decision.classification:
            need = self._catalogue.need(decision.mention, decision.classification)
            self._book.escalated[outcome.mention_id] = Waiting(
                decision.mention, decision.classification, need, outcome.due_at
            )

    def _advance_clock(self, at: datetime) -> None:
        """Move a rebuilding router's clock; the capacity events the original visited on the
        way (and that left nothing in the log) are stepped over, not visited again later."""
        if self._clock is None or at > self._clock:
            self._clock = at
        while self._backlog and self._next_capacity is not None and self._next_capacity <= at:
            self._next_capacity = self._capacity_event_after(self._next_capacity)
        if self._backlog and self._next_plan is not None and self._next_plan <= at:
            self._next_plan = self.plan.next_epoch(at)
