"""How mentions flow: their age at each stage, SLA breaches, the backlog and team budgets.

A mention's age is measured from its ``created_at``, the moment the SLA counts from, on the
clock the pipeline decides by: the wall clock for ``run``, the mentions' own time for
``replay`` and ``run --clock stream`` (where ingest to classified is therefore 0).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from routing.models import Classification, Mention, Outcome
from routing.router import Decision, Router
from workers.metrics import BacklogSnapshot, Metrics, TeamSnapshot

log = logging.getLogger("mention_router.flow")

FINAL = frozenset({"assigned", "escalated", "rejected"})


def _seconds(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds())  # a clock behind created_at reads 0


class FlowMeter:
    """Observes each mention's way through the router: when it arrived, how it ended.

    ``_arrived`` holds the mentions routed but not yet finally decided (the backlog), so it
    stays as small as the backlog.
    """

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._arrived: dict[str, datetime] = {}

    def arrived(self, mention_id: str, at: datetime) -> None:
        self._arrived.setdefault(mention_id, at)

    def decided(self, outcome: Outcome) -> None:
        """A published outcome: count it, and time it when it assigns."""
        self.decided_all([outcome])

    def decided_all(self, outcomes: Sequence[Outcome]) -> None:
        """A batch of published outcomes, counted per label in one step each."""
        metrics = self._metrics
        metrics.observe_outcomes(outcomes)
        to_assigned = metrics.latency.labels("ingest_to_assigned")
        classified_to_assigned = metrics.latency.labels("classified_to_assigned")
        breaches: Counter[str] = Counter()
        for outcome in outcomes:
            arrived = (
                self._arrived.pop(outcome.mention_id, None)
                if outcome.status in FINAL
                else self._arrived.get(outcome.mention_id)
            )
            if outcome.status == "assigned":
                at = outcome.assigned_at
                to_assigned.observe(_seconds(at, outcome.created_at))
                if arrived is not None:
                    classified_to_assigned.observe(_seconds(at, arrived))
                breaches[outcome.urgency.value] += at > outcome.due_at
            elif outcome.status == "escalated":
                breaches[outcome.urgency.value] += outcome.decided_at >= outcome.due_at
        for urgency, count in breaches.items():
            if count:
                metrics.sla_breaches.labels(urgency).inc(count)

    def replaying(self, decisions: Iterable[Decision]) -> Iterator[Decision]:
        """Pass a decision log through while remembering when waiting mentions arrived."""
        for decision in decisions:
            outcome = decision.outcome
            if outcome is not None and outcome.status == "backlogged":
                self._arrived.setdefault(outcome.mention_id, outcome.decided_at)
            elif outcome is not None and outcome.status in FINAL:
                self._arrived.pop(outcome.mention_id, None)
            yield decision

    def refresh(self, router: Router) -> None:
        """Backlog and team gauges at the router's clock."""
        self._metrics.set_backlog(backlog_snapshot(router))
        self._metrics.set_teams(team_snapshot(router))


def observe_classified_ages(
    metrics: Metrics, mentions: Sequence[Mention], at: Sequence[datetime]
) -> None:
    """Each mention's age when its tags were ready: ingest to classified."""
    histogram = metrics.latency.labels("ingest_to_classified")
    for mention, now in zip(mentions, at, strict=True):
        histogram.observe(_seconds(now, mention.created_at))


def backlog_snapshot(router: Router) -> BacklogSnapshot:
    now = router.clock
    waiting = router.backlog()
    if now is None or not waiting:
        return BacklogSnapshot(size=len(waiting))
    oldest = min(mention.created_at for mention, _, _ in waiting)
    used = max(_share(mention, due, now) for mention, _, due in waiting)
    return BacklogSnapshot(len(waiting), _seconds(now, oldest), used)


def _share(mention: Mention, due: datetime, now: datetime) -> float:
    sla = (due - mention.created_at).total_seconds()
    return _seconds(now, mention.created_at) / sla if sla > 0 else 1.0


def team_snapshot(router: Router) -> dict[str, TeamSnapshot]:
    """Budget minutes used and left today, and people on duty, per team at the router's clock."""
    now = router.clock
    remaining: dict[str, float] = defaultdict(float)
    used: dict[str, float] = defaultdict(float)
    on_duty: dict[str, int] = defaultdict(int)
    for employee in router.roster:
        team = employee.team
        if now is None:
            remaining[team] += employee.budget_minutes_per_day
            continue
        remaining[team] += router.ledger.remaining(employee.id, now)
        used[team] += router.ledger.used(employee.id, now)
        on_duty[team] += employee.hours.is_open(now.astimezone(employee.zone))
    return {
        team: TeamSnapshot(remaining[team], used[team], on_duty[team] if now else None)
        for team in remaining
    }


def log_classified(stage: str, pairs: Iterable[tuple[Mention, Classification]]) -> None:
    """One debug line per mention with its tags (never its text)."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    for mention, c in pairs:
        log.debug(
            "classified %s as %s/%s",
            mention.id,
            c.topic,
            c.urgency.value,
            extra={"correlation_id": mention.id, "stage": stage, "topic": c.topic,
                   "urgency": c.urgency.value, "model_version": c.model_version},
        )  # fmt: skip


def log_outcomes(stage: str, outcomes: Iterable[Outcome]) -> None:
    """One debug line per outcome: what happened to the mention, and why if not assigned."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    for o in outcomes:
        fields = {"correlation_id": o.mention_id, "stage": stage, "outcome": o.status}
        if o.status == "assigned":
            fields |= {"employee": o.employee_id, "team": o.team}
        else:
            fields |= {"reason": o.reason}
        log.debug("%s %s %s", stage, o.mention_id, o.status, extra=fields)
