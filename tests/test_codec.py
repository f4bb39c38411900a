"""The stream codec: round trips, deterministic bytes, concise reasons for malformed records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.codec import (
    decode_classified,
    decode_mention,
    decode_outcome,
    encode_classified,
    encode_mention,
    encode_outcome,
)
from routing.errors import MalformedMentionError
from routing.models import (
    Assignment,
    Author,
    Classification,
    Mention,
    NotAssigned,
    Sentiment,
    Urgency,
)

WHEN = datetime(2015, 2, 22, 22, 39, 18, tzinfo=timezone(timedelta(hours=-8)))

identifiers = st.text(min_size=1, max_size=30).filter(lambda s: s.strip())
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=offsets
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
mentions = st.builds(
    Mention,
    id=identifiers,
    platform=st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True),
    author=st.builds(
        Author,
        id=identifiers,
        handle=st.text(max_size=30),
        followers=st.integers(0, 10**12),
    ),
    text=st.text(max_size=300),
    created_at=aware_datetimes,
    lang=st.none() | st.from_regex(r"[a-z]{2}", fullmatch=True),
    url=st.none() | st.text(max_size=40),
    conversation_id=st.none() | st.text(max_size=20),
    in_reply_to=st.none() | st.text(max_size=20),
    labels=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=4),
    raw=st.none() | st.dictionaries(st.text(max_size=10), json_values, max_size=4),
)


def a_mention(**changes: Any) -> Mention:
    fields: dict[str, Any] = {
        "id": "x:569748316776325120",
        "platform": "x",
        "author": Author(id="usagibrian", handle="@usagibrian"),
        "text": "@VirginAmerica Use another browser!",
        "created_at": WHEN,
        "lang": "en",
        "labels": {"topic": "billing", "urgency": "high"},
    }
    return Mention(**(fields | changes))


def record(**changes: Any) -> bytes:
    """A valid stream record as a dict, with ``changes`` applied (None removes a key)."""
    body: dict[str, Any] = {
        "id": "x:1",
        "platform": "x",
        "author": {"id": "u1", "handle": "@u1", "followers": 3},
        "text": "hello",
        "created_at": "2015-02-22T22:39:18-08:00",
    }
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


# --- mentions -------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(mentions)
def test_any_mention_survives_a_round_trip_byte_for_byte(m: Mention) -> None:
    # Given any valid mention / When it is encoded and decoded
    data = encode_mention(m)
    back = decode_mention(data)
    # Then it is the same mention, and encoding it again gives the same bytes
    assert back == m
    assert encode_mention(back) == data


def test_encoding_is_one_compact_line_in_field_order() -> None:
    data = encode_mention(a_mention())
    assert b"\n" not in data
    assert b": " not in data
    assert list(json.loads(data)) == [
        "id",
        "platform",
        "author",
        "text",
        "created_at",
        "lang",
        "url",
        "conversation_id",
        "in_reply_to",
        "labels",
    ]
    assert json.loads(data)["created_at"] == "2015-02-22T22:39:18-08:00"


def test_raw_is_left_out_only_when_absent() -> None:
    assert "raw" not in json.loads(encode_mention(a_mention()))
    with_raw = a_mention(raw={"favorite_count": 2, "entities": None})
    assert json.loads(encode_mention(with_raw))["raw"] == {"favorite_count": 2, "entities": None}


def test_decode_accepts_text_as_well_as_bytes() -> None:
    m = a_mention()
    assert decode_mention(encode_mention(m).decode()) == m


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b'{"id": "x:1",', "invalid JSON: EOF while parsing", id="invalid-json"),
        pytest.param(
            record(author={"handle": "@u1"}), "author.id: field required", id="missing-field"
        ),
        pytest.param(
            record(created_at="2015-02-22T22:39:18"),
            "created_at: must include a UTC offset",
            id="naive-datetime",
        ),
        pytest.param(
            record(author={"id": "u1", "followers": -1}),
            "author.followers: must be >= 0",
            id="negative-followers",
        ),
        pytest.param(record(foo=1), "unknown field 'foo'", id="unknown-field"),
        pytest.param(b"[1, 2]", "expected a JSON object, got an array", id="array"),
        pytest.param(b"42", "expected a JSON object, got a number", id="number"),
        pytest.param(
            record(text="cafe").replace(b"cafe", b"caf\xe9"),
            "not valid UTF-8: byte 0xe9",
            id="invalid-utf8",
        ),
        pytest.param(record(lang="eng"), "lang: must match", id="bad-language"),
        pytest.param(record(id=""), "id: must not be empty", id="empty-id"),
    ],
)
def test_malformed_records_are_refused_with_a_clear_reason(data: bytes, reason: str) -> None:
    with pytest.raises(MalformedMentionError) as caught:
        decode_mention(data, line=7, source="stream.jsonl")
    assert reason in caught.value.reason
    assert caught.value.line == 7
    assert str(caught.value).startswith("stream.jsonl:7: ")


def test_many_problems_make_one_short_line() -> None:
    # Given a record wrong in five places
    data = record(id="", platform="X!", author={"followers": -5}, created_at="later", extra=1)
    # When it is decoded
    with pytest.raises(MalformedMentionError) as caught:
        decode_mention(data)
    # Then the reason is one line naming the first problems and counting the rest
    reason = caught.value.reason
    assert "\n" not in reason
    assert len(reason) < 300
    assert reason.startswith("id: must not be empty; ")
    assert reason.endswith("more")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_decode_or_raise_malformed(data: bytes) -> None:
    assert_decodes_or_refuses(data)


@settings(max_examples=300, deadline=None)
@given(
    json_values
    | st.dictionaries(
        st.sampled_from(["id", "platform", "author", "text", "created_at", "labels", "x"]),
        json_values,
    )
)
def test_random_json_decodes_or_raises_malformed(value: object) -> None:
    assert_decodes_or_refuses(json.dumps(value))


def assert_decodes_or_refuses(data: bytes | str) -> None:
    # Anything but a Mention or MalformedMentionError escapes and fails the test.
    try:
        result: Mention | MalformedMentionError = decode_mention(data)
    except MalformedMentionError as exc:
        result = exc
    assert isinstance(result, Mention) or result.reason


# --- classified mentions and outcomes ----------------------------------------------


def a_classification() -> Classification:
    return Classification(
        mention_id="x:569748316776325120",
        topic="billing",
        urgency=Urgency.HIGH,
        language="en",
        sentiment=Sentiment.NEGATIVE,
        confidence={"topic": 0.8125, "urgency": 0.1},
        model_version="2024-05-01",
        urgency_reasons=("keyword: refund",),
    )


def test_a_classified_mention_round_trips() -> None:
    m, c = a_mention(raw={"a": [1, 2.5]}), a_classification()
    data = encode_classified(m, c)
    assert set(json.loads(data)) == {"mention", "classification"}
    assert decode_classified(data) == (m, c)
    assert encode_classified(*decode_classified(data)) == data


def test_a_classified_record_without_its_classification_is_malformed() -> None:
    with pytest.raises(MalformedMentionError, match="classification: field required"):
        decode_classified(b'{"mention": ' + encode_mention(a_mention()) + b"}")


def an_assignment() -> Assignment:
    return Assignment(
        mention_id="x:1",
        employee_id="e-anna",
        team="care",
        platform="x",
        account="@anna_care",
        topic="billing",
        urgency=Urgency.HIGH,
        language="en",
        score=0.75,
        estimated_minutes=6.0,
        created_at=WHEN,
        assigned_at=WHEN + timedelta(seconds=3),
        due_at=WHEN + timedelta(minutes=60),
    )


def a_backlog_entry() -> NotAssigned:
    return NotAssigned(
        status="backlogged",
        mention_id="x:2",
        platform="x",
        topic="unknown",
        urgency=Urgency.LOW,
        language="und",
        reason="nobody on shift speaks the language",
        created_at=datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC),
        decided_at=datetime(2017, 10, 31, 22, 10, 48, tzinfo=UTC),
        due_at=datetime(2017, 11, 1, 22, 10, 47, tzinfo=UTC),
    )


@pytest.mark.parametrize("outcome", [an_assignment(), a_backlog_entry()], ids=["assigned", "not"])
def test_outcomes_round_trip_with_identical_bytes(outcome: Assignment | NotAssigned) -> None:
    data = encode_outcome(outcome)
    back = decode_outcome(data)
    assert type(back) is type(outcome)
    assert back == outcome
    assert encode_outcome(back) == data == encode_outcome(outcome)


def test_an_outcome_names_its_status_and_iso_times() -> None:
    body = json.loads(encode_outcome(an_assignment()))
    assert body["status"] == "assigned"
    assert body["due_at"] == "2015-02-22T23:39:18-08:00"
    assert json.loads(encode_outcome(a_backlog_entry()))["status"] == "backlogged"


def test_an_outcome_with_an_unknown_status_is_refused() -> None:
    data = encode_outcome(a_backlog_entry()).replace(b'"backlogged"', b'"lost"')
    with pytest.raises(MalformedMentionError, match=r"^outcome: "):
        decode_outcome(data)
