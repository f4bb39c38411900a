"""Stickiness, declines, timeouts, feedback, audit, escalation targets and each policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from routing.models import (
    Assignment,
    Classification,
    Employee,
    Mention,
    NotAssigned,
    Taxonomy,
    Urgency,
)
from routing.optimal import optimal, relaxation
from routing.policies import POLICIES, AdaptivePolicy
from routing.router import Router, RouterOptions
from routing.simulator import Report, final_outcomes, gini, simulate
from tests.factories import T0, classification, employee, mention, minutes


def assigned_to(decisions: list, mention_id: str) -> str | None:  # type: ignore[type-arg]
    for decision in decisions:
        if isinstance(decision.outcome, Assignment) and decision.outcome.mention_id == mention_id:
            return decision.outcome.employee_id
    return None


def test_a_follow_up_in_the_conversation_goes_to_who_answered_before(taxonomy: Taxonomy) -> None:
    # Given bob answered a conversation although anna is the better billing expert
    router = Router([employee("anna", skills={"billing": 0.9}), employee("bob")], taxonomy)
    first = mention("m1", conversation_id="c1")
    router.route(first, classification("m1"), T0)
    router.decline("m1", "anna", "on a call", T0)  # anna passes it on: bob gets it
    # When a follow-up in the same conversation arrives
    follow_up = mention("m2", T0 + minutes(5), conversation_id="c1", text="any news?")
    decisions = router.route(follow_up, classification("m2"), T0 + minutes(5))
    # Then it goes to bob, and the audit says why
    assert assigned_to(decisions, "m2") == "bob"
    assert decisions[-1].audit is not None
    assert "answered conversation before" in decisions[-1].audit.note


def test_stickiness_ends_after_its_window(taxonomy: Taxonomy) -> None:
    router = Router(
        [employee("anna", skills={"billing": 0.9}), employee("bob")],
        taxonomy,
        RouterOptions(stickiness_minutes=30),
    )
    router.route(mention("m1", conversation_id="c1"), classification("m1"), T0)
    router.decline("m1", "anna", "busy", T0)
    later = T0 + minutes(60)
    decisions = router.route(
        mention("m2", later, conversation_id="c1"),
        classification("m2", urgency=Urgency.HIGH),
        later,
    )
    # an hour of traffic seen: it waits for the next plan, an epoch later, which gives it
    # (its last chance is then within the hour)
    decisions += router.tick(later + router.plan.epoch)
    assert assigned_to(decisions, "m2") == "anna"


def test_decline_gives_the_time_back_and_routes_to_someone_else(taxonomy: Taxonomy) -> None:
    router = Router([employee("anna", skills={"billing": 0.9}), employee("bob")], taxonomy)
    router.route(mention(), classification(), T0)
    assert router.ledger.used("anna", T0) == 10
    decisions = router.decline("m1", "anna", "not my area", T0 + minutes(1))
    assert decisions[0].feedback is not None
    assert decisions[0].feedback.reason == "not my area"
    assert assigned_to(decisions, "m1") == "bob"
    assert router.ledger.used("anna", T0) == 0
    assert router.ledger.used("bob", T0) == 10


def test_after_too_many_declines_a_mention_is_escalated(taxonomy: Taxonomy) -> None:
    router = Router(
        [employee("anna", skills={"billing": 0.9}), employee("bob"), employee("cleo")],
        taxonomy,
        RouterOptions(max_declines=2, escalation_targets={"care": "lead-care"}),
    )
    router.route(mention(), classification(), T0)
    second = router.decline("m1", "anna", "busy", T0)
    next_one = assigned_to(second, "m1")
    assert next_one is not None
    third = router.decline("m1", next_one, "busy", T0)
    outcome = third[-1].outcome
    assert isinstance(outcome, NotAssigned)
    assert outcome.status == "escalated"
    assert outcome.escalated_to == "lead-care"
    assert "declined 2 times" in outcome.reason


def test_an_assignment_not_accepted_in_time_is_taken_back(taxonomy: Taxonomy) -> None:
    router = Router(
        [employee("anna", skills={"billing": 0.9}), employee("bob")],
        taxonomy,
        RouterOptions(accept_timeout_minutes=10),
    )
    router.route(mention("m1"), classification("m1"), T0)
    router.route(mention("m2", handle="@other"), classification("m2"), T0)
    router.accept("m2", "anna", T0 + minutes(2))
    decisions = router.tick(T0 + minutes(11))
    kinds = [d.feedback.kind for d in decisions if d.feedback is not None]
    assert kinds == ["timed_out"]
    assert assigned_to(decisions, "m1") == "bob"


def test_done_corrects_the_ledger_by_the_real_minutes(taxonomy: Taxonomy) -> None:
    router = Router([employee("anna")], taxonomy)
    router.route(mention(), classification(), T0)
    router.done("m1", "anna", 4, T0 + minutes(5))
    assert router.ledger.used("anna", T0) == 4
    with pytest.raises(KeyError):
        router.done("m1", "anna", 4, T0 + minutes(6))  # no longer open


def test_feedback_survives_a_rebuild_from_the_log(taxonomy: Taxonomy) -> None:
    roster = [employee("anna", skills={"billing": 0.9}), employee("bob")]
    original = Router(roster, taxonomy)
    log = original.route(mention(), classification(), T0)
    log += original.decline("m1", "anna", "busy", T0 + minutes(1))
    log += original.route(mention("m2", handle="@x2"), classification("m2"), T0 + minutes(2))
    log += original.done("m2", "anna", 3, T0 + minutes(9))
    rebuilt = Router(roster, taxonomy)
    rebuilt.rebuild(log)
    for who in ("anna", "bob"):
        assert rebuilt.ledger.used(who, T0) == original.ledger.used(who, T0)


def test_the_audit_names_candidates_scores_and_reasons(taxonomy: Taxonomy) -> None:
    roster = [
        employee("anna", skills={"billing": 0.9}, hours="mon 00:00-01:00"),
        employee("bob", skills={"billing": 0.5}),
        employee("fb", accounts={"facebook": "fb"}),
    ]
    [decision] = Router(roster, taxonomy).route(mention(), classification(), T0)
    audit = decision.audit
    assert audit is not None
    assert audit.policy == "adaptive"
    assert audit.chosen == "bob"
    assert [(c.employee_id, c.ruled_out) for c in audit.considered] == [
        ("anna", "outside working hours"),
        ("bob", None),
    ]
    assert audit.considered[1].value == 1.0
    assert audit.not_considered == {"no account on x": 1}


def test_adaptive_waits_for_a_better_expert_who_starts_within_the_sla(taxonomy: Taxonomy) -> None:
    # Given the expert starts at 10:00 and a weak colleague is at work at 09:00
    roster = [
        employee("expert", skills={"billing": 1.0}, hours="mon-fri 10:00-17:00"),
        employee("junior", skills={"billing": 0.2}),
    ]
    router = Router(roster, taxonomy)
    # When a normal mention (SLA 4 h) arrives at 09:00
    [waiting] = router.route(mention(), classification(urgency=Urgency.NORMAL), T0)
    assert isinstance(waiting.outcome, NotAssigned)
    assert waiting.outcome.status == "backlogged"
    # Then it goes to the expert: not to the junior before her hours begin, and not before
    # the last hour before its last chance (12:36), since she is at work for every plan
    decisions = router.tick(datetime(2026, 3, 2, 11, 59, tzinfo=UTC))
    assert assigned_to(decisions, "m1") is None
    decisions = router.tick(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    assert assigned_to(decisions, "m1") == "expert"


def test_adaptive_holds_a_mention_that_can_wait_for_the_next_plan(taxonomy: Taxonomy) -> None:
    # Given one person at work 09:00-17:00 and an hour of traffic seen (T0 is Monday 09:00)
    router = Router([employee("anna", hours="mon-fri 09:00-17:00")], taxonomy)
    first = router.route(mention("m0"), classification("m0", urgency=Urgency.LOW), T0)
    assert assigned_to(first, "m0") == "anna"  # no traffic seen yet: nothing to plan with
    # When a low-urgency mention (SLA 24 h) arrives at 10:05
    at = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)
    [*_, waiting] = router.route(mention("m1"), classification(urgency=Urgency.LOW), at)
    # Then it waits for the plan of 10:30 (plans every 30 minutes), saying so
    assert isinstance(waiting.outcome, NotAssigned)
    assert waiting.audit is not None
    assert "held for the plan of 2026-03-02T10:30:00" in waiting.audit.note
    # And the plans keep it while it can wait and she is at work for the next one; the end of
    # her shift (its last 45 minutes, when budget left would go unused) gives it to her
    assert router.tick(datetime(2026, 3, 2, 16, 14, tzinfo=UTC)) == []
    [given] = router.tick(datetime(2026, 3, 2, 16, 15, tzinfo=UTC))
    assert assigned_to([given], "m1") == "anna"
    assert given.audit is not None
    assert "the end of a shift" in given.audit.note


def test_adaptive_paces_who_has_spent_their_day_early(taxonomy: Taxonomy) -> None:
    # Given anna (better) has spent 50 of 60 minutes by 09:00 of a 09:00-17:00 day
    hours = "mon-fri 09:00-17:00"
    roster = [
        employee("anna", skills={"billing": 0.9}, hours=hours),
        employee("bob", skills={"billing": 0.8}, hours=hours),
    ]
    router = Router(roster, taxonomy)
    router.policy = AdaptivePolicy(router.plan, pacing=0.5)  # pacing is off by default
    router.ledger.spend("anna", T0, 50)
    # When a normal billing mention arrives at once
    decisions = router.route(mention(), classification(urgency=Urgency.NORMAL), T0)
    # Then bob takes it: anna is far ahead of pace, her last minutes are kept
    assert assigned_to(decisions, "m1") == "bob"
    # While greedy, with no pacing, would spend them
    greedy = Router(roster, taxonomy, RouterOptions(policy="greedy"))
    greedy.ledger.spend("anna", T0, 50)
    decisions = greedy.route(mention(), classification(urgency=Urgency.NORMAL), T0)
    assert assigned_to(decisions, "m1") == "anna"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("greedy", "expert"), ("least-loaded", "fresh"), ("round-robin", "expert")],
)
def test_market_baselines_choose_as_documented(
    taxonomy: Taxonomy, policy: str, expected: str
) -> None:
    roster = [
        employee("expert", skills={"billing": 1.0}, budget_minutes_per_day=100),
        employee("fresh", skills={"billing": 0.2}, budget_minutes_per_day=100),
    ]
    router = Router(roster, taxonomy, RouterOptions(policy=policy))
    router.ledger.adjust("expert", T0, 50)  # the expert has used half the day already
    [decision] = router.route(mention(), classification(), T0)
    assert isinstance(decision.outcome, Assignment)
    assert decision.outcome.employee_id == expected


def test_round_robin_rotates(taxonomy: Taxonomy) -> None:
    router = Router([employee("a"), employee("b"), employee("c")], taxonomy,
                    RouterOptions(policy="round-robin"))  # fmt: skip
    chosen = [
        assigned_to(
            router.route(mention(f"m{i}", handle=f"@u{i}"), classification(f"m{i}"), T0), f"m{i}"
        )
        for i in range(4)
    ]
    assert chosen == ["a", "b", "c", "a"]


def a_low_then_a_critical_for_one_expert(
    budget_minutes: float,
) -> tuple[list[Employee], list[tuple[Mention, Classification]]]:
    """Anna, the only billing expert (billing answers take 10 minutes), with a morning's
    budget of ``budget_minutes``; a low mention, then a critical one a minute later."""
    roster = [
        employee(
            "anna",
            skills={"billing": 1.0},
            budget_minutes_per_day=budget_minutes,
            hours="mon 09:00-12:00",
        )
    ]
    items = [
        (mention("low"), classification("low", urgency=Urgency.LOW)),
        (mention("crit", T0 + minutes(1), handle="@c"),
         classification("crit", urgency=Urgency.CRITICAL)),
    ]  # fmt: skip
    return roster, items


def test_optimal_beats_greedy_on_a_known_instance(taxonomy: Taxonomy) -> None:
    # Given one expert with room for one billing answer, and a low then a critical mention
    roster, items = a_low_then_a_critical_for_one_expert(budget_minutes=10)
    # Then greedy spends the budget on the first, the optimum keeps it for the critical one
    best = optimal(items, roster, taxonomy)
    assert best.value == 8.0
    assert best.proven_optimal
    greedy = simulate(items, roster, taxonomy, RouterOptions(policy="greedy"))
    assert Report.of(final_outcomes(greedy).values(), roster, "greedy").data["total_value"] == 1.0


def test_the_relaxation_bounds_the_optimum_and_prices_the_marginal_minute(
    taxonomy: Taxonomy,
) -> None:
    # Given one expert with room for one and a half billing answers, a low then a critical one
    roster, items = a_low_then_a_critical_for_one_expert(budget_minutes=15)
    # When the optimum's program is solved with fractions allowed
    relaxed = relaxation(items, roster, taxonomy)
    # Then it takes the critical one and half the low one, above the optimum's whole answers
    taken = {relaxed.options[i].item: share for i, share in enumerate(relaxed.shares.tolist())}
    assert taken == pytest.approx({0: 0.5, 1: 1.0})
    assert relaxed.value == pytest.approx(8.5)
    assert optimal(items, roster, taxonomy).value == 8.0
    # and a minute of her day is worth what the half-taken low one earns a minute
    assert relaxed.prices == pytest.approx({("anna", T0.date()): 0.1})


def test_every_policy_reports_zero_overruns_on_a_busy_day(taxonomy: Taxonomy) -> None:
    roster = [employee(f"e{i}", budget_minutes_per_day=20 + 5 * i) for i in range(4)]
    items = [
        (mention(f"m{i}", T0 + minutes(3 * i), handle=f"@u{i}"),
         classification(f"m{i}", ["billing", "outage", "praise"][i % 3], list(Urgency)[i % 4]))
        for i in range(120)
    ]  # fmt: skip
    for policy in POLICIES:
        decisions = simulate(items, roster, taxonomy, RouterOptions(policy=policy))
        report = Report.of(final_outcomes(decisions).values(), roster, policy).data
        assert report["budget_overruns"] == 0, policy
        assert report["mentions"] == 120
        assert report["backlogged"] == 0  # after every SLA has passed nothing waits


def test_gini() -> None:
    assert gini([1, 1, 1, 1]) == 0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([]) == 0


def test_adaptive_decides_at_once_when_the_person_at_work_leaves_before_the_next_plan(
    taxonomy: Taxonomy,
) -> None:
    # Given anna at work 09:00-10:10 and an hour of traffic seen (T0 is Monday 09:00)
    router = Router([employee("anna", hours="mon-fri 09:00-10:10")], taxonomy)
    router.route(mention("m0"), classification("m0", urgency=Urgency.LOW), T0)
    # When a low-urgency mention arrives at 10:05, before the plan of 10:15
    at = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)
    decisions = router.route(mention("m1"), classification(urgency=Urgency.LOW), at)
    # Then it is not held for that plan: she has left by then, so she takes it now
    assert assigned_to(decisions, "m1") == "anna"
