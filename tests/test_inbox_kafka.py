"""The inbox's actions on Kafka: published, performed by the active router, in its log."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from config.settings import TopicNames
from connectors.queues import open_queue
from tests.asgi import TestClient
from tests.inbox_world import NOW, World, build_world, mention
from tests.kafka_broker import Broker
from workers.decisionlog import decisions_in
from workers.inbox import create_app

pytestmark = [pytest.mark.kafka, pytest.mark.integration, pytest.mark.slow]


def _until(world: World, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Step the router and the read model until ``done`` (joining a group takes a while)."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        world.stage.step(500, timeout=0.2)
        world.follower.step(1000, timeout=0.2)


def test_actions_reach_the_router_and_a_restart_sees_the_same_budgets(
    kafka_broker: Broker, tmp_path: Path
) -> None:
    # Given an inbox and a router on Kafka, with topics of their own, and anna's assignment
    prefix = f"inbox-{uuid.uuid4().hex[:8]}-"
    names = {f: prefix + f for f in ("mentions", "classified", "decisions", "assignments")}
    topics = TopicNames(**names, dead_letters=prefix + "dead", actions=prefix + "actions")
    queue = open_queue(kafka_broker.url(quick=True))
    try:
        world = build_world(queue, tmp_path, topics=topics)
        world.publish(mention("k1"))
        _until(world, lambda: bool(list(world.inbox.model.open_of("anna"))))

        # When anna reports it done in 4 minutes through the API
        client = TestClient(create_app(world.inbox))
        got = client.post(
            "/api/assignments/k1/done", json={"minutes": 4}, headers=world.headers("anna")
        )
        assert got.status_code == 202
        _until(world, lambda: world.inbox.model.items["k1"].state == "done")

        # Then the router logged it, and a router rebuilt from the log has 4 minutes on her books
        rebuilt = world.new_router()
        rebuilt.rebuild(decisions_in(queue, topics.decisions))
        assert rebuilt.ledger.used("anna", NOW) == 4
        assert world.inbox.model.ledger.used("anna", NOW) == 4
        world.stage.close()
    finally:
        queue.close()
