"""The HTTP endpoint every long-running command serves: /metrics, /healthz and /readyz."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from config.settings import Settings
from routing.errors import ConfigError
from workers.health import MetricsServer, Readiness
from workers.metrics import Metrics

__all__ = ["metrics_endpoint"]

log = logging.getLogger("mention_router")


@contextmanager
def metrics_endpoint(
    args: argparse.Namespace, settings: Settings, metrics: Metrics, readiness: Readiness
) -> Iterator[int | None]:
    if getattr(args, "no_metrics", False):
        yield None
        return
    requested = getattr(args, "metrics_port", None)
    port = requested if requested is not None else settings.metrics.port
    server = MetricsServer(metrics.registry, settings.metrics.host, port, readiness)
    try:
        bound = server.start()
    except OSError as exc:
        raise ConfigError(
            "metrics.port",
            "port",
            f"cannot serve on {settings.metrics.host}:{port}: {exc.strerror}",
        ) from exc
    log.info("metrics, /healthz and /readyz at http://%s:%d", settings.metrics.host, bound)
    try:
        yield bound
    finally:
        server.stop()
