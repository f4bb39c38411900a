"""The router: assign each classified mention to the best eligible employee, or backlog it."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from routing.backlog import Backlog, Waiting, next_capacity_event
from routing.decisions import Audit, Candidate, Decision, Feedback
from routing.eligibility import DutyRoster, Need, availability_gap, structural_gap
from routing.ledger import BudgetLedger
from routing.models import (
    Assignment,
    Classification,
    Employee,
    Mention,
    NotAssigned,
    NotAssignedStatus,
    Taxonomy,
    Urgency,
)
from routing.outcomes import assignment, not_assigned
from routing.policies import Offer, Policy, make_policy
from routing.prices import Arrival, PriceBook

# How long decided ids, open assignments and sticky pairs are kept beyond their deadline.
RETENTION = timedelta(days=2)
_PRUNE_EVERY = 5_000
_AUDITED_KEPT = 50_000
_LEARN_OPTIONS = 16  # who the price learner sees competing for a mention, best first


@dataclass(frozen=True)
class RouterOptions:
    """Tunable behaviour; the defaults suit a replay (assignments count as accepted)."""

    policy: str = "adaptive"
    # A waiting mention gets its last chance this fraction of its SLA before the deadline;
    # if nobody can take it then, it is escalated before the SLA passes.
    escalation_lead: float = 0.1
    escalation_targets: Mapping[str, str] = field(default_factory=dict)  # team -> target
    default_escalation_target: str = "team-lead"
    stickiness_minutes: float = 24 * 60
    accept_timeout_minutes: float | None = None
    max_declines: int = 2
    audit_limit: int = 5
    # Minutes before a shift ends when the employee's unspent budget goes to waiting mentions.
    wind_down_minutes: int = 45
    # A mention that can wait this long may be held for budget that would otherwise go unused.
    flexible_hours: float = 8.0


@dataclass(slots=True)
class _Open:
    assignment: Assignment
    mention: Mention
    classification: Classification
    accepted: bool = False
    declined_by: frozenset[str] = frozenset()


class Router:
    """Stateful, deterministic router. ``now`` is always an argument; it never reads a clock.

    State: the budget ledger, the backlog ordered by deadline, open assignments, sticky
    conversations and the ids already decided (so a redelivered mention is not routed twice).
    ``apply`` folds a logged ``Decision`` back into that state, which is how a restarted router
    rebuilds itself from the decision log.
    """

    def __init__(
        self,
        roster: Sequence[Employee],
        taxonomy: Taxonomy,
        options: RouterOptions | None = None,
    ) -> None:
        self.roster = tuple(sorted(roster, key=lambda e: e.id))
        self.taxonomy = taxonomy
        self.options = options or RouterOptions()
        self.ledger = BudgetLedger(self.roster)
        self.prices = PriceBook(self.roster)
        self.policy: Policy = make_policy(self.options.policy, self.roster, self.prices)
        self._by_id = {e.id: e for e in self.roster}
        self._own_handles = {h.lower() for e in self.roster for h in e.accounts.values()}
        self._candidates: dict[tuple[str, str, str], tuple[Employee, ...]] = {}
        self._gaps: dict[tuple[str, str, str], dict[str, int]] = {}
        self._candidate_ids: dict[tuple[str, str, str], frozenset[str]] = {}
        self._backlog = Backlog()
        self._decided: dict[str, datetime] = {}
        self._open: dict[str, _Open] = {}
        self._escalated: dict[str, Waiting] = {}  # kept so a lead can still hand them out
        self._timeouts: list[tuple[datetime, str]] = []
        self._sticky: dict[str, tuple[str, datetime]] = {}
        self._clock: datetime | None = None
        self._next_capacity: datetime | None = None
        self._winding_down: frozenset[str] = frozenset()
        self._duty = DutyRoster()
        self._learning_duty = DutyRoster()  # asked about arrival times, not the clock
        self._needs: dict[tuple[str, str, str], Need] = {}
        self._slas: dict[Urgency, tuple[timedelta, timedelta]] = {}
        self._audited: dict[tuple[str, float, str | None], Candidate] = {}
        self._audits: dict[tuple[Any, ...], Audit] = {}
        self._reasons: dict[tuple[int, int], tuple[Audit, str]] = {}
        self._options: dict[tuple[tuple[str, str, str], Urgency], tuple[Any, Any]] = {}
        self._sticky_window = timedelta(minutes=self.options.stickiness_minutes)
        self._flexible = timedelta(hours=min(self.options.flexible_hours, 1e6))
        self._since_prune = 0

    # -- queries -------------------------------------------------------------------------

    @property
    def backlog_size(self) -> int:
        return len(self._backlog)

    @property
    def clock(self) -> datetime | None:
        """The latest moment the router has seen; it never moves backwards."""
        return self._clock

    def backlog(self) -> list[tuple[Mention, Classification, datetime]]:
        """Waiting mentions, most pressing deadline first."""
        waiting = sorted(self._backlog.values(), key=lambda w: (w.due_at, w.mention.id))
        return [(w.mention, w.classification, w.due_at) for w in waiting]

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
        due_at = self._due(mention, classification)
        self._decided[mention.id] = due_at
        if mention.author.handle.lower() in self._own_handles:
            reason = f"authored by an employee account ({mention.author.handle})"
            decisions.append(self._not_assigned("rejected", mention, classification, now, reason))
            return decisions
        candidates = self._candidates_for(need)
        if not candidates:
            reason = "no one on the roster can take it: " + _summarize(self._gaps[_key(need)])
            decisions.append(self._escalate(mention, classification, need, now, reason))
            return decisions
        if self._last_chance(due_at, classification) <= now:
            reason = "its SLA had (nearly) passed on arrival"
            decisions.append(self._escalate(mention, classification, need, now, reason))
            return decisions
        self._learn(mention, classification, need, candidates)
        waiting = Waiting(mention, classification, need, due_at)
        decisions.append(self._arrive(waiting, now))
        return decisions

    def tick(self, now: datetime) -> list[Decision]:
        """Let time pass up to ``now``: timeouts, capacity freeing up, last chances, escalations.

        Capacity events (someone's hours begin, a budget day resets) between the previous
        moment and ``now`` are visited in order, so a quiet spell in the stream does not skip
        a morning in which the backlog could have been assigned.
        """
        if self._clock is not None and now < self._clock:
            now = self._clock
        decisions: list[Decision] = []
        while self._backlog:
            last_chance = self._backlog.next_last_chance()
            moments = [t for t in (last_chance, self._next_capacity) if t is not None]
            if not moments or min(moments) > now:
                break
            at = max(min(moments), self._clock) if self._clock is not None else min(moments)
            self._clock = at
            if last_chance is not None and last_chance <= at:
                decisions += self._expire(at)
            if self._next_capacity is not None and self._next_capacity <= at:
                decisions += self._wind_down(at)
                decisions += self._drain(at)
                self._next_capacity = self._capacity_event_after(at)
        self._clock = now
        decisions += self._timeouts_until(now)
        if (due := self._backlog.next_last_chance()) is not None and due <= now:
            decisions += self._expire(now)
        self._prune(now)
        return decisions

    # -- people's feedback ---------------------------------------------------------------

    def accept(self, mention_id: str, employee_id: str, now: datetime) -> list[Decision]:
        """The employee accepted the assignment: it is no longer taken back on a timeout."""
        self._own(mention_id, employee_id).accepted = True
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
        opened = self._own(mention_id, employee_id)
        feedback = Feedback(
            kind="done", mention_id=mention_id, employee_id=employee_id, at=now, minutes=minutes
        )
        self._apply_feedback(feedback, opened)
        return [Decision(feedback=feedback)]

    def decline(
        self, mention_id: str, employee_id: str, reason: str, now: datetime
    ) -> list[Decision]:
        """The employee cannot take it: give the time back and route it to someone else."""
        self._own(mention_id, employee_id)
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
        opened = self._open.get(mention_id)
        waiting = (
            self._waiting_of(opened)
            if opened is not None
            else self._backlog.get(mention_id) or self._escalated.get(mention_id)
        )
        if waiting is None:
            raise KeyError(f"{mention_id} is neither open, waiting nor escalated")
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
            self._apply_feedback(feedback, opened)
            decisions.append(Decision(feedback=feedback))
        self._backlog.take(mention_id)
        self._escalated.pop(mention_id, None)
        note = f"reassigned by hand by {by}" + (f": {reason}" if reason else "")
        audit = Audit(policy="manual", chosen=to_employee_id, note=note)
        decisions.append(self._assign(target, waiting, now, audit, by_hand=True))
        return decisions

    def _waiting_of(self, opened: _Open) -> Waiting:
        return Waiting(
            opened.mention,
            opened.classification,
            self._need(opened.mention, opened.classification),
            opened.assignment.due_at,
            excluded=opened.declined_by,
        )

    def _own(self, mention_id: str, employee_id: str) -> _Open:
        opened = self._open.get(mention_id)
        if opened is None or opened.assignment.employee_id != employee_id:
            raise KeyError(f"{mention_id} is not an open assignment of {employee_id}")
        return opened

    def _reroute(self, feedback: Feedback) -> list[Decision]:
        opened = self._open[feedback.mention_id]
        self._apply_feedback(feedback, opened)
        now = self._clock or feedback.at
        declined_by = opened.declined_by | {feedback.employee_id}
        waiting = Waiting(
            opened.mention,
            opened.classification,
            self._need(opened.mention, opened.classification),
            opened.assignment.due_at,
            excluded=declined_by,
        )
        del self._open[feedback.mention_id]
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
        while self._timeouts and self._timeouts[0][0] <= now:
            at, mention_id = heapq.heappop(self._timeouts)
            opened = self._open.get(mention_id)
            if opened is None or opened.accepted or opened.assignment.assigned_at > at:
                continue
            feedback = Feedback(
                kind="timed_out",
                mention_id=mention_id,
                employee_id=opened.assignment.employee_id,
                at=at,
                reason="not accepted in time",
            )
            decisions += self._reroute(feedback)
        return decisions

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
            options: list[tuple[float, datetime, str, Waiting]] = []
            for waiting in self._backlog.values():
                need = waiting.need
                if employee_id in waiting.excluded or employee_id not in self._ids_for(need):
                    continue
                weight = self.taxonomy.weight(waiting.classification.urgency)
                value = employee.skills[need.topic] * weight
                options.append((-value / need.minutes, waiting.due_at, waiting.mention.id, waiting))
            for _, _, mention_id, waiting in sorted(options, key=lambda o: o[:3]):
                if (
                    availability_gap(employee, waiting.need, self.ledger, now, self._duty)
                    is not None
                ):
                    continue
                if self._better_later(waiting, employee, now):
                    continue
                weight = self.taxonomy.weight(waiting.classification.urgency)
                note = "the end of a shift: budget left would go unused"
                audit = self._audit(waiting.need, weight, now, [employee], employee, note)
                self._backlog.take(mention_id)
                decisions.append(self._assign(employee, waiting, now, audit))
                if self.ledger.remaining(employee_id, now) <= 0:
                    break
        self._winding_down = frozenset()
        return decisions

    def _better_later(self, waiting: Waiting, employee: Employee, now: datetime) -> bool:
        """Whether someone more proficient can still take it, now or before its last chance."""
        need = waiting.need
        deadline = self._last_chance(waiting.due_at, waiting.classification)
        mine = employee.skills[need.topic]
        for other in self._candidates_for(need):
            if other.skills[need.topic] <= mine:
                return False
            if other.id in waiting.excluded:
                continue
            opens = other.hours.next_open(now.astimezone(other.zone))
            if opens < deadline and self.ledger.can_spend(other.id, opens, need.minutes):
                return True
        return False

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

    # -- deciding one mention ------------------------------------------------------------

    def _offer(
        self,
        waiting: Waiting,
        now: datetime,
        *,
        arriving: bool = False,
        last_chance: bool = False,
        quiet: bool = False,
    ) -> Decision | None:
        """Offer a mention to its candidates: assign it, or backlog it (None when ``quiet``)."""
        mention, classification, need = waiting.mention, waiting.classification, waiting.need
        weight = self.taxonomy.weight(classification.urgency)
        deadline = self._last_chance(waiting.due_at, classification)
        flexible = deadline - now > self._flexible
        offer = Offer(
            need, weight, now, last_chance=last_chance, deadline=deadline, flexible=flexible
        )
        candidates: Sequence[Employee] = self._candidates_for(need)
        if waiting.excluded:
            candidates = [e for e in candidates if e.id not in waiting.excluded]
        chosen, note = self._sticky_choice(mention, need, now, waiting.excluded)
        if chosen is None:
            chosen, note = self.policy.choose(
                offer, candidates, self.ledger, self._available(need, now)
            )
        if chosen is None and quiet:
            return None
        audit = self._audit(need, weight, now, candidates, chosen, note)
        if chosen is not None:
            self.policy.assigned(chosen, offer)
            return self._assign(chosen, waiting, now, audit)
        reason = self._backlog_reason(audit, len(candidates))
        if arriving:
            self._enqueue(waiting)
        return Decision(
            outcome=self._backlog_outcome(waiting, now, reason),
            mention=mention,
            classification=classification,
            audit=audit,
        )

    def _backlog_reason(self, audit: Audit, candidates: int) -> str:
        """Why nobody took it, from the audit (audits recur, and so do their reasons)."""
        known = self._reasons.get((id(audit), candidates))
        if known is not None and known[0] is audit:
            return known[1]
        ruled_out: dict[str, int] = {}  # not a Counter: its isinstance check is slow here
        for considered in audit.considered:
            if considered.ruled_out:
                kind = considered.ruled_out.split(" (")[0]
                ruled_out[kind] = ruled_out.get(kind, 0) + 1
        why = _summarize(ruled_out) if ruled_out else audit.note
        reason = f"none of {candidates} candidates taken now: {why}"
        if len(self._reasons) >= _AUDITED_KEPT:
            self._reasons.clear()
        self._reasons[(id(audit), candidates)] = (audit, reason)
        return reason

    def _nobody_available(
        self, waiting: Waiting, now: datetime, nobody: set[tuple[str, str, str, float]]
    ) -> bool:
        """Whether no candidate for this kind of mention is available now (remembered in
        ``nobody``: within one pass availability only shrinks, so a "nobody" stays true)."""
        need = waiting.need
        key = (*_key(need), need.minutes)
        if key in nobody:
            return True
        available = self._available(need, now)
        if any(available(e) for e in self._candidates_for(need) if e.id not in waiting.excluded):
            return False
        if not waiting.excluded:
            nobody.add(key)
        return True

    def _arrive(self, waiting: Waiting, now: datetime) -> Decision:
        decision = self._offer(waiting, now, arriving=True)
        assert decision is not None
        return decision

    def _available(self, need: Need, now: datetime) -> _Availability:
        return _Availability(self.ledger, need, now, self._duty)

    def _sticky_choice(
        self, mention: Mention, need: Need, now: datetime, excluded: frozenset[str]
    ) -> tuple[Employee | None, str]:
        """The employee who answered this conversation or author before, when still eligible."""
        window = self._sticky_window
        for key in _sticky_keys(mention):
            previous = self._sticky.get(key)
            if previous is None or now - previous[1] > window:
                continue
            employee = self._by_id.get(previous[0])
            if (
                employee is None
                or employee.id in excluded
                or employee.id not in self._ids_for(need)
            ):
                continue
            if availability_gap(employee, need, self.ledger, now, self._duty) is None:
                return employee, f"answered {key.split(':', 1)[0]} before"
        return None, ""

    def _assign(
        self,
        employee: Employee,
        waiting: Waiting,
        now: datetime,
        audit: Audit,
        by_hand: bool = False,
    ) -> Decision:
        mention, classification, need = waiting.mention, waiting.classification, waiting.need
        if by_hand:  # a lead's choice may go over budget; the ledger records it all the same
            self.ledger.adjust(employee.id, now, need.minutes)
        else:
            self.ledger.spend(employee.id, now, need.minutes)
        value = employee.skills[need.topic] * self.taxonomy.weight(classification.urgency)
        outcome = assignment(
            mention,
            classification,
            employee,
            value=value,
            minutes=need.minutes,
            at=now,
            due=waiting.due_at,
        )
        decision = Decision(
            outcome=outcome, mention=mention, classification=classification, audit=audit
        )
        self._track(decision, waiting.excluded)
        return decision

    def _track(self, decision: Decision, declined_by: frozenset[str] = frozenset()) -> None:
        """Remember an assignment as open (for feedback) and its conversation as sticky."""
        assignment = decision.outcome
        assert isinstance(assignment, Assignment)
        if decision.mention is not None and decision.classification is not None:
            self._open[assignment.mention_id] = _Open(
                assignment, decision.mention, decision.classification, declined_by=declined_by
            )
            for key in _sticky_keys(decision.mention):
                self._sticky[key] = (assignment.employee_id, assignment.assigned_at)
        timeout = self.options.accept_timeout_minutes
        if timeout is not None:
            due = assignment.assigned_at + timedelta(minutes=timeout)
            heapq.heappush(self._timeouts, (due, assignment.mention_id))

    def _escalate(
        self,
        mention: Mention,
        classification: Classification,
        need: Need,
        now: datetime,
        reason: str,
    ) -> Decision:
        best = next(iter(self._candidates_for(need)), None)
        targets = self.options.escalation_targets
        target = targets.get(best.team) if best is not None else None
        target = target or targets.get("*") or self.options.default_escalation_target
        self._escalated[mention.id] = Waiting(
            mention, classification, need, self._due(mention, classification)
        )
        logged = self._not_assigned("escalated", mention, classification, now, reason, target)
        # It carries its mention, so a lead can still hand it out after a restart.
        return Decision(outcome=logged.outcome, mention=mention, classification=classification)

    def _not_assigned(
        self,
        status: NotAssignedStatus,
        mention: Mention,
        classification: Classification,
        now: datetime,
        reason: str,
        escalated_to: str | None = None,
    ) -> Decision:
        due = self._due(mention, classification)
        outcome = not_assigned(
            status,
            mention,
            classification,
            reason=reason,
            at=now,
            due=due,
            escalated_to=escalated_to,
        )
        return Decision(outcome=outcome)

    def _backlog_outcome(self, waiting: Waiting, now: datetime, reason: str) -> NotAssigned:
        return not_assigned(
            "backlogged",
            waiting.mention,
            waiting.classification,
            reason=reason,
            at=now,
            due=waiting.due_at,
        )

    def _audit(
        self,
        need: Need,
        weight: float,
        now: datetime,
        candidates: Sequence[Employee],
        chosen: Employee | None,
        note: str,
    ) -> Audit:
        limit = self.options.audit_limit
        considered = []
        for employee in candidates[:limit]:
            value = round(employee.skills[need.topic] * weight, 6)
            gap = availability_gap(employee, need, self.ledger, now, self._duty)
            considered.append(self._candidate(employee.id, value, gap))
        key = (
            tuple(considered),
            max(0, len(candidates) - limit),
            _key(need),
            chosen.id if chosen is not None else None,
            note,
        )
        audit = self._audits.get(key)
        if audit is None:  # frozen and recurring, like the candidates: built once
            if len(self._audits) >= _AUDITED_KEPT:
                self._audits.clear()
            audit = self._audits[key] = Audit(
                policy=self.policy.name,
                considered=key[0],
                more_considered=key[1],
                not_considered=self._gaps[key[2]],
                chosen=key[3],
                note=note,
            )
        return audit

    def _candidate(self, employee_id: str, value: float, gap: str | None) -> Candidate:
        """Audit records are frozen and recur (same person, value and reason): build each once."""
        key = (employee_id, value, gap)
        found = self._audited.get(key)
        if found is None:
            if len(self._audited) >= _AUDITED_KEPT:
                self._audited.clear()
            found = self._audited[key] = Candidate(
                employee_id=employee_id, value=value, ruled_out=gap
            )
        return found

    # -- rebuilding from the decision log --------------------------------------------------

    def apply(self, decision: Decision) -> None:
        """Fold a previously logged decision into the state, without deciding anything."""
        if decision.feedback is not None:
            opened = self._open.get(decision.feedback.mention_id)
            if opened is not None:
                self._apply_feedback(decision.feedback, opened)
            self._advance_clock(decision.feedback.at)
            return
        outcome = decision.outcome
        assert outcome is not None
        at = outcome.assigned_at if isinstance(outcome, Assignment) else outcome.decided_at
        self._advance_clock(at)
        if outcome.mention_id not in self._decided and decision.mention and decision.classification:
            need = self._need(decision.mention, decision.classification)
            self._learn(decision.mention, decision.classification, need, self._candidates_for(need))
        self._decided.setdefault(outcome.mention_id, outcome.due_at)
        if isinstance(outcome, Assignment):
            self._backlog.take(outcome.mention_id)
            self._escalated.pop(outcome.mention_id, None)
            self.ledger.adjust(outcome.employee_id, outcome.assigned_at, outcome.estimated_minutes)
            previous = self._open.get(outcome.mention_id)
            self._track(decision, previous.declined_by if previous else frozenset())
        elif outcome.status == "backlogged" and decision.mention and decision.classification:
            if outcome.mention_id not in self._backlog:
                need = self._need(decision.mention, decision.classification)
                excluded = self._open.pop(outcome.mention_id, None)
                declined = excluded.declined_by if excluded else frozenset()
                waiting = Waiting(
                    decision.mention, decision.classification, need, outcome.due_at, declined
                )
                self._enqueue(waiting)
        else:
            self._backlog.take(outcome.mention_id)
            self._open.pop(outcome.mention_id, None)
            if outcome.status == "escalated" and decision.mention and decision.classification:
                need = self._need(decision.mention, decision.classification)
                self._escalated[outcome.mention_id] = Waiting(
                    decision.mention, decision.classification, need, outcome.due_at
                )

    def rebuild(self, decisions: Iterable[Decision]) -> int:
        count = 0
        for decision in decisions:
            self.apply(decision)
            count += 1
        self._backlog.compact()
        return count

    def _advance_clock(self, at: datetime) -> None:
        """Move a rebuilding router's clock; the capacity events the original visited on the
        way (and that left nothing in the log) are stepped over, not visited again later."""
        if self._clock is None or at > self._clock:
            self._clock = at
        while self._backlog and self._next_capacity is not None and self._next_capacity <= at:
            self._next_capacity = self._capacity_event_after(self._next_capacity)

    def _apply_feedback(self, feedback: Feedback, opened: _Open) -> None:
        assignment = opened.assignment
        if feedback.kind == "corrected":
            return  # labels for retraining; the assignment and its budget stand
        if feedback.kind == "reassigned":  # the time goes back; the new assignment books its own
            self.ledger.adjust(
                assignment.employee_id, assignment.assigned_at, -assignment.estimated_minutes
            )
            self._open.pop(feedback.mention_id, None)
        elif feedback.kind == "accepted":
            opened.accepted = True
        elif feedback.kind == "done":
            actual = feedback.minutes if feedback.minutes is not None else 0.0
            self.ledger.adjust(
                assignment.employee_id,
                assignment.assigned_at,
                actual - assignment.estimated_minutes,
            )
            self._open.pop(feedback.mention_id, None)
        else:  # declined or timed out: the time is given back, the mention goes elsewhere
            self.ledger.adjust(
                assignment.employee_id, assignment.assigned_at, -assignment.estimated_minutes
            )
            opened.declined_by = opened.declined_by | {feedback.employee_id}

    # -- internals -----------------------------------------------------------------------

    def _need(self, mention: Mention, classification: Classification) -> Need:
        key = (mention.platform, classification.language, classification.topic)
        need = self._needs.get(key)
        if need is None:  # one frozen Need per kind of mention, built once
            minutes = self.taxonomy.handling_minutes(classification.topic)
            need = self._needs[key] = Need(*key, minutes=minutes)
        return need

    def _sla(self, urgency: Urgency) -> tuple[timedelta, timedelta]:
        """The SLA of an urgency, and the lead before it when a waiting mention's chance ends."""
        found = self._slas.get(urgency)
        if found is None:
            sla = self.taxonomy.sla_minutes(urgency)
            lead = timedelta(minutes=sla * self.options.escalation_lead)
            found = self._slas[urgency] = (timedelta(minutes=sla), lead)
        return found

    def _due(self, mention: Mention, classification: Classification) -> datetime:
        return mention.created_at + self._sla(classification.urgency)[0]

    def _last_chance(self, due_at: datetime, classification: Classification) -> datetime:
        return due_at - self._sla(classification.urgency)[1]

    def _ids_for(self, need: Need) -> frozenset[str]:
        key = _key(need)
        found = self._candidate_ids.get(key)
        if found is None:
            found = frozenset(e.id for e in self._candidates_for(need))
            self._candidate_ids[key] = found
        return found

    def _candidates_for(self, need: Need) -> tuple[Employee, ...]:
        """Everyone who could ever take such a mention, most proficient first (indexed)."""
        key = _key(need)
        found = self._candidates.get(key)
        if found is None:
            gaps = {e.id: structural_gap(e, need) for e in self.roster}
            fits = [e for e in self.roster if gaps[e.id] is None]
            found = tuple(sorted(fits, key=lambda e: (-e.skills[need.topic], e.id)))
            self._candidates[key] = found
            kinds = Counter((gap or "").split(" (")[0] for gap in gaps.values() if gap)
            self._gaps[key] = dict(sorted(kinds.items()))
        return found

    def _learn(
        self,
        mention: Mention,
        classification: Classification,
        need: Need,
        candidates: Sequence[Employee],
    ) -> None:
        """Tell the price learner what this mention could have earned from whom."""
        if self.options.policy != "adaptive" or not candidates:
            return
        weight, topic = self.taxonomy.weight(classification.urgency), need.topic
        sla, lead = self._sla(classification.urgency)
        # only who could be at work before its last chance competes for it
        reachable = self._learning_duty.reachable(
            candidates, mention.created_at, (sla - lead).total_seconds(), _LEARN_OPTIONS
        )
        known = self._options.get((_key(need), classification.urgency))
        if known is not None and known[0] is reachable:
            options = known[1]
        else:
            options = tuple((e.id, e.skills[topic] * weight) for e in reachable)
            self._options[(_key(need), classification.urgency)] = (reachable, options)
        self.prices.observe(Arrival(mention.created_at, need.minutes, options))

    def _enqueue(self, waiting: Waiting) -> None:
        self._backlog.add(waiting, self._last_chance(waiting.due_at, waiting.classification))
        if len(self._backlog) == 1 or self._next_capacity is None:
            self._next_capacity = self._capacity_event_after(
                self._clock or waiting.mention.created_at
            )

    def _capacity_event_after(self, now: datetime) -> datetime:
        """The next capacity event; who winds down then is kept in ``_winding_down``."""
        wind_down = self.options.wind_down_minutes if self.options.policy == "adaptive" else None
        at, self._winding_down = next_capacity_event(self.roster, now, wind_down)
        return at

    def _prune(self, now: datetime) -> None:
        self._since_prune += 1
        if self._since_prune < _PRUNE_EVERY:
            return
        self._since_prune = 0
        horizon = now - RETENTION
        self._decided = {m: due for m, due in self._decided.items() if due >= horizon}
        self._open = {m: o for m, o in self._open.items() if o.assignment.due_at >= horizon}
        self._sticky = {k: v for k, v in self._sticky.items() if v[1] >= horizon}
        self._escalated = {m: w for m, w in self._escalated.items() if w.due_at >= horizon}


@dataclass(frozen=True, slots=True)
class _Availability:
    """Whether an employee can take a given need at a given moment (hours and budget)."""

    ledger: BudgetLedger
    need: Need
    now: datetime
    duty: DutyRoster

    def __call__(self, employee: Employee) -> bool:
        # ``availability_gap(...) is None``, without building the reason
        return self.duty.on_duty(employee, self.now) and self.ledger.can_spend(
            employee.id, self.now, self.need.minutes
        )

    def next_at_work(self, employee: Employee) -> datetime:
        return self.duty.next_at_work(employee, self.now)

    def day_progress(self, employee: Employee) -> float:
        return self.duty.day_progress(employee, self.now)

    def at_work(
        self, candidates: Sequence[Employee]
    ) -> tuple[Sequence[Employee], Sequence[tuple[Employee, datetime]]]:
        return self.duty.among(candidates, self.now)


def _key(need: Need) -> tuple[str, str, str]:
    return (need.platform, need.language, need.topic)


def _sticky_keys(mention: Mention) -> list[str]:
    keys = []
    if mention.conversation_id:
        keys.append(f"conversation:{mention.conversation_id}")
    keys.append(f"author:{mention.platform}:{mention.author.id}")
    return keys


def _summarize(counts: Mapping[str, int]) -> str:
    """``"3 outside working hours; 2 not enough budget left"``: counts per kind of reason."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{n} {why}" for why, n in ranked if why]
    return "; ".join(parts) if parts else "roster is empty"


__all__ = ["Decision", "Router", "RouterOptions"]
