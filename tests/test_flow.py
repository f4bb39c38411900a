"""Mention ages, SLA breaches, backlog age and team budgets, measured on the router's clock."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from routing.models import Urgency
from routing.outcomes import assignment
from routing.router import Decision, Router
from tests.factories import T0, classification, employee, make_taxonomy, mention, minutes
from workers.flow import FlowMeter, backlog_snapshot, team_snapshot
from workers.metrics import Metrics


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def route(
    router: Router,
    meter: FlowMeter,
    m_id: str,
    created_minutes_ago: float,
    urgency: Urgency = Urgency.NORMAL,
) -> list[Decision]:
    """Route one mention that reaches the router at T0, and meter what comes of it."""
    m = mention(m_id, T0 - minutes(created_minutes_ago))
    meter.arrived(m.id, T0)
    decisions = router.route(m, classification(m_id, urgency=urgency), T0)
    for d in decisions:
        assert d.outcome is not None
        meter.decided(d.outcome)
    return decisions


def test_an_assignment_is_timed_from_created_at_and_from_arrival() -> None:
    metrics = Metrics(CollectorRegistry())
    meter = FlowMeter(metrics)
    router = Router([employee()], make_taxonomy())

    # Given a mention posted 30 minutes before it reached the router, assigned at once
    (decision,) = route(router, meter, "m1", 30)

    assert decision.outcome is not None
    assert decision.outcome.status == "assigned"
    span = "mention_router_latency_seconds_sum"
    assert sample(metrics, span, span="ingest_to_assigned") == 1800
    assert sample(metrics, span, span="classified_to_assigned") == 0
    assert sample(metrics, "mention_router_latency_seconds_count", span="ingest_to_assigned") == 1
    assert (
        sample(metrics, "mention_router_outcomes_total", outcome="assigned", urgency="normal") == 1
    )
    assert sample(metrics, "mention_router_sla_breaches_total", urgency="normal") == 0


def test_a_waiting_mention_ages_in_the_backlog_until_someone_starts() -> None:
    metrics = Metrics(CollectorRegistry())
    meter = FlowMeter(metrics)
    # T0 is 09:00; a half-hour shift, so the plan of 10:00 is the last one she is at work for
    router = Router([employee(hours="mon-sun 10:00-10:30")], make_taxonomy())

    # Given a mention that must wait an hour for the only employee's shift
    (waiting,) = route(router, meter, "m1", 0)
    assert waiting.outcome is not None
    assert waiting.outcome.status == "backlogged"

    # When half an hour passes, the backlog shows its age and the share of its SLA used
    router.tick(T0 + minutes(30))
    snapshot = backlog_snapshot(router)
    assert (snapshot.size, snapshot.oldest_age_seconds) == (1, 1800)
    assert snapshot.sla_used_ratio == 30 / 240

    # When the shift begins, it is assigned: an hour after arrival and after it was posted
    for d in router.tick(T0 + minutes(61)):
        assert d.outcome is not None
        meter.decided(d.outcome)
    span = "mention_router_latency_seconds_sum"
    assert sample(metrics, span, span="classified_to_assigned") == 3600
    assert sample(metrics, span, span="ingest_to_assigned") == 3600
    assert backlog_snapshot(router).size == 0


def test_sla_breaches_count_late_assignments_and_escalations_past_the_deadline() -> None:
    metrics = Metrics(CollectorRegistry())
    meter = FlowMeter(metrics)
    router = Router([employee()], make_taxonomy())

    # Given a critical mention (SLA 15 minutes) that reaches the router 20 minutes old
    (late,) = route(router, meter, "m1", 20, urgency=Urgency.CRITICAL)
    assert late.outcome is not None
    assert late.outcome.status == "escalated"
    # And an assignment made after its deadline (by a router that had no choice then)
    m = mention("m2", T0)
    meter.decided(
        assignment(m, classification("m2", urgency=Urgency.HIGH), employee(), value=1.0,
                   minutes=10, at=T0 + minutes(90), due=T0 + minutes(60))
    )  # fmt: skip

    assert sample(metrics, "mention_router_sla_breaches_total", urgency="critical") == 1
    assert sample(metrics, "mention_router_sla_breaches_total", urgency="high") == 1
    assert sample(metrics, "mention_router_sla_breaches_total", urgency="normal") == 0


def test_a_rebuilt_meter_remembers_when_waiting_mentions_arrived() -> None:
    metrics = Metrics(CollectorRegistry())
    router = Router([employee(hours="mon-sun 10:00-10:30")], make_taxonomy())
    log: list[Decision] = route(router, FlowMeter(Metrics(CollectorRegistry())), "m1", 0)

    # Given a fresh meter that read the decision log (the router restarted)
    meter = FlowMeter(metrics)
    assert list(meter.replaying(log)) == log

    # When the waiting mention is assigned, its time since arrival is measured still
    for d in router.tick(T0 + minutes(61)):
        assert d.outcome is not None
        meter.decided(d.outcome)
    assert (
        sample(metrics, "mention_router_latency_seconds_sum", span="classified_to_assigned") == 3600
    )


def test_team_snapshot_has_budget_used_and_left_and_who_is_on_duty() -> None:
    roster = [
        employee("anna", team="care-nl", budget_minutes_per_day=60),
        employee("bram", team="care-nl", budget_minutes_per_day=30, hours="mon-sun 12:00-18:00"),
        employee("cleo", team="care-en", budget_minutes_per_day=45),
    ]
    router = Router(roster, make_taxonomy())
    assert team_snapshot(router)["care-nl"].on_duty is None  # no clock yet

    # When anna takes a 10-minute billing mention at 09:00
    router.route(mention("m1", T0), classification("m1"), T0)
    teams = team_snapshot(router)

    assert (teams["care-nl"].used, teams["care-nl"].remaining) == (10, 80)
    assert teams["care-nl"].on_duty == 1  # bram starts at noon
    assert (teams["care-en"].used, teams["care-en"].remaining, teams["care-en"].on_duty) == (
        0,
        45,
        1,
    )
