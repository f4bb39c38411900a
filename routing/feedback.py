"""People's feedback on their assignments: accepted, done, declined, timed out, reassigned."""

from __future__ import annotations

from datetime import datetime

from routing.assignments import Open
from routing.backlog import Waiting
from routing.decisions import Audit, Decision, Feedback
from routing.parts import RouterParts


class FeedbackFlow(RouterParts):
    """The router's answers to feedback, mixed into ``Router``.

    A mixin, not a collaborator: a decline or a timeout re-enters the router's own decision
    flow (let time pass, offer the mention again, escalate, drain the backlog).
    """

    def accept(self, mention_id: str, employee_id: str, now: datetime) -> list[Decision]:
        """The employee accepted the assignment: it is no longer taken back on a timeout."""
        self._book.own(mention_id, employee_id).accepted = True
        return [
            Decision(
                feedback=Feedback(
                    kind="accepted", mention_id=mention_id, employee_id=employee_id, at=now
                )
            )
        ]

    def done(
        self, mention_id: str, employee_id: str, minutes: float, now: datetime
    ) -> list[Decision]:
        """Answered, in ``minutes``: the ledger is corrected by the difference from the estimate."""
        opened = self._book.own(mention_id, employee_id)
        feedback = Feedback(
            kind="done", mention_id=mention_id, employee_id=employee_id, at=now, minutes=minutes
        )
        self._book.settle(feedback, opened)
        return [Decision(feedback=feedback)]

    def decline(
        self, mention_id: str, employee_id: str, reason: str, now: datetime
    ) -> list[Decision]:
        """The employee cannot take it: give the time back and route it to someone else."""
        self._book.own(mention_id, employee_id)
        feedback = Feedback(
            kind="declined", mention_id=mention_id, employee_id=employee_id, at=now, reason=reason
        )
        return self.tick(now) + self._reroute(feedback)

    def reassign(
        self, mention_id: str, to_employee_id: str, by: str, now: datetime, reason: str = ""
    ) -> list[Decision]:
        """A lead hands a mention to ``to_employee_id`` by hand: an open assignment (its time
        given back first), a waiting or an escalated one. Hours and budget are the lead's call.
        """
        target = self._by_id.get(to_employee_id)
        if target is None:
            raise KeyError(f"{to_employee_id} is not on the roster")
        decisions = self.tick(now)
        now = self._clock or now
        opened = self._book.open.get(mention_id)
        waiting = self._handed_back(mention_id, opened)
        if opened is not None and opened.assignment.employee_id == to_employee_id:
            raise ValueError(f"{mention_id} is already assigned to {to_employee_id}")
        if waiting.mention.platform not in target.accounts:
            raise ValueError(f"{to_employee_id} has no account on {waiting.mention.platform}")
        if opened is not None:
            feedback = Feedback(
                kind="reassigned",
                mention_id=mention_id,
                employee_id=opened.assignment.employee_id,
                at=now,
                reason=reason,
                by=by,
            )
            self._book.settle(feedback, opened)
            decisions.append(Decision(feedback=feedback))
        self._backlog.take(mention_id)
        self._book.escalated.pop(mention_id, None)
        note = f"reassigned by hand by {by}" + (f": {reason}" if reason else "")
        audit = Audit(policy="manual", chosen=to_employee_id, note=note)
        decisions.append(self._assign(target, waiting, now, audit, by_hand=True))
        return decisions

    def _handed_back(self, mention_id: str, opened: Open | None) -> Waiting:
        """The mention a lead may hand out: open, waiting or escalated."""
        waiting = (
            self._waiting_of(opened)
            if opened is not None
            else self._backlog.get(mention_id) or self._book.escalated.get(mention_id)
        )
        if waiting is None:
            raise KeyError(f"{mention_id} is neither open, waiting nor escalated")
        return waiting

    def _waiting_of(self, opened: Open, declined_by: frozenset[str] | None = None) -> Waiting:
        return Waiting(
            opened.mention,
            opened.classification,
            self._catalogue.need(opened.mention, opened.classification),
            opened.assignment.due_at,
            excluded=opened.declined_by if declined_by is None else declined_by,
        )

    def _reroute(self, feedback: Feedback) -> list[Decision]:
        opened = self._book.open[feedback.mention_id]
        self._book.settle(feedback, opened)
        now = self._clock or feedback.at
        declined_by = opened.declined_by | {feedback.employee_id}
        waiting = self._waiting_of(opened, declined_by)
        del self._book.open[feedback.mention_id]
        decisions = [Decision(feedback=feedback)]
        if len(declined_by) >= self.options.max_declines:
            reason = f"declined {len(declined_by)} times ({feedback.reason or feedback.kind})"
            decisions.append(
                self._escalate(opened.mention, opened.classification, waiting.need, now, reason)
            )
            return decisions
        decisions.append(self._arrive(waiting, now))
        return decisions + self._drain(now)  # the time given back may serve the backlog

    def _timeouts_until(self, now: datetime) -> list[Decision]:
        decisions: list[Decision] = []
        while (feedback := self._book.next_timeout(now)) is not None:
            decisions += self._reroute(feedback)
        return decisions
