"""tweepy driven against a local server that answers like the X API v2."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.queues import MemoryQueue
from connectors.x import TAG_PREFIX, Cursor, mount_base_url, stream_rules
from tests.listening_fixtures import (
    RULES,
    TOKEN,
    RecordingObserver,
    ingestor,
    queued,
    x_source,
)
from tests.xapi import Reply, running_api, stream_line, tweet

DEADLINE = 15.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def run_in_thread(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def ids(queue: MemoryQueue) -> list[str]:
    return [m.id for m in queued(queue)]


def test_normal_traffic_is_normalized_with_author_and_conversation(tmp_path: Path) -> None:
    # Given a stream of two tweets, one a reply in a conversation
    reply = tweet(11, "@contoso still no signal", conversation_id="10",
                  referenced_tweets=[{"type": "replied_to", "id": "10"}])  # fmt: skip
    with running_api() as api:
        api.streams.append([stream_line(tweet(10)), stream_line(reply)])
        queue, observer = MemoryQueue(), RecordingObserver()
        source = x_source(api, ingestor(queue, tmp_path, observer), tmp_path, observer)
        # When the source streams until both are queued
        thread = run_in_thread(source.run_stream)
        wait_for(lambda: len(ids(queue)) == 2, "two mentions")
        source.stop()
        thread.join(5)
    # Then each is a normalized mention with the author's followers and the conversation
    first, second = queued(queue)
    assert (first.id, first.platform, first.author.followers) == ("x:10", "x", 120)
    assert first.author.handle == "@user_u3"
    assert first.url == "https://x.com/user_u3/status/10"
    assert (second.conversation_id, second.in_reply_to) == ("x:10", "x:10")
    assert second.raw is not None
    assert second.raw["data"]["id"] == "11"
    assert observer.accepted["x"] == 2
    assert ("x", True) in observer.states
    assert not thread.is_alive()


def test_rule_sync_adds_changes_and_removes_only_our_rules(tmp_path: Path) -> None:
    desired = stream_rules(RULES)
    with running_api() as api:
        changed = api.add_rule("contoso old query", TAG_PREFIX + "contoso")
        kept = api.add_rule(desired[TAG_PREFIX + "fabrikam"], TAG_PREFIX + "fabrikam")
        removed = api.add_rule("@oldbrand", TAG_PREFIX + "oldbrand")
        foreign = api.add_rule("someone else's rule", "analytics")
        queue, observer = MemoryQueue(), RecordingObserver()
        source = x_source(api, ingestor(queue, tmp_path, observer), tmp_path, observer)
        # When the rules are synchronized from the config
        source.sync_rules()
        rules = {r["tag"]: (rid, r["value"]) for rid, r in api.rules.items()}
    # Then ours match the config, the unchanged one kept its id, others are untouched
    assert {t: v for t, (_, v) in rules.items() if t.startswith(TAG_PREFIX)} == desired
    assert rules[TAG_PREFIX + "fabrikam"][0] == kept
    assert rules["analytics"] == (foreign, "someone else's rule")
    assert changed not in api.rules
    assert removed not in api.rules


def test_dropped_stream_resumes_through_catch_up_without_loss_or_duplicates(
    tmp_path: Path,
) -> None:
    with running_api() as api:
        api.posted = [tweet(i) for i in range(101, 105)]  # what search can find
        # Given a stream that drops after 101 and 102, while 103 and 104 are posted,
        # then comes back with 104 (again) and 105
        api.streams.append([stream_line(tweet(101)), stream_line(tweet(102)), "drop"])
        api.streams.append([stream_line(tweet(104)), stream_line(tweet(105))])
        queue, observer = MemoryQueue(), RecordingObserver()
        sleeps: list[float] = []
        source = x_source(api, ingestor(queue, tmp_path, observer), tmp_path, observer,
                          sleeps=sleeps)  # fmt: skip
        # When the source runs until the reconnected stream has delivered 105
        thread = run_in_thread(source.run_stream)
        wait_for(lambda: "x:105" in ids(queue), "tweet 105")
        source.stop()
        thread.join(5)
        searches = [q for _, p, q in api.requests if p == "/2/tweets/search/recent"]
    # Then every tweet is queued exactly once, in order, and the cursor is at 105
    assert ids(queue) == [f"x:{i}" for i in range(101, 106)]
    assert observer.dropped["x"] == 1  # 104 came from both catch-up and the stream
    assert {q["since_id"] for q in searches} == {"102"}
    assert Cursor(tmp_path / "cursor.json").get("stream") == "105"
    assert len(sleeps) == 1
    assert 0.5 <= sleeps[0] <= 1.0
    assert ("x", "unavailable") in observer.errors
    assert observer.states[-1] == ("x", True)


def test_429_waits_until_the_reset_header_then_connects(tmp_path: Path) -> None:
    now = 1_000_000.0
    with running_api() as api:
        # Given the stream endpoint answers 429 with a reset 30 s from now
        api.streams.append(Reply(429, {"x-rate-limit-reset": str(int(now) + 30)},
                                 {"title": "Too Many Requests"}))  # fmt: skip
        api.streams.append([stream_line(tweet(7))])
        queue, observer = MemoryQueue(), RecordingObserver()
        sleeps: list[float] = []
        source = x_source(api, ingestor(queue, tmp_path, observer), tmp_path, observer,
                          sleeps=sleeps, clock=now)  # fmt: skip
        thread = run_in_thread(source.run_stream)
        wait_for(lambda: ids(queue) == ["x:7"], "tweet 7 after the limit")
        source.stop()
        thread.join(5)
    # Then it waited until the reset (plus a second of slack), marked down then up
    assert sleeps == [31.0]
    assert ("x", "rate_limited") in observer.errors
    assert observer.states[:2] == [("x", False), ("x", True)]


def test_malformed_lines_and_deleted_tweets_are_skipped_not_fatal(tmp_path: Path) -> None:
    deleted = {"errors": [{"title": "Not Found Error", "resource_type": "tweet",
                           "detail": "Could not find tweet with id: [5]."}]}  # fmt: skip
    with running_api() as api:
        api.streams.append([
            b"{not json", b"[1, 2]", json.dumps(deleted).encode(),
            json.dumps({"data": {"id": "6", "text": "no author"}}).encode(),
            stream_line(tweet(8)),
        ])  # fmt: skip
        queue, observer = MemoryQueue(), RecordingObserver()
        source = x_source(api, ingestor(queue, tmp_path, observer), tmp_path, observer)
        thread = run_in_thread(source.run_stream)
        wait_for(lambda: ids(queue) == ["x:8"], "the good tweet")
        source.stop()
        thread.join(5)
    # Then three bad lines are counted as malformed, the deletion notice is no error
    assert observer.errors.count(("x", "malformed")) == 3
    assert ids(queue) == ["x:8"]


def test_tweets_outside_the_rules_are_not_ingested(tmp_path: Path) -> None:
    with running_api() as api:
        api.streams.append([
            stream_line(tweet(20, "tickets for the contoso arena tonight")),  # excluded
            stream_line(tweet(21, "@contoso hallo", lang="de")),  # language not listened to
            stream_line(tweet(22, "@fabrikam hola", lang="es")),  # fabrikam: any language
        ])  # fmt: skip
        queue, observer = MemoryQueue(), RecordingObserver()
        source = x_source(api, ingestor(queue, tmp_path, observer), tmp_path, observer)
        thread = run_in_thread(source.run_stream)
        wait_for(lambda: ids(queue) == ["x:22"], "the fabrikam tweet")
        source.stop()
        thread.join(5)
    assert Cursor(tmp_path / "cursor.json").get("stream") == "22"


def test_mentions_timeline_pages_and_resumes_from_its_cursor(tmp_path: Path) -> None:
    with running_api() as api:
        api.mentions = [tweet(i) for i in (30, 31, 32)]
        queue, observer = MemoryQueue(), RecordingObserver()
        source = x_source(api, ingestor(queue, tmp_path, observer), tmp_path, observer,
                          user_id="42")  # fmt: skip
        # Given a first poll (latest page only), then two more mentions, then a second poll
        source.feeds.poll_mentions("42")
        api.mentions += [tweet(33), tweet(34), tweet(35)]
        source.feeds.poll_mentions("42")
        timeline = [q for _, p, q in api.requests if p == "/2/users/42/mentions"]
    assert ids(queue) == ["x:31", "x:32", "x:33", "x:34", "x:35"]  # oldest first
    assert observer.errors == []
    assert "since_id" not in timeline[0]
    assert timeline[1]["since_id"] == "32"
    assert timeline[2]["pagination_token"] == "2"


def test_rate_limited_timeline_reports_and_waits_for_the_reset(tmp_path: Path) -> None:
    now = 2_000_000.0
    with running_api() as api:
        api.replies["/2/users/42/mentions"] = [
            Reply(429, {"x-rate-limit-reset": str(int(now) + 5)}, {"title": "Too Many Requests"})
        ]
        api.mentions = [tweet(40)]
        queue, observer = MemoryQueue(), RecordingObserver()
        sleeps: list[float] = []
        source = x_source(api, ingestor(queue, tmp_path, observer), tmp_path, observer,
                          sleeps=sleeps, clock=now, user_id="42", stream=False,
                          mentions_poll_seconds=60.0)  # fmt: skip
        thread = run_in_thread(source.run_mentions)
        wait_for(lambda: ids(queue) == ["x:40"], "the mention after the limit")
        wait_for(lambda: len(sleeps) >= 2, "the poll interval")
        source.stop()
        thread.join(5)
    assert sleeps[:2] == [6.0, 60.0]
    assert observer.states[:2] == [("x", False), ("x", True)]


def test_api_base_url_setting_reaches_the_server_and_the_token_is_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with running_api() as api:
        api.mentions = [tweet(50)]
        queue, observer = MemoryQueue(), RecordingObserver()
        # Given only the api_base_url setting points the sessions at the server
        source = x_source(api, ingestor(queue, tmp_path, observer), tmp_path, observer,
                          prepare_session=lambda s: mount_base_url(s, api.url))  # fmt: skip
        source.feeds.poll_mentions("42")
    assert ids(queue) == ["x:50"]
    # tweepy logs request headers at DEBUG: the token is masked there
    assert "Bearer ***" in caplog.text
    assert TOKEN not in caplog.text


def test_stop_interrupts_a_silent_stream_at_once(tmp_path: Path) -> None:
    with running_api() as api:
        api.keep_alive_seconds = 30.0  # nothing arrives for 30 s after the first tweet
        api.streams.append([stream_line(tweet(60))])
        queue, observer = MemoryQueue(), RecordingObserver()
        source = x_source(api, ingestor(queue, tmp_path, observer), tmp_path, observer)
        thread = run_in_thread(source.run_stream)
        wait_for(lambda: ids(queue) == ["x:60"], "the tweet")
        # When the source is stopped while the stream is silent
        started = time.monotonic()
        source.stop(timeout=5)
        thread.join(5)
        stopped_after = time.monotonic() - started
    # Then the stream ended without waiting for the next keep-alive, and without an error
    assert not thread.is_alive()
    assert stopped_after < 3
    assert observer.errors == []
