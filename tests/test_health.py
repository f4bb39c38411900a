"""/healthz, /readyz and /metrics on one port: liveness, readiness that names what failed."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from config.settings import QueueSettings
from connectors.observer import ConnectorObserver
from routing.errors import QueueUnavailableError
from workers.health import MetricsServer, Readiness, Status
from workers.metrics import Metrics
from workers.roles import Worker


def get(port: int, path: str) -> tuple[int, bytes, str]:
    """Status, body and content type of a GET (error statuses included)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers["Content-Type"]


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
def served(metrics: Metrics) -> Iterator[tuple[int, Readiness]]:
    readiness = Readiness()
    with MetricsServer(metrics.registry, "127.0.0.1", 0, readiness) as server:
        yield server.start(), readiness


def test_healthz_answers_alive(served: tuple[int, Readiness]) -> None:
    port, _ = served

    status, body, kind = get(port, "/healthz")

    assert (status, json.loads(body)) == (200, {"status": "alive"})
    assert kind == "application/json"


def test_readyz_is_ready_when_every_check_passes(served: tuple[int, Readiness]) -> None:
    port, readiness = served
    readiness.add("queue", lambda: None)
    readiness.add("model", Status(None))

    status, body, _ = get(port, "/readyz")

    assert status == 200
    assert json.loads(body) == {
        "status": "ready",
        "checks": {"model": "ok", "queue": "ok"},
        "failed": {},
    }


def test_readyz_names_the_failed_check_and_why(
    served: tuple[int, Readiness], metrics: Metrics
) -> None:
    # Given a queue that is fine, a model not loaded yet and a connector that went down
    port, readiness = served
    model = Status("model not loaded yet")
    readiness.add("queue", lambda: None)
    readiness.add("model", model)
    readiness.add("connectors", metrics.connectors.readiness)
    metrics.connectors.state("webhook", up=True)
    metrics.connectors.state("x", up=False)

    status, body, _ = get(port, "/readyz")

    assert status == 503
    report = json.loads(body)
    assert report["status"] == "not ready"
    assert report["failed"] == {
        "connectors": "connector down: x",
        "model": "model not loaded yet",
    }
    assert report["checks"]["queue"] == "ok"

    # When the model loads and the connector comes back, it is ready again
    model.ok()
    metrics.connectors.state("x", up=True)
    assert get(port, "/readyz")[0] == 200


def test_a_check_that_raises_fails_readiness_instead_of_the_endpoint(
    served: tuple[int, Readiness],
) -> None:
    port, readiness = served

    def broken() -> str | None:
        raise ConnectionError("broker gone")

    readiness.add("queue", broken)

    status, body, _ = get(port, "/readyz")

    assert status == 503
    assert json.loads(body)["failed"] == {"queue": "check raised ConnectionError: broker gone"}


def test_metrics_are_served_on_the_same_port(
    served: tuple[int, Readiness], metrics: Metrics
) -> None:
    port, _ = served
    metrics.connectors.received("x", 3)

    status, body, kind = get(port, "/metrics")

    assert status == 200
    assert kind.startswith("text/plain")
    assert 'mention_router_mentions_in_total{connector="x"} 3.0' in body.decode()
    assert get(port, "/nope")[0] == 404


def test_the_server_binds_loopback_by_default(metrics: Metrics) -> None:
    with MetricsServer(metrics.registry) as server:
        port = server.start()
        assert server.address == ("127.0.0.1", port)
        assert get(port, "/healthz")[0] == 200


class _FlakyStage:
    """A stage whose queue is unreachable for its first two rounds, then fine."""

    def __init__(self) -> None:
        self.rounds = 0

    def step(self, max_records: int, timeout: float = 0.0) -> int:
        self.rounds += 1
        if self.rounds <= 2:
            raise QueueUnavailableError("no broker reachable at kafka:9092")
        return 0

    def resync(self) -> None:
        """Nothing to drop."""

    def close(self) -> None:
        """Nothing to close."""


def test_the_worker_reports_an_unreachable_queue_to_readiness_until_it_is_back() -> None:
    # Given a worker whose queue is unreachable for two rounds
    status = Status("queue not open yet")
    stage = _FlakyStage()
    seen: list[str | None] = []
    worker = Worker(
        [stage],
        QueueSettings(poll_timeout_seconds=0.01),
        stop=lambda: stage.rounds >= 4,
        sleep=lambda seconds: seen.append(status()),
        queue_status=status,
    )

    # When it runs
    worker.run()

    # Then readiness named the cause while it retried, and is fine once a round succeeded
    assert seen[:2] == ["queue unreachable: no broker reachable at kafka:9092"] * 2
    assert status() is None


def test_the_observer_port_moves_the_connector_metrics(metrics: Metrics) -> None:
    observer: ConnectorObserver = metrics.connectors

    observer.received("webhook", 5)
    observer.duplicate("webhook", 2)
    observer.error("webhook", "unauthorized")
    observer.state("webhook", up=False)

    value = metrics.registry.get_sample_value
    assert value("mention_router_mentions_in_total", {"connector": "webhook"}) == 5
    assert value("mention_router_connector_duplicates_total", {"connector": "webhook"}) == 2
    labels = {"connector": "webhook", "kind": "unauthorized"}
    assert value("mention_router_connector_errors_total", labels) == 1
    assert value("mention_router_connector_up", {"connector": "webhook"}) == 0
    assert metrics.connectors.readiness() == "connector down: webhook"
