"""The router: eligibility, choice, backlog, escalation, budgets and rebuilding from the log."""

from __future__ import annotations

from datetime import UTC, datetime

from routing.models import Assignment, NotAssigned, Taxonomy, Urgency
from routing.router import Router
from tests.factories import T0, classification, employee, mention, minutes


def outcomes(router: Router, *items: tuple[str, datetime, str, Urgency]) -> list[object]:
    result: list[object] = []
    for mention_id, at, topic, urgency in items:
        decided = router.route(
            mention(mention_id, at), classification(mention_id, topic, urgency), at
        )
        result.extend(d.outcome for d in decided)
    return result


def test_assigns_to_the_most_proficient_eligible_employee(taxonomy: Taxonomy) -> None:
    # Given two people on X, one better at billing
    router = Router(
        [employee("anna", skills={"billing": 0.9}), employee("bob", skills={"billing": 0.4})],
        taxonomy,
    )
    # When a billing mention arrives
    [decision] = router.route(mention(), classification(), T0)
    # Then the better one gets it, to answer from their X account
    assert isinstance(decision.outcome, Assignment)
    assert decision.outcome.employee_id == "anna"
    assert decision.outcome.account == "@anna"
    assert decision.outcome.score == 0.9 * 2
    assert decision.outcome.estimated_minutes == 10
    assert decision.outcome.due_at == T0 + minutes(240)


def test_ineligible_people_are_never_chosen(taxonomy: Taxonomy) -> None:
    roster = [
        employee("fb_only", accounts={"facebook": "fb"}, skills={"billing": 1.0}),
        employee("dutch_only", languages=["nl"], skills={"billing": 1.0}),
        employee("no_skill", skills={"outage": 1.0}),
        employee("asleep", skills={"billing": 1.0}, hours="mon 00:00-01:00"),
        employee("ok", skills={"billing": 0.1}),
    ]
    router = Router(roster, taxonomy)
    [decision] = router.route(mention(), classification(language="en"), T0)
    assert isinstance(decision.outcome, Assignment)
    assert decision.outcome.employee_id == "ok"


def test_ties_go_to_who_has_more_budget_left(taxonomy: Taxonomy) -> None:
    router = Router([employee("anna"), employee("bob")], taxonomy)
    first, second = outcomes(
        router,
        ("m1", T0, "billing", Urgency.NORMAL),
        ("m2", T0 + minutes(1), "billing", Urgency.NORMAL),
    )
    assert isinstance(first, Assignment)
    assert isinstance(second, Assignment)
    assert {first.employee_id, second.employee_id} == {"anna", "bob"}


def test_budget_is_never_exceeded_and_overflow_waits_in_backlog(taxonomy: Taxonomy) -> None:
    # Given one person with 25 minutes a day and billing mentions of 10 minutes each
    router = Router([employee("anna", budget_minutes_per_day=25)], taxonomy)
    # When three arrive
    results = outcomes(
        router, *[(f"m{i}", T0 + minutes(i), "billing", Urgency.NORMAL) for i in range(3)]
    )
    # Then two are assigned and the third waits, naming the budget as the reason
    assert [type(o).__name__ for o in results] == ["Assignment", "Assignment", "NotAssigned"]
    waiting = results[2]
    assert isinstance(waiting, NotAssigned)
    assert waiting.status == "backlogged"
    assert "1 not enough budget left" in waiting.reason
    assert router.ledger.used("anna", T0) == 20


def test_backlog_is_assigned_when_the_budget_resets_at_local_midnight(
    taxonomy: Taxonomy,
) -> None:
    # Given an Amsterdam employee whose budget is spent on Monday evening
    anna = employee("anna", budget_minutes_per_day=10, timezone="Europe/Amsterdam")
    router = Router([anna], taxonomy)
    monday = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 21:00 in Amsterdam
    outcomes(
        router, ("m1", monday, "billing", Urgency.NORMAL), ("m2", monday, "billing", Urgency.NORMAL)
    )
    assert router.backlog_size == 1
    # When time passes Amsterdam midnight (23:00 UTC)
    before = router.tick(datetime(2026, 3, 2, 22, 59, tzinfo=UTC))
    after = router.tick(datetime(2026, 3, 2, 23, 0, 30, tzinfo=UTC))
    # Then the waiting mention is assigned on the new day, not before
    assert before == []
    [decision] = after
    assert isinstance(decision.outcome, Assignment)
    assert decision.outcome.mention_id == "m2"
    assert router.backlog_size == 0


def test_backlog_is_assigned_when_working_hours_begin(taxonomy: Taxonomy) -> None:
    # (a half-hour shift: the plan of 09:00 is the last she is at work for, so nothing waits
    # for a later plan; test_adaptive_holds_a_mention_that_can_wait_for_the_next_plan)
    router = Router([employee("anna", hours="mon-fri 09:00-09:30")], taxonomy)
    early = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    [waiting] = outcomes(router, ("m1", early, "billing", Urgency.NORMAL))
    assert isinstance(waiting, NotAssigned)
    assert "outside working hours" in waiting.reason
    [assigned] = router.tick(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert isinstance(assigned.outcome, Assignment)
    assert assigned.outcome.assigned_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_backlog_drains_most_urgent_deadline_first(taxonomy: Taxonomy) -> None:
    # Given room for just one billing mention at 09:00, and two waiting since 07:00
    router = Router(
        [employee("anna", hours="mon-fri 09:00-09:30", budget_minutes_per_day=10)], taxonomy
    )
    early = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    outcomes(
        router,
        ("low", early, "billing", Urgency.LOW),
        ("normal", early + minutes(1), "billing", Urgency.NORMAL),
    )
    # When hours begin, the one with the earlier SLA deadline goes first
    [assigned] = router.tick(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert isinstance(assigned.outcome, Assignment)
    assert assigned.outcome.mention_id == "normal"


def test_mentions_past_their_sla_are_escalated(taxonomy: Taxonomy) -> None:
    router = Router([employee("anna", hours="mon-fri 12:00-17:00")], taxonomy)
    early = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    outcomes(router, ("m1", early, "billing", Urgency.HIGH))
    [escalated] = router.tick(early + minutes(55))  # the last chance: 10% of the SLA before it
    assert isinstance(escalated.outcome, NotAssigned)
    assert escalated.outcome.status == "escalated"
    assert "SLA of 60 min about to pass" in escalated.outcome.reason
    assert escalated.outcome.escalated_to == "team-lead"
    assert router.backlog_size == 0


def test_uncoverable_mentions_are_escalated_at_once_with_the_gap(taxonomy: Taxonomy) -> None:
    router = Router([employee("anna", languages=["nl"])], taxonomy)
    [decision] = router.route(mention(), classification(language="de"), T0)
    assert isinstance(decision.outcome, NotAssigned)
    assert decision.outcome.status == "escalated"
    assert "does not speak de" in decision.outcome.reason


def test_mentions_by_employee_accounts_are_rejected(taxonomy: Taxonomy) -> None:
    router = Router([employee("anna")], taxonomy)
    [decision] = router.route(mention(handle="@ANNA"), classification(), T0)
    assert isinstance(decision.outcome, NotAssigned)
    assert decision.outcome.status == "rejected"


def test_a_redelivered_mention_is_not_routed_twice(taxonomy: Taxonomy) -> None:
    router = Router([employee("anna")], taxonomy)
    first = router.route(mention(), classification(), T0)
    again = router.route(mention(), classification(), T0 + minutes(1))
    assert len(first) == 1
    assert again == []
    assert router.ledger.used("anna", T0) == 10


def test_unknown_topic_goes_to_generalists(taxonomy: Taxonomy) -> None:
    router = Router(
        [employee("expert"), employee("generalist", skills={"unknown": 0.5, "billing": 0.2})],
        taxonomy,
    )
    [decision] = router.route(mention(), classification(topic="unknown"), T0)
    assert isinstance(decision.outcome, Assignment)
    assert decision.outcome.employee_id == "generalist"


def test_rebuilding_from_the_decision_log_restores_the_state(taxonomy: Taxonomy) -> None:
    # Given a router that assigned some mentions and backlogged others
    roster = [employee("anna", budget_minutes_per_day=20, hours="mon-fri 09:00-17:00")]
    original = Router(roster, taxonomy)
    log = []
    for i in range(4):
        at = datetime(2026, 3, 2, 10, i, tzinfo=UTC)
        log.extend(original.route(mention(f"m{i}", at), classification(f"m{i}"), at))
    # When a new router folds the same log
    rebuilt = Router(roster, taxonomy)
    assert rebuilt.rebuild(log) == len(log)
    # Then budgets, backlog and the decided set match, and both decide the future alike
    assert rebuilt.ledger.used("anna", T0) == original.ledger.used("anna", T0) == 20
    assert rebuilt.backlog_size == original.backlog_size == 2
    assert rebuilt.is_decided("m3")
    tuesday = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    assert rebuilt.tick(tuesday) == original.tick(tuesday)
