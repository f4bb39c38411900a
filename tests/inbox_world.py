"""A small inbox world for tests and benchmarks: a roster with leads, a real route stage
processing the inbox's actions on a real queue, and the inbox's read model following it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from config.settings import TopicNames
from connectors.codec import encode_classified
from connectors.queues import Queue
from routing.models import Employee, Mention, Taxonomy, Urgency
from routing.router import Router, RouterOptions
from tests.factories import T0, classification, employee, make_taxonomy, mention, minutes
from workers.classifying import CorrectionStore
from workers.inbox import Follower, Inbox, InboxModel, People, TokenStore
from workers.inbox.people import Lead
from workers.metrics import Metrics
from workers.stages import RouteStage

TOPICS = TopicNames()
NOW = T0 + minutes(1)


def roster() -> tuple[Employee, ...]:
    """care: anna, bert and their lead lena (who answers too); tech: carl."""
    return (
        employee("anna", team="care", skills={"billing": 0.9, "outage": 0.5}),
        employee("bert", team="care", skills={"billing": 0.7, "outage": 0.4}),
        employee("lena", team="care", skills={"praise": 0.5}, lead=True),
        employee("carl", team="tech", skills={"outage": 0.9}),
    )


@dataclass
class World:
    queue: Queue
    inbox: Inbox
    stage: RouteStage
    follower: Follower
    tokens: dict[str, str]
    taxonomy: Taxonomy
    employees: tuple[Employee, ...]

    def publish(
        self,
        m: Mention,
        topic: str = "billing",
        urgency: Urgency = Urgency.NORMAL,
        lang: str = "en",
    ) -> None:
        c = classification(m.id, topic=topic, urgency=urgency, language=lang)
        self.queue.publish(self.inbox.topics.classified, [(m.id, encode_classified(m, c))])

    def settle(self, rounds: int = 50) -> None:
        """Let the router and the read model catch up with everything queued (bounded)."""
        for _ in range(rounds):
            if not self.stage.step(500) + self.follower.step(1000):
                return
        raise AssertionError("the inbox did not settle")

    def headers(self, person: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[person]}"}

    def new_router(self) -> Router:
        return Router(self.employees, self.taxonomy, RouterOptions(policy="greedy"))


def build_world(
    queue: Queue,
    tmp: Path,
    *,
    clock: Callable[[], datetime] = lambda: NOW,
    employees: tuple[Employee, ...] | None = None,
    topics: TopicNames = TOPICS,
) -> World:
    people_list = employees or roster()
    taxonomy = make_taxonomy()
    people = People(people_list, [Lead(id="tara", name="Tara", teams=frozenset({"tech"}))])
    store = TokenStore(tmp / "tokens.json")
    tokens = {p: store.issue(p) for p in ("anna", "bert", "lena", "carl", "tara")}
    inbox = Inbox(
        model=InboxModel(people_list),
        people=people,
        tokens=store,
        queue=queue,
        topics=topics,
        corrections=CorrectionStore(tmp / "corrections.jsonl"),
        clock=clock,
    )
    metrics = Metrics(CollectorRegistry())
    world = World(queue, inbox, None, Follower(inbox, "inbox"), tokens, taxonomy, people_list)  # type: ignore[arg-type]
    world.stage = RouteStage(
        queue, topics, world.new_router, metrics, lambda _: clock(), idle_ticks=False
    )
    return world


__all__ = ["NOW", "TOPICS", "World", "build_world", "mention", "roster"]
