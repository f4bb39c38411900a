"""Prometheus metrics for the pipeline, on an injected registry (the catalogue is in the README)."""

from __future__ import annotations

import collections
import importlib.metadata
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from routing.models import Classification, Outcome
from workers.collectors import (
    BacklogCollector,
    BacklogSnapshot,
    LagCollector,
    LagReading,
    TeamCollector,
    TeamSnapshot,
)
from workers.health import MetricsServer
from workers.observing import ConnectorMeter

__all__ = [
    "CONNECTORS",
    "OUTCOMES",
    "PREFIX",
    "SPANS",
    "STAGES",
    "URGENCIES",
    "BacklogSnapshot",
    "LagReading",
    "Metrics",
    "MetricsServer",
    "TeamSnapshot",
]

PREFIX = "mention_router"
OUTCOMES = ("assigned", "backlogged", "escalated", "rejected")
URGENCIES = ("low", "normal", "high", "critical")
STAGES = ("ingest", "classify", "route", "deliver")
CONNECTORS = ("replay", "queue")
SPANS = ("ingest_to_classified", "classified_to_assigned", "ingest_to_assigned")
# Per-batch stage time: sub-millisecond batches up to multi-second stalls.
_STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# A mention's age at a stage: SLAs run from 15 minutes (critical) to a day (low).
_FLOW_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)


class Metrics:
    """Every metric mention-router exports. Labels are bounded: no mention or employee ids."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._flow(registry)
        self._routing(registry)
        self.build = Info(
            f"{PREFIX}_build", "Version of mention-router and its model", registry=registry
        )
        self._teams = TeamCollector(PREFIX)
        registry.register(self._teams)
        self._backlog = BacklogCollector(PREFIX)
        registry.register(self._backlog)
        self._lag = LagCollector(PREFIX)
        registry.register(self._lag)
        self.connectors = ConnectorMeter(registry, PREFIX, self.mentions_in, CONNECTORS)
        self._export_zeros()

    def _flow(self, registry: CollectorRegistry) -> None:
        self.mentions_in = Counter(
            f"{PREFIX}_mentions_in",
            "Mentions accepted into the queue, per connector",
            ["connector"],
            registry=registry,
        )
        self.malformed = Counter(
            f"{PREFIX}_malformed_mentions",
            "Records written to a dead letter (file or topic): malformed or unclassifiable",
            ["connector"],
            registry=registry,
        )
        self.stage_records = Counter(
            f"{PREFIX}_stage_records",
            "Records a pipeline stage has processed",
            ["stage"],
            registry=registry,
        )
        self.stage_seconds = Histogram(
            f"{PREFIX}_stage_duration_seconds",
            "Time one batch spent in a pipeline stage",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_latency_seconds",
            "A mention's age between two points of the pipeline, from its created_at",
            ["span"],
            buckets=_FLOW_BUCKETS,
            registry=registry,
        )

    def _routing(self, registry: CollectorRegistry) -> None:
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
        self.sla_breaches = Counter(
            f"{PREFIX}_sla_breaches",
            "Mentions whose SLA deadline passed before they were assigned, per urgency",
            ["urgency"],
            registry=registry,
        )
        self.backlog = Gauge(
            f"{PREFIX}_backlog_mentions",
            "Mentions waiting for someone to become available",
            registry=registry,
        )

    def _export_zeros(self) -> None:
        """Every bounded label value from the start, so rates and alerts work at once."""
        for urgency in URGENCIES:
            self.sla_breaches.labels(urgency)
            for outcome in OUTCOMES:
                self.outcomes.labels(outcome, urgency)
        for stage in STAGES:
            self.stage_seconds.labels(stage)
            self.stage_records.labels(stage)
        for span in SPANS:
            self.latency.labels(span)
        for connector in CONNECTORS:
            self.mentions_in.labels(connector)
            self.malformed.labels(connector)

    def set_build(self, model_version: str = "") -> None:
        """The build info: this package's version and the model the tags come from."""
        try:
            version = importlib.metadata.version("mention-router")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
        self.build.info({"version": version, "model_version": model_version})

    def observe_classified(self, classifications: Iterable[Classification]) -> None:
        # Counted per label first: a child lookup costs more than the increment.
        counts = collections.Counter((c.topic, c.urgency.value) for c in classifications)
        for (topic, urgency), count in counts.items():
            self.classified.labels(topic, urgency).inc(count)

    def observe_outcome(self, outcome: Outcome) -> None:
        self.observe_outcomes([outcome])

    def observe_outcomes(self, outcomes: Iterable[Outcome]) -> None:
        counts = collections.Counter((o.status, o.urgency.value) for o in outcomes)
        for (status, urgency), count in counts.items():
            self.outcomes.labels(status, urgency).inc(count)

    def set_teams(self, teams: Mapping[str, TeamSnapshot]) -> None:
        """Budget used and left, and people on duty, per team (read at the next scrape)."""
        self._teams.snapshot = dict(teams)

    def set_backlog(self, snapshot: BacklogSnapshot) -> None:
        self.backlog.set(snapshot.size)
        self._backlog.snapshot = snapshot

    def watch_lag(self, read: Callable[[], LagReading]) -> None:
        """Read consumer lag with ``read`` at every scrape: ``(topic, partition, records)``."""
        self._lag.read = read
