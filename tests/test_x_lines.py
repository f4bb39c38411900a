"""Stream lines and tweet objects: normalized, or refused with a reason; fuzzed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.x import KeepAlive, Notice, TweetLine, page_mentions, parse_stream_line
from routing.errors import PayloadError
from tests.xapi import stream_line, tweet, user


def test_a_tweet_line_becomes_a_mention_with_its_rule_tags() -> None:
    event = parse_stream_line(stream_line(tweet(5, lang="qme"), tag="mention-router:contoso"))
    assert isinstance(event, TweetLine)
    assert event.tags == ("mention-router:contoso",)
    assert event.mention.lang is None  # "qme" (media only) is no language
    assert event.mention.created_at.isoformat() == "2026-03-02T09:14:05+00:00"


@pytest.mark.parametrize("line", [b"", b"\r\n", b"   "])
def test_blank_lines_are_keep_alives(line: bytes) -> None:
    assert parse_stream_line(line) == KeepAlive()


def test_a_deleted_tweet_event_is_a_notice() -> None:
    line = {"errors": [{"title": "Not Found Error", "detail": "Could not find tweet 9."}]}
    event = parse_stream_line(json.dumps(line).encode())
    assert event == Notice("Not Found Error: Could not find tweet 9.", disconnect=False)


def test_an_operational_disconnect_is_a_notice_that_says_so() -> None:
    error = {"title": "operational-disconnect", "disconnect_type": "UpstreamUncleanDisconnect"}
    line = {"errors": [error]}
    event = parse_stream_line(json.dumps(line).encode())
    assert isinstance(event, Notice)
    assert event.disconnect


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'{"matching_rules": []}', "neither data nor errors"),
        (b'{"data": "text"}', "data: expected a tweet object"),
        (b'{"data": {"id": "1", "text": "t", "created_at": "2026-03-02T09:00:00Z"}}',
         "data.author_id: field required"),
        (json.dumps({"data": tweet(1, created_at="yesterday")}).encode(), "created_at"),
        (json.dumps({"data": tweet(1, created_at="2026-03-02T09:00:00")}).encode(), "timezone"),
        (b"\xff\xfe{}", "invalid JSON"),
    ],
)  # fmt: skip
def test_bad_lines_are_refused_with_a_reason(line: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_stream_line(line)
    assert reason in caught.value.reason
    assert caught.value.connector == "x"


def test_a_page_yields_each_tweet_or_its_refusal() -> None:
    page: dict[str, Any] = {
        "data": [tweet(1), {"id": "2"}, tweet(3)],
        "includes": {"users": [user("u1", followers=52_000)]},
    }
    results = list(page_mentions(page))
    assert [type(r).__name__ for r in results] == ["Mention", "PayloadError", "Mention"]
    first = results[0]
    assert not isinstance(first, PayloadError)
    assert first.author.followers == 52_000


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "data",
                    "errors",
                    "includes",
                    "id",
                    "text",
                    "author_id",
                    "created_at",
                    "users",
                    "title",
                    "matching_rules",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def _parsed_or_refused(line: bytes) -> None:
    """Either an event, or a ``PayloadError`` that says why; nothing else escapes."""
    result: object
    try:
        result = parse_stream_line(line)
    except PayloadError as exc:
        result = exc
    if isinstance(result, PayloadError):
        assert result.reason
    else:
        assert isinstance(result, KeepAlive | Notice | TweetLine)


@settings(max_examples=300, deadline=1000)
@given(line=st.binary(max_size=400))
def test_fuzz_arbitrary_bytes_never_crash(line: bytes) -> None:
    _parsed_or_refused(line)


@settings(max_examples=300, deadline=1000)
@given(value=json_values)
def test_fuzz_arbitrary_json_never_crashes(value: object) -> None:
    _parsed_or_refused(json.dumps(value).encode())


@settings(max_examples=200, deadline=1000)
@given(fields=st.dictionaries(st.sampled_from(["id", "text", "author_id", "created_at", "lang",
                                               "conversation_id", "referenced_tweets"]),
                              json_values, max_size=7))  # fmt: skip
def test_fuzz_tweet_fields_of_any_type_never_crash(fields: dict[str, Any]) -> None:
    _parsed_or_refused(json.dumps({"data": {**tweet(1), **fields}}).encode())
