"""Webhook parsers and signatures: each bad body refused with a reason; fuzzed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.webhooks import (
    parse_generic,
    parse_meta,
    sign,
    verify_signature,
    verify_subscription,
)
from routing.errors import PayloadError, SignatureError
from tests.webhook_payloads import feed_change, generic_mention, meta_body


def test_generic_one_mention_or_a_batch() -> None:
    one = parse_generic(json.dumps(generic_mention(1)).encode())
    batch = parse_generic(
        json.dumps({"mentions": [generic_mention(2), generic_mention(3)]}).encode()
    )
    assert [m.id for m in one] == ["zendesk:1"]
    assert [m.id for m in batch] == ["zendesk:2", "zendesk:3"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"{", "invalid JSON"),
        (b"\xff\xfe", "not valid UTF-8"),
        (b"[]", "expected a JSON object, got an array"),
        (b'{"mentions": {}}', "mentions: expected an array"),
        (b'{"mentions": []}', "mentions: must not be empty"),
        (b'{"mentions": [1]}', "mentions[0]: expected an object, got a number"),
        (json.dumps({"mentions": [generic_mention(1), generic_mention(2, created_at="noon")]})
         .encode(), "mentions[1].created_at"),
        (json.dumps({"mentions": [generic_mention(1)], "extra": 1}).encode(),
         "unknown field 'extra'"),
        (json.dumps(generic_mention(1, colour="red")).encode(), "colour"),
    ],
)  # fmt: skip
def test_generic_refusals_name_the_problem(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_generic(body)
    assert reason in caught.value.reason


def test_generic_batch_limit() -> None:
    body = json.dumps({"mentions": [generic_mention(i) for i in range(3)]}).encode()
    with pytest.raises(PayloadError, match="3 in one batch, at most 2"):
        parse_generic(body, max_batch=2)


def test_meta_comments_and_posts_become_mentions() -> None:
    body = meta_body(
        feed_change("comment"),
        feed_change("status", post_id="1000_78", message="Storing in Utrecht?"),
        feed_change("comment", verb="remove"),  # not a new mention
        feed_change("reaction", reaction_type="like"),  # not a mention at all
        feed_change("status", post_id="1000_79", **{"from": {"id": "1000", "name": "Page"}}),
    )
    comment, post = parse_meta(body)
    assert (comment.id, comment.platform) == ("facebook:1000_77_9", "facebook")
    assert (comment.conversation_id, comment.in_reply_to) == (
        "facebook:1000_77",
        "facebook:1000_77",
    )
    assert comment.created_at.isoformat() == "2026-03-02T09:14:05+00:00"
    assert comment.author.id == "555"
    assert comment.raw is not None
    assert (post.id, post.in_reply_to, post.text) == (
        "facebook:1000_78",
        None,
        "Storing in Utrecht?",
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"object": "user", "entry": []}', "object: expected 'page'"),
        (b'{"object": "page"}', "entry: expected an array"),
        (meta_body(feed_change("comment", created_time="yesterday")), "created_at"),
        (meta_body(feed_change("comment", created_time=10**20)), "out of range"),
        (meta_body(feed_change("comment", **{"from": None})), "from: field required"),
    ],
)
def test_meta_refusals_name_the_problem(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_meta(body)
    assert reason in caught.value.reason


def test_signatures() -> None:
    body = b'{"object": "page"}'
    verify_signature("meta", body, sign(body, "s3cret"), "s3cret", name="X-Hub-Signature-256")
    wrong = sign(body + b" ", "s3cret")
    for header, reason in [
        (None, "missing"),
        ("sha1=abc", "must be sha256="),
        (wrong, "does not match"),
    ]:
        with pytest.raises(SignatureError, match=reason):
            verify_signature("meta", body, header, "s3cret", name="X-Hub-Signature-256")


def test_subscription_handshake() -> None:
    ok = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert verify_subscription(ok, "tok") == "1158201444"
    with pytest.raises(SignatureError, match="verify_token does not match"):
        verify_subscription({**ok, "hub.verify_token": "nope"}, "tok")
    with pytest.raises(SignatureError, match=r"hub\.mode"):
        verify_subscription({**ok, "hub.mode": "unsubscribe"}, "tok")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "object",
                    "entry",
                    "changes",
                    "field",
                    "value",
                    "verb",
                    "item",
                    "mentions",
                    "id",
                    "text",
                    "from",
                    "message",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def _parsed_or_refused(parse: object, body: bytes) -> None:
    """Either a list of mentions, or a ``PayloadError`` that says why; nothing else escapes."""
    result: object
    try:
        result = parse(body)  # type: ignore[operator]
    except PayloadError as exc:
        result = exc
    if isinstance(result, PayloadError):
        assert result.reason
    else:
        assert isinstance(result, list)


@settings(max_examples=300, deadline=1000)
@given(body=st.binary(max_size=400))
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _parsed_or_refused(parse_generic, body)
    _parsed_or_refused(parse_meta, body)


@settings(max_examples=300, deadline=1000)
@given(value=json_values)
def test_fuzz_arbitrary_json(value: object) -> None:
    body = json.dumps(value).encode()
    _parsed_or_refused(parse_generic, body)
    _parsed_or_refused(parse_meta, body)


@settings(max_examples=200, deadline=1000)
@given(value=st.dictionaries(st.sampled_from(["from", "item", "verb", "post_id", "comment_id",
                                              "parent_id", "message", "created_time"]),
                             json_values, max_size=8))  # fmt: skip
def test_fuzz_meta_change_values(value: dict[str, object]) -> None:
    _parsed_or_refused(parse_meta, meta_body({"field": "feed", "value": value}))
