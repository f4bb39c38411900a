"""What the inbox's handlers share: the read model, people, tokens, the queue and the clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from config.settings import TopicNames
from connectors.queues import Queue
from routing.actions import Action
from workers.actions import publish_action
from workers.classifying import CorrectionStore
from workers.inbox.people import People
from workers.inbox.readmodel import InboxModel
from workers.inbox.tokens import TokenStore


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Inbox:
    """One inbox process's parts; handlers read the model and publish actions, nothing else."""

    model: InboxModel
    people: People
    tokens: TokenStore
    queue: Queue
    topics: TopicNames
    corrections: CorrectionStore
    clock: Callable[[], datetime] = utc_now
    caught_up: bool = False
    public_url: str = ""  # the inbox's own address, for links in notifications

    def act(self, kind: str, mention_id: str, employee_id: str, by: str, **fields: Any) -> Action:
        """Publish an action for the router; it takes effect once the router has decided it."""
        action = Action.model_validate(
            {
                "id": uuid.uuid4().hex,
                "kind": kind,
                "mention_id": mention_id,
                "employee_id": employee_id,
                "by": by,
                "at": self.clock(),
                **fields,
            }
        )
        publish_action(self.queue, self.topics, action)
        return action
