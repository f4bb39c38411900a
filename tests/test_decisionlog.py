"""The decision log's records: the encoder built from parts writes what pydantic would."""

from __future__ import annotations

from datetime import timedelta

from connectors.codec import encode_outcome
from routing.decisions import Decision
from routing.models import NotAssigned, Taxonomy, Urgency
from routing.options import RouterOptions
from routing.router import Router
from tests.factories import T0, classification, employee, mention, minutes
from workers.decisionlog import (
    DecisionEncoder,
    OutcomeLine,
    decode_decision,
    decode_outcome_line,
    encode_decision,
)


def routed(taxonomy: Taxonomy) -> list[Decision]:
    """Decisions of every kind from a real router: assigned, backlogged then assigned or
    escalated, rejected (an employee's own post), and feedback on an assignment."""
    roster = [
        employee("anna", budget_minutes_per_day=20, hours="mon-fri 09:00-17:00"),
        employee("bob", skills={"outage": 0.9}, budget_minutes_per_day=10),
    ]
    router = Router(roster, taxonomy, RouterOptions(escalation_targets={"care": "care-lead"}))
    decisions: list[Decision] = []
    for i in range(12):
        at = T0 + minutes(7 * i)
        topic, urgency = ("billing", Urgency.NORMAL) if i % 3 else ("outage", Urgency.CRITICAL)
        m = mention(f"m{i}", at, text=f"mention {i}", lang="en", url=None if i % 2 else "u")
        decisions += router.route(m, classification(m.id, topic, urgency), at)
    own = mention("own", T0 + minutes(90), handle="@anna")
    decisions += router.route(own, classification("own"), T0 + minutes(90))
    decisions += router.tick(T0 + timedelta(days=1))
    assigned = next(d.outcome for d in decisions if d.outcome and d.outcome.status == "assigned")
    decisions += router.accept(assigned.mention_id, assigned.employee_id, T0 + minutes(100))
    return decisions


def test_the_encoder_writes_the_bytes_of_the_whole_decision(taxonomy: Taxonomy) -> None:
    # Given decisions of every kind, some mentions decided more than once
    decisions = routed(taxonomy)
    statuses = {d.outcome.status if d.outcome else "feedback" for d in decisions}
    assert statuses == {"assigned", "backlogged", "escalated", "rejected", "feedback"}
    assert len({d.mention_id for d in decisions}) < len(decisions)
    encoder = DecisionEncoder()
    for decision in decisions:
        # When one encoder encodes them in order
        data, delivered = encoder.encode(decision)
        # Then each record is the model's own encoding, and the line is the outcome's line
        assert data == encode_decision(decision)
        line = encode_outcome(decision.outcome) if decision.outcome is not None else b""
        assert delivered == OutcomeLine(decision.outcome, line)
        assert decode_decision(data) == decision
        assert decode_outcome_line(data) == delivered


def test_a_mention_decided_again_with_other_tags_is_encoded_anew(taxonomy: Taxonomy) -> None:
    # Given a backlogged decision encoded once
    [first] = [d for d in routed(taxonomy) if d.outcome and d.outcome.status == "backlogged"][:1]
    encoder = DecisionEncoder()
    encoder.encode(first)
    assert first.classification is not None
    # When the same mention is logged again with a corrected classification
    fixed = first.classification.model_copy(update={"topic": "outage"})
    again = first.model_copy(update={"classification": fixed})
    # Then the record holds the new classification, not the kept bytes
    assert encoder.encode(again)[0] == encode_decision(again)
    assert decode_decision(encoder.encode(again)[0]).classification == fixed


def test_kept_mentions_are_bounded(taxonomy: Taxonomy) -> None:
    # Given an encoder that keeps two waiting mentions
    waiting = [d for d in routed(taxonomy) if d.outcome and d.outcome.status == "backlogged"]
    assert len(waiting) > 2
    encoder = DecisionEncoder(limit=2)
    # When more mentions wait, every record is still right
    assert [encoder.encode(d)[0] for d in waiting] == [encode_decision(d) for d in waiting]
    assert len(encoder) == 2


def test_a_null_target_is_left_out_of_the_record_but_kept_in_the_line() -> None:
    # Given a backlogged outcome (no escalation target) logged with its mention
    m, c = mention(), classification()
    outcome = NotAssigned(
        status="backlogged", mention_id=m.id, platform="x", topic="billing",
        urgency=Urgency.NORMAL, language="en", reason="nobody free", created_at=T0,
        decided_at=T0, due_at=T0 + minutes(240),
    )  # fmt: skip
    decision = Decision(outcome=outcome, mention=m, classification=c)
    data, delivered = DecisionEncoder().encode(decision)
    # Then the record omits the null, as the model's encoding does; the line keeps it
    assert b"escalated_to" not in data
    assert data == encode_decision(decision)
    assert delivered.line.endswith(b',"escalated_to":null}')
