"""The router: assign each classified mention to the best eligible employee, or backlog it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from routing.assignments import AssignmentBook
from routing.audits import AuditBook, summarize
from routing.availability import Availability
from routing.backlog import Backlog, Waiting, next_capacity_event
from routing.catalogue import Catalogue, kind
from routing.decisions import Audit, Decision
from routing.eligibility import DutyRoster, Need, availability_gap
from routing.feedback import FeedbackFlow
from routing.learning import PriceTutor
from routing.ledger import BudgetLedger
from routing.models import Classification, Employee, Mention, Taxonomy
from routing.options import RouterOptions
from routing.outcomes import assignment, not_assigned
from routing.passage import Passage
from routing.plan import DayPlan
from routing.policies import Offer, Policy, make_policy
from routing.recovery import Recovery
from routing.stamps import Stamps
from routing.trusted import trusted
from routing.winddown import WindDown

# How long decided ids, open assignments and sticky pairs are kept beyond their deadline.
RETENTION = timedelta(days=2)
_PRUNE_EVERY = 5_000


class Router(Passage, FeedbackFlow, Recovery):
    """Stateful, deterministic router. ``now`` is always an argument; it never reads a clock.

    State: the budget ledger, the backlog ordered by deadline, the book of open assignments,
    escalations and sticky conversations, and the ids already decided (so a redelivered
    mention is not routed twice). ``apply`` folds a logged ``Decision`` back into that state,
    which is how a restarted router rebuilds itself from the decision log.
    """

    def __init__(
        self,
        roster: Sequence[Employee],
        taxonomy: Taxonomy,
        options: RouterOptions | None = None,
    ) -> None:
        self.roster = tuple(sorted(roster, key=lambda e: e.id))
        self.taxonomy = taxonomy
        self.options = options = options or RouterOptions()
        self._stamps = Stamps()  # one timestamp per moment for the router, ledger and duty roster
        self.ledger = BudgetLedger(self.roster, self._stamps)
        self._by_id = {e.id: e for e in self.roster}
        self._own_handles = {h.lower() for e in self.roster for h in e.accounts.values()}
        self._catalogue = Catalogue(self.roster, taxonomy, options.escalation_lead)
        self._backlog = Backlog()
        self.plan = DayPlan(
            self._catalogue, self.ledger, self._backlog,
            hold_slack=timedelta(minutes=options.plan_hold_minutes),
        )  # fmt: skip
        self.plan.share_stamps(self._stamps)
        self.policy: Policy = make_policy(options.policy, self.roster, self.plan)
        self._duty = DutyRoster(self._stamps)
        self._auditor = AuditBook(
            self.policy.name, options.audit_limit, self.ledger, self._duty, self._catalogue.gaps
        )
        timeout = options.accept_timeout_minutes
        self._book = AssignmentBook(
            self.ledger,
            timedelta(minutes=options.stickiness_minutes),
            timedelta(minutes=timeout) if timeout is not None else None,
        )
        self._decided: dict[str, datetime] = {}
        self._clock: datetime | None = None
        self._next_capacity: datetime | None = None
        self._winding_down: frozenset[str] = frozenset()
        self._planning = options.policy == "adaptive"
        self._tutor = PriceTutor(self.plan, self._planning)
        self._next_plan: datetime | None = None
        self._wind_down_picks = WindDown(self._catalogue, self.ledger, self._duty)
        self._since_prune = 0
        self._timeouts = timeout is not None
        self._clock_ts: tuple[datetime | None, float] = (None, 0.0)  # the clock's timestamp
        # the next capacity event and plan, and the earlier one's timestamp
        self._events: tuple[datetime | None, datetime | None, float] = (None, None, math.inf)

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

    def foresee(self, items: Iterable[tuple[Mention, Classification]]) -> None:
        """For comparison only: the day plan (adaptive) plans with these mentions, as they
        will arrive, instead of a forecast (``DayPlan.foresee``); those nobody on the roster
        can take are left out, as the plan never sees them."""
        arrivals = []
        for mention, classification in items:
            need, candidates, _, _ = self._catalogue.arrival(mention, classification)
            if candidates:
                arrivals.append((mention.created_at, need, classification.urgency))
        self.plan.foresee(arrivals)

    # -- routing -------------------------------------------------------------------------

    def route(
        self, mention: Mention, classification: Classification, now: datetime
    ) -> list[Decision]:
        """Decide ``mention`` at ``now``: first whatever the passage of time decides, then it."""
        decisions = self.tick(now)
        if mention.id in self._decided:
            return decisions
        now = self._clock or now
        catalogue = self._catalogue
        need, candidates, due_at, deadline = catalogue.arrival(mention, classification)
        self._decided[mention.id] = due_at
        if mention.author.handle.lower() in self._own_handles:
            reason = f"authored by an employee account ({mention.author.handle})"
            rejected = not_assigned(
                "rejected", mention, classification, reason=reason, at=now, due=due_at
            )
            decisions.append(trusted(Decision, outcome=rejected))
            return decisions
        if not candidates:
            reason = "no one on the roster can take it: " + summarize(catalogue.gaps[kind(need)])
            decisions.append(self._escalate(mention, classification, need, now, reason))
            return decisions
        deadline_at = self._stamps(deadline)
        if deadline_at <= self._clock_ts[1]:  # ``now``: the clock tick just set
            reason = "its SLA had (nearly) passed on arrival"
            decisions.append(self._escalate(mention, classification, need, now, reason))
            return decisions
        self._tutor.learn(mention, classification, need, candidates)
        waiting = Waiting(mention, classification, need, due_at)
        decision = self._offer(
            waiting, now, arriving=True, known=(candidates, deadline, deadline_at)
        )
        assert decision is not None
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
        known: tuple[tuple[Employee, ...], datetime, float] | None = None,
    ) -> Decision | None:
        """Offer a mention to its candidates: assign it, or backlog it (None when ``quiet``).

        ``known``: its candidates and last chance (also as a POSIX timestamp), when the
        caller has them at hand."""
        mention, classification, need = waiting.mention, waiting.classification, waiting.need
        catalogue = self._catalogue
        weight = catalogue.weight(classification.urgency)
        candidates: Sequence[Employee]
        if known is None:
            candidates = catalogue.candidates_for(need)
            deadline = catalogue.last_chance(waiting.due_at, classification)
            deadline_at = self._stamps(deadline)
        else:
            candidates, deadline, deadline_at = known
        offer = Offer(need, weight, now, last_chance, deadline, deadline_at)
        if waiting.excluded:
            candidates = [e for e in candidates if e.id not in waiting.excluded]
        # With a plan, the plan decides whether and when to answer; stickiness only who.
        chosen, note = None, ""
        if not self._planning:
            chosen, note = self._sticky_choice(mention, need, now, waiting.excluded)
        if chosen is None:
            available = Availability(self.ledger, need, now, self._duty)
            chosen, note = self.policy.choose(offer, candidates, self.ledger, available)
            if chosen is not None and self._planning:
                sticky, why = self._sticky_choice(mention, need, now, waiting.excluded)
                if sticky is not None:
                    chosen, note = sticky, why
        if chosen is None and quiet:
            return None
        audit = self._auditor.audit(need, weight, now, candidates, chosen, note)
        if chosen is not None:
            self.policy.assigned(chosen, offer)
            return self._assign(chosen, waiting, now, audit)
        reason = self._auditor.backlog_reason(audit, len(candidates))
        if arriving:
            self._enqueue(waiting, deadline, deadline_at)
        outcome = not_assigned(
            "backlogged", mention, classification, reason=reason, at=now, due=waiting.due_at
        )
        return trusted(
            Decision,
            outcome=outcome,
            mention=mention,
            classification=classification,
            audit=audit,
        )

    def _nobody_available(
        self, waiting: Waiting, now: datetime, nobody: set[tuple[str, str, str, float]]
    ) -> bool:
        """Whether no candidate for this kind of mention is available now (remembered in
        ``nobody``: within one pass availability only shrinks, so a "nobody" stays true)."""
        need = waiting.need
        key = (*kind(need), need.minutes)
        if key in nobody:
            return True
        # Those at work (remembered per candidate list) need only their budget asked: the
        # same answer as asking each candidate ``self._available(need, now)``.
        at_work = self._duty.among(self._catalogue.candidates_for(need), now)[0]
        can_spend, minutes, excluded = self.ledger.can_spend, need.minutes, waiting.excluded
        if any(can_spend(e.id, now, minutes) for e in at_work if e.id not in excluded):
            return False
        if not waiting.excluded:
            nobody.add(key)
        return True

    def _arrive(self, waiting: Waiting, now: datetime) -> Decision:
        decision = self._offer(waiting, now, arriving=True)
        assert decision is not None
        return decision

    def _sticky_choice(
        self, mention: Mention, need: Need, now: datetime, excluded: frozenset[str]
    ) -> tuple[Employee | None, str]:
        """The employee who answered this conversation or author before, when still eligible."""
        for employee_id, which in self._book.answered_before(mention, now):
            employee = self._by_id.get(employee_id)
            if (
                employee is None
                or employee.id in excluded
                or employee.id not in self._catalogue.ids_for(need)
            ):
                continue
            if availability_gap(employee, need, self.ledger, now, self._duty) is None:
                return employee, f"answered {which} before"
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
        decision = trusted(
            Decision, outcome=outcome, mention=mention, classification=classification, audit=audit
        )
        self._book.track(decision, waiting.excluded)
        return decision

    def _escalate(
        self,
        mention: Mention,
        classification: Classification,
        need: Need,
        now: datetime,
        reason: str,
    ) -> Decision:
        best = next(iter(self._catalogue.candidates_for(need)), None)
        targets = self.options.escalation_targets
        target = targets.get(best.team) if best is not None else None
        target = target or targets.get("*") or self.options.default_escalation_target
        due = self._catalogue.due(mention, classification)
        self._book.escalated[mention.id] = Waiting(mention, classification, need, due)
        outcome = not_assigned(
            "escalated",
            mention,
            classification,
            reason=reason,
            at=now,
            due=due,
            escalated_to=target,
        )
        # It carries its mention, so a lead can still hand it out after a restart.
        return trusted(Decision, outcome=outcome, mention=mention, classification=classification)

    # -- internals -----------------------------------------------------------------------

    def _enqueue(
        self, waiting: Waiting, last_chance: datetime | None = None, at: float | None = None
    ) -> None:
        if last_chance is None:
            last_chance = self._catalogue.last_chance(waiting.due_at, waiting.classification)
        self._backlog.add(waiting, last_chance, self._stamps(last_chance) if at is None else at)
        if len(self._backlog) == 1 or self._next_capacity is None:
            self._next_capacity = self._capacity_event_after(
                self._clock or waiting.mention.created_at
            )
            if self._planning:
                self._next_plan = self.plan.next_epoch(self._clock or waiting.mention.created_at)

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
        self._book.prune(horizon)


__all__ = ["Decision", "Router", "RouterOptions"]
