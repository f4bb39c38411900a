"""The connector observer that metrics and readiness share: what each source reports."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge

from connectors.observer import ConnectorObserver

__all__ = ["OTHER", "BoundedLabel", "ConnectorMeter"]

OTHER = "other"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class BoundedLabel:
    """Keeps a label's values few and tidy: past ``limit`` values, or a bad one, is ``other``."""

    def __init__(self, limit: int, known: Iterable[str] = ()) -> None:
        self._limit = limit
        self._seen: set[str] = set(known)
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        with self._lock:
            if not _NAME.match(value) or len(self._seen) >= self._limit:
                return OTHER
            self._seen.add(value)
        return value


class ConnectorMeter(ConnectorObserver):
    """Counts what connectors receive, drop and fail on; remembers who is up for ``/readyz``.

    Connectors deliberately off never report, so they neither count nor fail readiness.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        prefix: str,
        received: Counter,
        known: Iterable[str] = (),
    ) -> None:
        self._received = received
        self._duplicates = Counter(
            f"{prefix}_connector_duplicates",
            "Mentions a connector dropped because it had ingested them before",
            ["connector"],
            registry=registry,
        )
        self._errors = Counter(
            f"{prefix}_connector_errors",
            "Errors a connector met, per bounded kind (rate_limited, disconnected, ...)",
            ["connector", "kind"],
            registry=registry,
        )
        self._up = Gauge(
            f"{prefix}_connector_up",
            "1 while a connector is listening, 0 while it cannot reach its platform",
            ["connector"],
            registry=registry,
        )
        self._connector = BoundedLabel(32)
        for connector in known:  # zeros from the start, so rates work at once
            self._duplicates.labels(self._connector(connector))
        self._kind = BoundedLabel(32)
        self._states: dict[str, bool] = {}
        self._lock = threading.Lock()

    def received(self, connector: str, count: int = 1) -> None:
        self._received.labels(self._connector(connector)).inc(count)

    def duplicate(self, connector: str, count: int = 1) -> None:
        self._duplicates.labels(self._connector(connector)).inc(count)

    def error(self, connector: str, kind: str) -> None:
        self.errors(connector, kind, 1)

    def errors(self, connector: str, kind: str, count: int) -> None:
        """``count`` errors of one kind at once (a batch of malformed lines)."""
        self._errors.labels(self._connector(connector), self._kind(kind)).inc(count)

    def state(self, connector: str, up: bool) -> None:
        self._up.labels(self._connector(connector)).set(1 if up else 0)
        with self._lock:
            self._states[connector] = up

    def readiness(self) -> str | None:
        """A readiness check: None while every connector that reported is up."""
        with self._lock:
            down = sorted(name for name, up in self._states.items() if not up)
        return f"connector down: {', '.join(down)}" if down else None
