"""The inbox's actions as the active router consumes them: performed, or dead-lettered with why.

    inbox --publish--> actions --RouteStage (the active router)--> decisions

The actions consumer joins its group only while its router is active, so on Kafka the actions
partition always goes to the member that owns the router's input too.
"""

from __future__ import annotations

import logging

from config.settings import TopicNames
from connectors.queues import Consumer, Queue
from connectors.queues.base import Record
from routing.actions import Action, ActionRejectedError, perform
from routing.decisions import Decision
from routing.router import Router
from workers.outbox import decode_records

ACTIONS_GROUP = "router-actions"

log = logging.getLogger("mention_router")


def encode_action(action: Action) -> bytes:
    return action.__pydantic_serializer__.to_json(action, exclude_none=True)


def decode_action(data: bytes) -> Action:
    return Action.model_validate_json(data)


def publish_action(queue: Queue, topics: TopicNames, action: Action) -> None:
    """Queue ``action`` for the router, keyed by its mention so one mention's actions keep order."""
    queue.publish(topics.actions, [(action.mention_id, encode_action(action))])


class ActionIntake:
    """The active router's reader of the actions topic, opened on first use, reset on hand-over."""

    def __init__(self, queue: Queue, topics: TopicNames) -> None:
        self._queue = queue
        self._topic = topics.actions
        self._consumer: Consumer | None = None

    def poll(self, max_records: int) -> list[Record]:
        if self._consumer is None:
            self._consumer = self._queue.consumer(self._topic, ACTIONS_GROUP)
        return self._consumer.poll(max_records, 0.0)

    def perform(
        self, router: Router, records: list[Record]
    ) -> tuple[list[Decision], list[tuple[Record, str]]]:
        """The decisions the actions lead to, and the records refused with the reason."""
        decoded, refused = decode_records(records, decode_action)
        decisions: list[Decision] = []
        for record, action in decoded:
            try:
                decisions += perform(router, action)
            except ActionRejectedError as exc:
                log.info("action %s (%s) refused: %s", action.id, action.kind, exc)
                refused.append((record, f"action refused: {exc}"))
        return decisions, refused

    def commit(self, records: list[Record]) -> None:
        if records and self._consumer is not None:
            self._consumer.commit(records)

    def reset(self) -> None:
        """Leave the group (another member takes the router over); uncommitted actions wait."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
