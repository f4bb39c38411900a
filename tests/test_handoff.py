"""Handing decoded records to the next stage in one process, and the summary of delivered lines."""

from __future__ import annotations

import gc
import weakref
from datetime import datetime, timedelta, timezone

from connectors.codec import decode_mention, encode_mention, encode_outcome
from routing.models import Assignment, NotAssigned, Outcome, Urgency
from tests.factories import T0, employee, mention
from workers.handoff import Handoff
from workers.heap import settled_heap
from workers.summary import Summary


def test_a_kept_record_is_handed_over_once_and_others_are_decoded() -> None:
    # Given a handoff holding a mention under its encoded bytes
    handoff = Handoff(decode_mention)
    kept = mention("m1")
    data = handoff.keep(encode_mention(kept), kept)
    # When the same bytes are read back, twice, and bytes it does not hold once
    first, second = handoff.decode(data), handoff.decode(data)
    other = handoff.decode(encode_mention(mention("m2")))
    # Then the first read is the kept object itself, the others are decoded alike
    assert first is kept
    assert second == kept
    assert second is not kept
    assert other == mention("m2")
    assert handoff.hits == 1
    assert len(handoff) == 0


def test_a_handoff_forgets_the_oldest_past_its_limit() -> None:
    handoff = Handoff(decode_mention, limit=2)
    made = [mention(f"m{i}") for i in range(3)]
    encoded = [handoff.keep(encode_mention(m), m) for m in made]
    assert len(handoff) == 2
    assert handoff.decode(encoded[0]) == made[0]  # forgotten: decoded again, still right
    assert handoff.decode(encoded[2]) is made[2]
    assert handoff.hits == 1


def test_records_read_out_of_order_are_still_right() -> None:
    # Given a handoff holding three mentions in the order they were published
    handoff = Handoff(decode_mention)
    made = [mention(f"m{i}") for i in range(3)]
    encoded = [handoff.keep(encode_mention(m), m) for m in made]
    # When the third is read first, then the first and the second
    third, first, second = (handoff.decode(encoded[i]) for i in (2, 0, 1))
    # Then each is what its bytes hold: the third handed over, those passed over decoded
    assert [first, second, third] == made
    assert third is made[2]
    assert handoff.hits == 1
    assert len(handoff) == 0


def _assigned(mention_id: str, at: datetime, due: datetime, who: str = "anna") -> Assignment:
    return Assignment(
        mention_id=mention_id, employee_id=who, team="care", platform="x", account=f"@{who}",
        topic="billing", urgency=Urgency.HIGH, language="en", score=3.2,
        estimated_minutes=12.5, created_at=at - timedelta(minutes=5), assigned_at=at, due_at=due,
    )  # fmt: skip


def _waiting(mention_id: str, status: str, urgency: Urgency = Urgency.NORMAL) -> NotAssigned:
    return NotAssigned.model_validate(
        {
            "status": status, "mention_id": mention_id, "platform": "x", "topic": "billing",
            "urgency": urgency, "language": "en", "reason": "nobody on duty", "created_at": T0,
            "decided_at": T0, "due_at": T0 + timedelta(hours=1),
        }
    )  # fmt: skip


def test_the_summary_of_delivered_lines_is_the_summary_of_the_outcomes() -> None:
    # Given outcomes as a replay delivers them: one mention backlogged then assigned, one
    # assigned late, one over two local days, one escalated, one rejected, one still waiting
    tokyo = timezone(timedelta(hours=9))
    roster = [employee("anna", timezone="Asia/Tokyo"), employee("ben")]
    late = T0 + timedelta(hours=3)
    outcomes: list[Outcome] = [
        _waiting("m1", "backlogged"),
        _assigned("m2", T0.astimezone(tokyo), T0 + timedelta(hours=1)),
        _assigned("m1", T0 + timedelta(minutes=30), T0 + timedelta(hours=1), who="ben"),
        _assigned("m3", late, late - timedelta(minutes=1)),
        _assigned("m4", T0 + timedelta(hours=15), T0 + timedelta(hours=16)),
        _waiting("m5", "escalated", Urgency.CRITICAL),
        _waiting("m6", "rejected", Urgency.LOW),
        _waiting("m7", "backlogged"),
    ]
    # When the summary is made from their outcome-file lines
    from_lines = Summary.from_lines([encode_outcome(o) for o in outcomes], roster)
    # Then it says what the summary of the outcomes themselves says
    expected = Summary.from_outcomes(outcomes, roster)
    assert from_lines.as_dict() == expected.as_dict()
    assert from_lines.render() == expected.render()
    assert expected.mentions == 7
    assert expected.statuses == {"assigned": 4, "escalated": 1, "rejected": 1, "backlogged": 1}


def test_a_settled_heap_gives_the_collector_its_settings_back() -> None:
    assert gc.isenabled()
    with settled_heap():
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


class _Ring:
    """An object in a reference cycle with itself: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_the_sweeper_collects_cycles_every_so_many_records() -> None:
    with settled_heap(every=100) as sweeper:
        # Given cyclic garbage made while automatic collections are off
        ring = weakref.ref(_Ring())
        sweeper.passed(60)
        # Then it stays until enough records have passed, and is collected then
        assert ring() is not None
        sweeper.passed(40)
        assert ring() is None
        assert sweeper.sweeps == 1
        # And what survived the sweep is set aside from the next ones
        assert gc.get_freeze_count() > 0
