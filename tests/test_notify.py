"""Webhooks on a new assignment: the three payloads, retries with backoff, never blocking."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from connectors.notify import NewAssignment, WebhookNotifier, WebhookTarget, payload
from connectors.queues import MemoryQueue
from tests.factories import T0, minutes
from tests.inbox_world import build_world, mention
from workers.inbox import Follower


class _Hook:
    """A local webhook receiver answering with the given statuses in turn (then 200)."""

    def __init__(self, statuses: list[int], hold: threading.Event | None = None) -> None:
        self.statuses = statuses
        self.hold = hold
        self.bodies: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if hook.hold is not None:
                    hook.hold.wait(10)
                hook.bodies.append(body)
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_factory() -> Iterator[Callable[..., _Hook]]:
    made: list[_Hook] = []

    def make(statuses: list[int] | None = None, hold: threading.Event | None = None) -> _Hook:
        made.append(_Hook(list(statuses or []), hold))
        return made[-1]

    yield make
    for hook in made:
        hook.close()


EVENT = NewAssignment(
    mention_id="x:1", employee_id="anna", employee_name="Anna", team="care", urgency="high",
    topic="billing", platform="x", account="@anna", due_at=T0 + minutes(60),
    url="https://x.com/u/status/1", inbox_url="http://127.0.0.1:8470/",
)  # fmt: skip


def _until(done: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_three_payload_formats() -> None:
    generic = payload(EVENT, "json")
    assert generic["event"] == "assignment.created"
    assert generic["employee_id"] == "anna"
    assert generic["url"] == "https://x.com/u/status/1"
    slack = payload(EVENT, "slack")
    assert set(slack) == {"text"}
    assert "New high billing mention on x for Anna" in slack["text"]
    assert "<https://x.com/u/status/1>" in slack["text"]
    teams = payload(EVENT, "teams")
    assert teams["@type"] == "MessageCard"
    assert teams["potentialAction"][0]["targets"][0]["uri"] == "https://x.com/u/status/1"


def test_slack_text_cannot_ping_the_channel() -> None:
    event = NewAssignment(**{**vars(EVENT), "employee_name": "<!channel> Anna"})
    assert "<!channel>" not in payload(event, "slack")["text"]


def test_a_failing_webhook_is_retried_with_backoff_until_it_answers(
    hook_factory: Callable[..., _Hook],
) -> None:
    # Given a webhook failing twice (503, 500) before it takes the message
    hook = hook_factory([503, 500])
    notifier = WebhookNotifier([WebhookTarget(hook.url, "slack", employee="anna")], base_delay=0.05)

    # When an assignment for anna is announced
    assert notifier.notify(EVENT) == 1

    # Then it is delivered on the third attempt, the same body each time
    _until(lambda: notifier.delivered == 1)
    assert len(hook.bodies) == 3
    assert hook.bodies[0] == hook.bodies[2] == payload(EVENT, "slack")
    notifier.close()


def test_a_refused_webhook_is_not_retried_and_others_still_get_theirs(
    hook_factory: Callable[..., _Hook],
) -> None:
    refused, fine = hook_factory([404]), hook_factory()
    targets = [
        WebhookTarget(refused.url, "json", team="care"),
        WebhookTarget(fine.url, "teams", team="care"),
        WebhookTarget(fine.url, "json", employee="bert"),  # not for anna
    ]
    notifier = WebhookNotifier(targets, base_delay=0.05)
    assert notifier.notify(EVENT) == 2
    _until(lambda: notifier.delivered + notifier.failed == 2)
    assert (notifier.delivered, notifier.failed) == (1, 1)
    assert len(refused.bodies) == 1
    assert [b["@type"] for b in fine.bodies] == ["MessageCard"]
    notifier.close()


def test_an_unreachable_webhook_gives_up_after_its_attempts() -> None:
    target = WebhookTarget("http://127.0.0.1:9/nothing-listens", "json", employee="anna")
    notifier = WebhookNotifier([target], attempts=3, base_delay=0.01, timeout=1)
    notifier.notify(EVENT)
    _until(lambda: notifier.failed == 1)
    assert notifier.delivered == 0
    notifier.close()


def test_notify_returns_while_the_webhook_hangs(hook_factory: Callable[..., _Hook]) -> None:
    # Given a webhook that does not answer until released
    release = threading.Event()
    hook = hook_factory(hold=release)
    notifier = WebhookNotifier([WebhookTarget(hook.url, employee="anna")], timeout=20)

    # When two assignments are announced, both calls return with the webhook still hanging
    notifier.notify(EVENT)
    notifier.notify(EVENT)
    assert not release.is_set()
    release.set()
    _until(lambda: notifier.delivered == 2)
    notifier.close()


def test_the_inbox_announces_new_assignments_but_not_replayed_ones(tmp_path: Path) -> None:
    # Given one assignment already in the log when the inbox starts
    world = build_world(MemoryQueue(), tmp_path)
    world.publish(mention("old"))
    world.settle()
    told: list[NewAssignment] = []
    world.inbox.public_url = "https://inbox.example/"
    follower = Follower(world.inbox, "inbox-2", told.append)
    follower.step()

    # When another mention is assigned while it runs
    world.publish(mention("new", url="https://x.com/u/status/9"))
    world.settle()
    for _ in range(10):
        if not follower.step():
            break

    # Then only the new one is announced, with its link
    assert [(e.mention_id, e.employee_id, e.url, e.inbox_url) for e in told] == [
        ("new", "anna", "https://x.com/u/status/9", "https://inbox.example/")
    ]
