"""A lead's reassignment by hand, and actions as the router performs them."""

from __future__ import annotations

from datetime import datetime

import pytest

from routing.actions import Action, ActionRejectedError, perform
from routing.decisions import Decision
from routing.models import Assignment, NotAssigned, Taxonomy
from routing.router import Router
from tests.factories import T0, classification, employee, mention, minutes


def _router(taxonomy: Taxonomy) -> Router:
    roster = [
        employee("anna", skills={"billing": 0.9}),
        employee("bob", skills={"billing": 0.4}),
        employee("fb", accounts={"facebook": "fb.page"}, skills={"billing": 0.1}),
    ]
    return Router(roster, taxonomy)


def _rebuilt(router: Router, log: list[Decision]) -> Router:
    fresh = Router(router.roster, router.taxonomy)
    fresh.rebuild(log)
    return fresh


def test_reassigning_an_open_assignment_moves_its_time(taxonomy: Taxonomy) -> None:
    # Given anna's assignment of 10 minutes
    router = _router(taxonomy)
    log = router.route(mention(), classification(), T0)
    at = T0 + minutes(5)

    # When a lead hands it to bob
    moved = router.reassign("m1", "bob", by="lena", now=at, reason="anna is out")
    log += moved

    # Then anna gets her time back, bob holds it (his account, the lead's note), and a
    # router rebuilt from the log agrees
    feedback, decision = moved
    assert feedback.feedback is not None
    assert (feedback.feedback.kind, feedback.feedback.by) == ("reassigned", "lena")
    assert isinstance(decision.outcome, Assignment)
    assert (decision.outcome.employee_id, decision.outcome.account) == ("bob", "@bob")
    assert decision.outcome.due_at == T0 + minutes(240)
    assert decision.audit is not None
    assert decision.audit.note == "reassigned by hand by lena: anna is out"
    for r in (router, _rebuilt(router, log)):
        assert (r.ledger.used("anna", at), r.ledger.used("bob", at)) == (0, 10)
    # and bob, not anna, can now finish it
    with pytest.raises(KeyError):
        router.done("m1", "anna", 3, at)
    router.done("m1", "bob", 3, at)
    assert router.ledger.used("bob", at) == 3


def test_an_escalated_mention_can_be_handed_out_even_after_a_restart(taxonomy: Taxonomy) -> None:
    # Given a mention nobody can take (Spanish), escalated at once
    router = _router(taxonomy)
    log = router.route(mention(), classification(language="es"), T0)
    assert isinstance(log[0].outcome, NotAssigned)
    assert log[0].outcome.status == "escalated"
    assert log[0].mention is not None  # it carries its mention for a lead to hand out

    # When a lead hands it to anna on a restarted router
    restarted = _rebuilt(router, log)
    [decision] = restarted.reassign("m1", "anna", by="lena", now=T0 + minutes(1))

    # Then anna holds it and it is on her books
    assert isinstance(decision.outcome, Assignment)
    assert decision.outcome.employee_id == "anna"
    assert restarted.ledger.used("anna", T0) == 10


def test_a_waiting_mention_can_be_handed_out_over_budget(taxonomy: Taxonomy) -> None:
    # Given anna and bob with no budget left, so a mention waits in the backlog
    router = Router(
        [employee("anna", budget_minutes_per_day=10), employee("bob", budget_minutes_per_day=10)],
        taxonomy,
    )
    router.route(mention("a"), classification("a"), T0)
    router.route(mention("b"), classification("b"), T0)
    [waiting] = router.route(mention("c"), classification("c"), T0)
    assert isinstance(waiting.outcome, NotAssigned)
    assert waiting.outcome.status == "backlogged"

    # When the lead hands it to anna anyway
    [decision] = router.reassign("c", "anna", by="lena", now=T0)

    # Then it leaves the backlog and anna's books go over budget: the lead's call
    assert isinstance(decision.outcome, Assignment)
    assert router.backlog_size == 0
    assert router.ledger.used("anna", T0) == 20


@pytest.mark.parametrize(
    ("mention_id", "to", "why"),
    [
        ("m1", "nobody", "not on the roster"),
        ("m1", "anna", "already assigned to anna"),
        ("m1", "fb", "no account on x"),
        ("zz", "bob", "neither open, waiting nor escalated"),
    ],
)
def test_an_impossible_reassignment_is_refused_and_changes_nothing(
    taxonomy: Taxonomy, mention_id: str, to: str, why: str
) -> None:
    router = _router(taxonomy)
    router.route(mention(), classification(), T0)
    with pytest.raises((KeyError, ValueError), match=why):
        router.reassign(mention_id, to, by="lena", now=T0)
    assert router.ledger.used("anna", T0) == 10
    router.done("m1", "anna", 10, T0)  # still anna's


def _action(kind: str, at: datetime = T0, **fields: object) -> Action:
    return Action.model_validate(
        {"id": "a1", "kind": kind, "mention_id": "m1", "employee_id": "anna", "by": "anna",
         "at": at, **fields}
    )  # fmt: skip


def test_actions_are_performed_and_refusals_name_the_cause(taxonomy: Taxonomy) -> None:
    router = _router(taxonomy)
    router.route(mention(), classification(), T0)

    [accepted] = perform(router, _action("accept"))
    [corrected] = perform(router, _action("correct", labels={"topic": "praise"}))
    [done] = perform(router, _action("done", minutes=4))

    assert accepted.feedback is not None
    assert accepted.feedback.kind == "accepted"
    assert corrected.feedback is not None
    assert corrected.feedback.labels == {"topic": "praise"}
    assert done.feedback is not None
    assert router.ledger.used("anna", T0) == 4
    with pytest.raises(ActionRejectedError, match="not an open assignment of anna"):
        perform(router, _action("done", minutes=4))


@pytest.mark.parametrize(
    ("kind", "missing"),
    [("done", "minutes"), ("reassign", "employee to hand it to"), ("correct", "label")],
)
def test_an_incomplete_action_does_not_validate(kind: str, missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        _action(kind)
