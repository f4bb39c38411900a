"""Metrics read at scrape time: team budgets, the backlog's age and consumer lag."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LagReading = Iterable[tuple[str, int, float]]


@dataclass(frozen=True)
class TeamSnapshot:
    """A team's budget minutes today and how many of its people are inside working hours."""

    remaining: float
    used: float = 0.0
    on_duty: int | None = None  # None: not known yet (the router has no clock)


@dataclass(frozen=True)
class BacklogSnapshot:
    """The backlog at the router's clock: its size, oldest age and most of an SLA used."""

    size: int = 0
    oldest_age_seconds: float = 0.0
    sla_used_ratio: float = 0.0


class TeamCollector(Collector):
    """Budget used and left, and people on duty, per team, from the latest snapshot."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self.snapshot: Mapping[str, TeamSnapshot] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        p, teams = self._prefix, sorted(self.snapshot.items())
        remaining = GaugeMetricFamily(
            f"{p}_budget_remaining_minutes",
            "Budget minutes left today, summed over a team's employees",
            labels=["team"],
        )
        used = GaugeMetricFamily(
            f"{p}_budget_used_minutes",
            "Budget minutes booked today, summed over a team's employees",
            labels=["team"],
        )
        on_duty = GaugeMetricFamily(
            f"{p}_team_on_duty_employees",
            "A team's employees inside their working hours now",
            labels=["team"],
        )
        for team, snap in teams:
            remaining.add_metric([team], snap.remaining)
            used.add_metric([team], snap.used)
            if snap.on_duty is not None:
                on_duty.add_metric([team], snap.on_duty)
        yield from (remaining, used, on_duty)


class BacklogCollector(Collector):
    """How long the backlog's mentions have waited, from the latest snapshot."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self.snapshot = BacklogSnapshot()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            f"{self._prefix}_backlog_oldest_age_seconds",
            "Age of the oldest waiting mention (since its created_at), 0 when none waits",
            value=self.snapshot.oldest_age_seconds,
        )
        yield GaugeMetricFamily(
            f"{self._prefix}_backlog_sla_used_ratio",
            "The largest share of its SLA any waiting mention has used (1: deadline reached)",
            value=self.snapshot.sla_used_ratio,
        )


class LagCollector(Collector):
    """Records not yet committed per topic and partition, read from the queue at scrape time."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self.read: Callable[[], LagReading] = tuple

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            f"{self._prefix}_queue_lag_records",
            "Records a worker's consumer group has not yet committed, per topic and partition",
            labels=["topic", "partition"],
        )
        for topic, partition, lag in sorted(self.read()):
            family.add_metric([topic, str(partition)], lag)
        yield family
