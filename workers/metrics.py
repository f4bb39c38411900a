"""Prometheus metrics for the pipeline, on an injected registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from routing.models import Classification, Outcome

PREFIX = "mention_router"
OUTCOMES = ("assigned", "backlogged", "escalated", "rejected")
STAGES = ("ingest", "classify", "route", "deliver")
CONNECTORS = ("replay", "queue")
# Per-batch stage time: sub-millisecond batches up to multi-second stalls.
_STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class _BudgetCollector(Collector):
    """Budget minutes left per team, read at scrape time from the latest snapshot."""

    def __init__(self) -> None:
        self.snapshot: Mapping[str, float] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            f"{PREFIX}_budget_remaining_minutes",
            "Budget minutes left today, summed over a team's employees",
            labels=["team"],
        )
        for team, minutes in sorted(self.snapshot.items()):
            family.add_metric([team], minutes)
        yield family


LagReading = Iterable[tuple[str, int, float]]


class _LagCollector(Collector):
    """Records not yet committed per topic and partition, read from the queue at scrape time."""

    def __init__(self) -> None:
        self.read: Callable[[], LagReading] = tuple

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            f"{PREFIX}_queue_lag_records",
            "Records a worker's consumer group has not yet committed, per topic and partition",
            labels=["topic", "partition"],
        )
        for topic, partition, lag in sorted(self.read()):
            family.add_metric([topic, str(partition)], lag)
        yield family


class Metrics:
    """Every metric mention-router exports. Labels are bounded: no mention or employee ids."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.mentions_in = Counter(
            f"{PREFIX}_mentions_in",
            "Mentions accepted into the queue, per connector",
            ["connector"],
            registry=registry,
        )
        self.malformed = Counter(
            f"{PREFIX}_malformed_mentions",
            "Records refused as malformed and written to the dead-letter file, per connector",
            ["connector"],
            registry=registry,
        )
        self.duplicates = Counter(
            f"{PREFIX}_duplicate_mentions",
            "Mentions dropped because their id was already decided",
            registry=registry,
        )
        self.classified = Counter(
            f"{PREFIX}_mentions_classified",
            "Mentions classified, per topic and urgency",
            ["topic", "urgency"],
            registry=registry,
        )
        self.outcomes = Counter(
            f"{PREFIX}_outcomes",
            "Routing outcomes: assigned, backlogged, escalated or rejected, per urgency",
            ["outcome", "urgency"],
            registry=registry,
        )
        self.backlog = Gauge(
            f"{PREFIX}_backlog_mentions",
            "Mentions waiting for someone to become available",
            registry=registry,
        )
        self.stage_seconds = Histogram(
            f"{PREFIX}_stage_duration_seconds",
            "Time one batch spent in a pipeline stage",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=registry,
        )
        self.build = Info(
            f"{PREFIX}_build", "Version of mention-router and its model", registry=registry
        )
        self._budget = _BudgetCollector()
        registry.register(self._budget)
        self._lag = _LagCollector()
        registry.register(self._lag)
        for outcome in OUTCOMES:  # export zeros from the start so rates work at once
            for urgency in ("low", "normal", "high", "critical"):
                self.outcomes.labels(outcome, urgency)
        for stage in STAGES:
            self.stage_seconds.labels(stage)
        for connector in CONNECTORS:
            self.mentions_in.labels(connector)
            self.malformed.labels(connector)

    def observe_classified(self, classifications: list[Classification]) -> None:
        for c in classifications:
            self.classified.labels(c.topic, c.urgency.value).inc()

    def observe_outcome(self, outcome: Outcome) -> None:
        self.outcomes.labels(outcome.status, outcome.urgency.value).inc()

    def set_budget_remaining(self, per_team: Mapping[str, float]) -> None:
        self._budget.snapshot = dict(per_team)

    def watch_lag(self, read: Callable[[], LagReading]) -> None:
        """Read consumer lag with ``read`` at every scrape: ``(topic, partition, records)``."""
        self._lag.read = read


class MetricsServer:
    """The /metrics endpoint on a background thread, bound to one address."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._registry = registry
        self._host = host
        self._port = port
        self._server: WSGIServer | None = None
        self._thread: Thread | None = None

    def start(self) -> int:
        """Start serving and return the bound port (useful with port 0)."""
        server, thread = start_http_server(self._port, addr=self._host, registry=self._registry)
        self._server, self._thread = server, thread
        return int(server.server_port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
