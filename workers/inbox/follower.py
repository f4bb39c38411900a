"""Keeps the read model current: reads the decision log from its start, then follows it.

The follower never commits: each inbox process rebuilds its model from the whole log. New
assignments seen after the catch-up (not those replayed at start) are announced to webhooks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from connectors.notify import NewAssignment
from connectors.queues import Consumer
from routing.errors import QueueError
from routing.models import Assignment
from workers.decisionlog import decode_decision
from workers.inbox.context import Inbox
from workers.inbox.readmodel import Item

log = logging.getLogger("mention_router.inbox")
Announce = Callable[[NewAssignment], object]


class Follower:
    """Folds decisions into the model in the background; ``step`` is one poll, for tests too."""

    def __init__(self, inbox: Inbox, group: str, announce: Announce | None = None) -> None:
        self._inbox = inbox
        self._group = group
        self._announce = announce
        self._consumer: Consumer | None = None
        self._live_from = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self, max_records: int = 1000, timeout: float = 0.0) -> int:
        inbox = self._inbox
        if self._consumer is None:
            self._live_from = inbox.queue.end_offset(inbox.topics.decisions)
            self._consumer = inbox.queue.consumer(inbox.topics.decisions, self._group)
        records = self._consumer.poll(max_records, timeout)
        for record in records:
            try:
                decision = decode_decision(record.value)
            except ValueError:
                log.warning("skipped an unreadable decision at offset %d", record.offset)
                continue
            item = inbox.model.apply(decision)
            if item is not None and record.offset >= self._live_from:
                self._tell(item)
        if not records and not inbox.caught_up:
            inbox.caught_up = True
            log.info("inbox caught up with the decision log (%d events)", inbox.model.version)
        return len(records)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="inbox-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._consumer is not None:
            self._consumer.close()

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                self.step(1000, 0.2)
                delay = 0.5
            except QueueError as exc:
                log.warning("decision log unreadable, retrying in %.1f s: %s", delay, exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _tell(self, item: Item) -> None:
        a = item.outcome
        if self._announce is None or not isinstance(a, Assignment):
            return
        employee = self._inbox.people.employees.get(a.employee_id)
        self._announce(
            NewAssignment(
                mention_id=a.mention_id,
                employee_id=a.employee_id,
                employee_name=employee.name if employee else a.employee_id,
                team=a.team,
                urgency=a.urgency.value,
                topic=a.topic,
                platform=a.platform,
                account=a.account,
                due_at=a.due_at,
                url=item.mention.url if item.mention else None,
                inbox_url=self._inbox.public_url,
            )
        )
