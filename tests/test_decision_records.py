"""Decision records put together from remembered parts are pydantic's own bytes."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from routing.decisions import Decision, Feedback
from routing.models import Employee, Mention
from routing.router import Router, RouterOptions
from tests.factories import T0, classification, mention
from tests.test_router_properties import SETTINGS, TAXONOMY, rosters, streams
from workers.decisionlog import decode_decision, encode_decision
from workers.recordparts import Parts


def plain(decision: Decision) -> bytes:
    return decision.__pydantic_serializer__.to_json(decision, exclude_none=True)


@SETTINGS
@given(rosters, streams, st.sampled_from(["adaptive", "greedy"]), st.booleans())
def test_every_record_is_the_serializers_bytes(
    roster: tuple[Employee, ...],
    stream: list,  # type: ignore[type-arg]
    policy: str,
    with_raw: bool,
) -> None:
    # Given the decisions of a router over a stream (assigned, backlogged, escalated, rejected),
    # some mentions carrying optional fields and some decisions feedback on assignments
    router = Router(roster, TAXONOMY, RouterOptions(policy=policy))
    decisions: list[Decision] = []
    for i, (offset, topic, urgency, platform, language) in enumerate(
        sorted(stream, key=lambda a: a[0])
    ):
        at = T0 + timedelta(minutes=offset)
        extra = {"raw": {"n": i, "gone": None}, "url": "https://x.test/1"} if with_raw else {}
        decisions += router.route(
            mention(f"m{i}", at, platform=platform, handle=f"@c{i % 5}", **extra),
            classification(f"m{i}", topic, urgency, language),
            at,
        )
        for d in decisions[-2:]:
            if d.outcome is not None and d.outcome.status == "assigned" and i % 3 == 0:
                decisions += router.decline(d.outcome.mention_id, d.outcome.employee_id, "", at)
    decisions += router.tick(T0 + timedelta(days=4))
    # When each is encoded, twice (the second time from remembered parts)
    for _ in range(2):
        for decision in decisions:
            encoded = encode_decision(decision)
            # Then the bytes are exactly the serializer's, and read back to the decision
            assert encoded == plain(decision)
            assert decode_decision(encoded) == decision


def test_feedback_and_subclasses_take_the_serializers_way() -> None:
    class Tagged(Mention):
        tag: str = "t"

    # Given feedback, and a decision whose mention is a subclass of Mention
    feedback = Decision(
        feedback=Feedback(kind="done", mention_id="m1", employee_id="anna", at=T0, minutes=3)
    )
    outcome = Router([], TAXONOMY).route(mention("m2"), classification("m2"), T0)[0].outcome
    base = mention("m2")
    sub = Tagged(**base.model_dump())
    odd = Decision.model_construct(outcome=outcome, mention=sub, classification=None, audit=None)
    # Then both are encoded as pydantic encodes them
    assert encode_decision(feedback) == plain(feedback)
    assert encode_decision(odd) == odd.__pydantic_serializer__.to_json(
        odd, exclude_none=True, warnings=False
    )


def test_parts_are_kept_per_object_and_only_for_the_classes_listed() -> None:
    parts = Parts([Mention])
    first, twin = mention("m1"), mention("m1")
    # Given a part encoded once, then an equal but distinct object
    assert parts.encode(first) == plain_part(first)
    assert parts.encode(twin) == plain_part(first)
    # Then a model of another class is left to its caller
    assert parts.encode(classification("m1")) is None
    # And many parts later the first is still encoded right
    for i in range(10_000):
        parts.encode(mention(f"n{i}"))
    assert parts.encode(first) == plain_part(first)


def plain_part(model: Mention) -> bytes:
    return model.__pydantic_serializer__.to_json(model, exclude_none=True)
