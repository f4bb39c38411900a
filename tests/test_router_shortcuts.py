"""The router's shortcuts change nothing: trusted models, shortlists, remembered audits."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from routing.audits import AuditBook
from routing.decisions import Audit, Candidate, Decision
from routing.eligibility import Need
from routing.ledger import BudgetLedger
from routing.models import Assignment, Employee, NotAssigned, Urgency
from routing.policies import (
    AdaptivePolicy,
    Available,
    GreedyPolicy,
    Offer,
    _most_proficient,
)
from routing.router import Router, RouterOptions
from routing.trusted import trusted
from tests.factories import T0, classification, employee, mention
from tests.test_router_properties import SETTINGS, TAXONOMY, rosters, streams


def outcome_fields() -> dict[str, object]:
    return {
        "mention_id": "m1",
        "platform": "x",
        "topic": "billing",
        "urgency": Urgency.HIGH,
        "language": "en",
        "created_at": T0,
        "due_at": T0 + timedelta(hours=1),
    }


@pytest.mark.parametrize(
    ("cls", "values"),
    [
        (
            Assignment,
            outcome_fields()
            | {
                "employee_id": "anna",
                "team": "care",
                "account": "@anna",
                "score": 3.2,
                "estimated_minutes": 10.0,
                "assigned_at": T0,
            },
        ),
        (NotAssigned, outcome_fields() | {"status": "backlogged", "reason": "r", "decided_at": T0}),
        (Candidate, {"employee_id": "anna", "value": 1.6, "ruled_out": "outside working hours"}),
        (
            Audit,
            {
                "policy": "adaptive",
                "considered": (Candidate(employee_id="anna", value=1.0),),
                "more_considered": 0,
                "not_considered": {"no skill in billing": 2},
                "chosen": None,
                "note": "n",
            },
        ),
    ],
)
def test_a_trusted_model_is_the_validated_model(cls: type[BaseModel], values: dict) -> None:  # type: ignore[type-arg]
    # Given values that pass validation as they are
    validated = cls(**values)
    # When the same model is built without validating again
    built = trusted(cls, **values)
    # Then it is equal, with the same fields set, and serializes the same
    assert built == validated
    assert built.model_fields_set == validated.model_fields_set
    assert built.model_dump_json() == validated.model_dump_json()
    assert list(built.__dict__) == list(validated.__dict__)  # fields in the same order


def test_a_trusted_decision_carries_its_outcome_as_given() -> None:
    outcome = trusted(
        NotAssigned, **outcome_fields(), status="escalated", reason="r", decided_at=T0
    )
    built = trusted(Decision, outcome=outcome, mention=mention(), classification=classification())
    validated = Decision(outcome=outcome, mention=mention(), classification=classification())
    assert built == validated
    assert (
        built.model_fields_set
        == validated.model_fields_set
        == {
            "outcome",
            "mention",
            "classification",
        }
    )
    assert Decision.model_validate_json(built.model_dump_json()) == validated


def test_trusted_refuses_what_it_cannot_build_faithfully() -> None:
    class Aliased(BaseModel):
        name: str = Field(alias="Name")

    class WithDefaults(BaseModel):
        tags: list[str] = []

    # A missing required field, an alias, a mutable default not given: each is refused
    with pytest.raises(TypeError, match="mention_id"):
        trusted(NotAssigned, status="rejected")
    with pytest.raises(TypeError, match="alias"):
        trusted(Aliased, name="x")
    with pytest.raises(TypeError, match="tags"):
        trusted(WithDefaults)
    assert trusted(WithDefaults, tags=["a"]) == WithDefaults(tags=["a"])


class CheckedGreedy(GreedyPolicy):
    """Greedy with its shortlists, checked against a fresh policy and the plain scan."""

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]:
        chosen = super().choose(offer, candidates, ledger, available)
        assert chosen == GreedyPolicy().choose(offer, candidates, ledger, available)
        plain = _most_proficient(offer.need.topic, candidates, ledger, offer.now, available)
        assert chosen[0] == plain
        return chosen


class CheckedAdaptive(AdaptivePolicy):
    """Adaptive with its shortlists, checked against a fresh policy (nobody left out)."""

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]:
        chosen = super().choose(offer, candidates, ledger, available)
        fresh = AdaptivePolicy(self.plan, self.pacing)
        assert chosen == fresh.choose(offer, candidates, ledger, available)
        return chosen


def route_giving_time_back(router: Router, stream: list, rng: random.Random) -> None:  # type: ignore[type-arg]
    """Route ``stream``; people give time back now and then (work done fast, declines)."""
    open_: list[Assignment] = []
    for i, (offset, topic, urgency, platform, language) in enumerate(
        sorted(stream, key=lambda a: a[0])
    ):
        at = T0 + timedelta(minutes=offset)
        decisions = router.route(
            mention(f"m{i}", at, platform=platform, handle=f"@c{i}"),
            classification(f"m{i}", topic, urgency, language),
            at,
        )
        open_ += [d.outcome for d in decisions if isinstance(d.outcome, Assignment)]
        while open_ and rng.random() < 0.5:
            a = open_.pop(rng.randrange(len(open_)))
            if a.mention_id not in router._book.open:  # settled or moved meanwhile
                continue
            now = router.clock or at
            if rng.random() < 0.5:
                router.done(a.mention_id, a.employee_id, a.estimated_minutes / 4, now)
            else:
                decisions = router.decline(a.mention_id, a.employee_id, "busy", now)
                open_ += [d.outcome for d in decisions if isinstance(d.outcome, Assignment)]
    router.tick(T0 + timedelta(days=4))


@SETTINGS
@given(rosters, streams, st.sampled_from(["greedy", "adaptive"]), st.randoms())
def test_shortlists_change_no_choice_even_when_time_is_given_back(
    roster: tuple[Employee, ...],
    stream: list,  # type: ignore[type-arg]
    policy: str,
    rng: random.Random,
) -> None:
    # Given a router whose policy checks each choice against one that remembers nothing
    router = Router(roster, TAXONOMY, RouterOptions(policy=policy))
    router.policy = (
        CheckedGreedy() if policy == "greedy" else CheckedAdaptive(router.plan, pacing=0.5)
    )
    # When it routes a stream while people give time back: work done fast, or declined
    # Then every choice, through to the end of every SLA, matched (checked as it is made)
    route_giving_time_back(router, stream, rng)


class CheckedAudits(AuditBook):
    """Audits kept while their people's gaps hold, checked against a book that keeps none."""

    def audit(
        self,
        need: Need,
        weight: float,
        now: datetime,
        candidates: Sequence[Employee],
        chosen: Employee | None,
        note: str,
    ) -> Audit:
        kept = super().audit(need, weight, now, candidates, chosen, note)
        fresh = AuditBook(self.policy, self.limit, self.ledger, self.duty, self.gaps)
        assert kept == fresh.audit(need, weight, now, candidates, chosen, note)
        return kept


@SETTINGS
@given(rosters, streams, st.sampled_from(["greedy", "adaptive", "balance"]), st.randoms())
def test_kept_audits_are_the_audits_asked_afresh(
    roster: tuple[Employee, ...],
    stream: list,  # type: ignore[type-arg]
    policy: str,
    rng: random.Random,
) -> None:
    # Given a router whose audits are checked against audits worked out afresh
    router = Router(roster, TAXONOMY, RouterOptions(policy=policy, audit_limit=2))
    router._auditor = CheckedAudits(policy, 2, router.ledger, router._duty, router._catalogue.gaps)
    # When it routes a stream across shifts and budget days while people give time back
    # Then every audit matched the one asked afresh (checked as each is made)
    route_giving_time_back(router, stream, rng)


def test_the_ledger_tells_whose_books_changed() -> None:
    # Given a ledger of two people
    people = [employee("a", budget_minutes_per_day=60), employee("b", budget_minutes_per_day=60)]
    ledger = BudgetLedger(people)
    start = ledger.changes
    # When "a" spends and then gets part of it back
    ledger.spend("a", T0, 10)
    ledger.adjust("a", T0, -4)
    # Then the ledger counts both changes, and only "a" changed since the start
    assert ledger.changes == start + 2
    assert ledger.changed_since([people[0]], start)
    assert not ledger.changed_since([people[1]], start)
    assert not ledger.changed_since(people, ledger.changes)
    # And her standing is what is left, within her local day
    left, day_start, day_end = ledger.standing("a", T0)
    assert left == ledger.remaining("a", T0) == 54
    assert day_start <= T0.timestamp() < day_end
    assert day_end - day_start in (23 * 3600, 24 * 3600, 25 * 3600)


def test_the_shortlisted_scan_is_checked_against_refunds() -> None:
    # Given two people with the same skill, the first of whom spends her day at once
    people = [employee("a", budget_minutes_per_day=10), employee("b", budget_minutes_per_day=60)]
    router = Router(people, TAXONOMY, RouterOptions(policy="greedy"))
    router.policy = CheckedGreedy()
    first = router.route(mention("m1", T0), classification("m1"), T0)[-1].outcome
    assert isinstance(first, Assignment)
    assert first.employee_id == "a"
    second = router.route(mention("m2", T0), classification("m2"), T0)[-1].outcome
    assert isinstance(second, Assignment)
    assert second.employee_id == "b"
    # When "a" declines, her ten minutes come back and the mention is offered again
    later = T0 + timedelta(minutes=1)
    redone = router.decline("m1", "a", "busy", later)
    # Then the refund counts, and "a" is not left out of the next choice
    assert router.ledger.refunds == 1
    third = router.route(mention("m3", later), classification("m3"), later)[-1].outcome
    assert [d.outcome.employee_id for d in redone if isinstance(d.outcome, Assignment)] == ["b"]
    assert isinstance(third, Assignment)
    assert third.employee_id == "a"
