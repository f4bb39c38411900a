"""Outgoing webhooks on a new assignment: generic JSON, Slack or Microsoft Teams payloads.

Deliveries run on a background thread: ``notify`` only queues, so a slow or failing webhook
never holds up routing. A failed delivery (no answer, 429 or 5xx) is retried with exponential
backoff up to ``attempts`` times; other 4xx answers are final. Logs name the target's index and
format, never its URL (a secret) or the mention's text.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx

__all__ = ["NewAssignment", "WebhookNotifier", "WebhookTarget", "payload"]

Format = Literal["json", "slack", "teams"]
log = logging.getLogger("mention_router.notify")


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    format: Format = "json"
    employee: str | None = None
    team: str | None = None

    def wants(self, event: NewAssignment) -> bool:
        return self.employee == event.employee_id or self.team == event.team


@dataclass(frozen=True)
class NewAssignment:
    """What a notification says: who got which mention, how urgent, by when, where to look."""

    mention_id: str
    employee_id: str
    employee_name: str
    team: str
    urgency: str
    topic: str
    platform: str
    account: str
    due_at: datetime
    url: str | None = None
    inbox_url: str = ""


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions (<!channel>): untrusted parts must not contain them.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(event: NewAssignment, fmt: Format) -> dict[str, Any]:
    """The body for one webhook format; the mention's text is left out (it is untrusted)."""
    line = (
        f"New {event.urgency} {event.topic} mention on {event.platform} for "
        f"{event.employee_name}, due {event.due_at.isoformat(timespec='minutes')}"
    )
    links = [u for u in (event.url, event.inbox_url) if u]
    if fmt == "slack":
        text = _slack_escape(line) + "".join(f"\n<{_slack_escape(u)}>" for u in links)
        return {"text": text}
    if fmt == "teams":
        actions = [
            {"@type": "OpenUri", "name": name, "targets": [{"os": "default", "uri": u}]}
            for name, u in (("Original post", event.url), ("Open inbox", event.inbox_url))
            if u
        ]
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": line,
            "title": "New assignment",
            "text": line,
            "potentialAction": actions,
        }
    return {"event": "assignment.created", **{k: str(v) for k, v in vars(event).items() if v}}


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    target: int
    body: dict[str, Any]
    attempt: int = 1


class WebhookNotifier:
    """Queues deliveries and sends them from one daemon thread, retrying with backoff."""

    def __init__(
        self,
        targets: Sequence[WebhookTarget],
        *,
        attempts: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.targets = tuple(targets)
        self._attempts, self._base, self._max = attempts, base_delay, max_delay
        self._timeout, self._clock = timeout, clock
        self._heap: list[_Delivery] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.delivered = 0
        self.failed = 0

    def notify(self, event: NewAssignment) -> int:
        """Queue the event for every target that wants it; returns how many. Never blocks."""
        wanted = [(i, t) for i, t in enumerate(self.targets) if t.wants(event)]
        if not wanted:
            return 0
        with self._cond:
            for i, target in wanted:
                delivery = _Delivery(
                    self._clock(), next(self._seq), i, payload(event, target.format)
                )
                heapq.heappush(self._heap, delivery)
            self._cond.notify()
        self._start()
        return len(wanted)

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout + 1)

    def _start(self) -> None:
        with self._cond:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout) as client:
            while (delivery := self._next()) is not None:
                self._send(client, delivery)

    def _next(self) -> _Delivery | None:
        with self._cond:
            while not self._stopped:
                if self._heap and self._heap[0].due <= self._clock():
                    return heapq.heappop(self._heap)
                wait = self._heap[0].due - self._clock() if self._heap else None
                self._cond.wait(wait)
            return None

    def _send(self, client: httpx.Client, delivery: _Delivery) -> None:
        target = self.targets[delivery.target]
        try:
            status = client.post(target.url, json=delivery.body).status_code
        except httpx.HTTPError as exc:
            status, why = 0, type(exc).__name__
        else:
            why = f"HTTP {status}"
        if 200 <= status < 300:
            self.delivered += 1
            return
        final = 400 <= status < 500 and status != 429  # the request itself is wrong
        if final or delivery.attempt >= self._attempts:
            self.failed += 1
            log.warning("webhook %d (%s) gave up after %d attempt(s): %s",
                        delivery.target, target.format, delivery.attempt, why)  # fmt: skip
            return
        delay = min(self._base * 2 ** (delivery.attempt - 1), self._max)
        log.info("webhook %d (%s) failed (%s); retry in %.1f s",
                 delivery.target, target.format, why, delay)  # fmt: skip
        with self._cond:
            retry = _Delivery(
                self._clock() + delay, next(self._seq), delivery.target, delivery.body,
                delivery.attempt + 1,
            )  # fmt: skip
            heapq.heappush(self._heap, retry)
