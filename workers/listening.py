"""``mention-router listen``: run the configured connectors into the queue until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from config.listening import load_listening_rules
from config.settings import ListeningSettings, Settings, WebhookSettings
from connectors.dedup import SeenIds
from connectors.files import StreamWriter
from connectors.ingest import Ingestor
from connectors.observer import ConnectorObserver
from connectors.queues import Queue, open_queue
from connectors.status import ConnectorStatus
from connectors.x import Cursor, TweepySource, XOptions, mount_base_url
from routing.errors import ConfigError, MentionRouterError
from workers import app
from workers.endpoint import metrics_endpoint
from workers.health import Readiness
from workers.webhook_server import WebhookServer
from workers.webhooks import WebhookOptions, create_app

__all__ = ["build_connectors", "connectors_running", "enabled", "listen"]

log = logging.getLogger("mention_router")


class Connector(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self, timeout: float = 10.0) -> None: ...


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def _webhook_options(hooks: WebhookSettings) -> WebhookOptions:
    return WebhookOptions(
        max_body_bytes=hooks.max_body_bytes,
        max_batch=hooks.max_batch,
        secret=_secret(hooks.secret),
        meta_app_secret=_secret(hooks.meta_app_secret),
        meta_verify_token=_secret(hooks.meta_verify_token),
    )


def _x_source(
    listening: ListeningSettings, ingestor: Ingestor, state: Path, observer: ConnectorObserver
) -> TweepySource:
    x = listening.x
    if x.bearer_token is None or not x.bearer_token.get_secret_value():
        raise ConfigError(
            "environment",
            "listening.x.bearer_token",
            "required when listening.x.enabled; set MENTION_ROUTER_LISTENING__X__BEARER_TOKEN",
        )
    options = XOptions(
        bearer_token=x.bearer_token,
        stream=x.stream,
        user_id=x.user_id,
        mentions_poll_seconds=x.mentions_poll_seconds,
        backoff_initial=x.backoff_initial_seconds,
        backoff_max=x.backoff_max_seconds,
        max_catch_up_pages=x.max_catch_up_pages,
    )
    return TweepySource(
        options,
        load_listening_rules(listening.rules),
        ingestor,
        Cursor(state / "x-cursor.json"),
        observer=observer,
        prepare_session=lambda session: mount_base_url(session, x.api_base_url),
        rules_source=str(listening.rules),
    )


def build_connectors(
    settings: Settings, ingestor: Ingestor, status: ConnectorStatus
) -> list[Connector]:
    """The enabled connectors, not started; a configuration error names the field."""
    listening = settings.listening
    state = settings.state_dir / "listening"
    connectors: list[Connector] = []
    if listening.x.enabled:
        connectors.append(_x_source(listening, ingestor, state, status))
    if listening.webhook.enabled:
        hooks = listening.webhook
        app = create_app(ingestor, _webhook_options(hooks), observer=status, status=status)
        connectors.append(WebhookServer(app, hooks.host, hooks.port, status))
    if not connectors:
        raise ConfigError(
            "settings", "listening", "no connector enabled: set listening.x.enabled or "
            "listening.webhook.enabled",
        )  # fmt: skip
    return connectors


def _start_all(connectors: list[Connector]) -> None:
    """Start each; one that fails to start is logged and left down, the others run on."""
    for connector in connectors:
        try:
            connector.start()
        except Exception:
            log.exception("%s: failed to start; the other connectors keep running", connector.name)
        if isinstance(connector, WebhookServer) and not connector.wait_started():
            log.error("webhook: the server did not start (is the port free?)")


def enabled(settings: Settings) -> bool:
    """Whether the settings turn any listening connector on."""
    return settings.listening.x.enabled or settings.listening.webhook.enabled


@contextmanager
def connectors_running(
    settings: Settings, queue: Queue, observer: ConnectorObserver, record: Path | None = None
) -> Iterator[list[Connector]]:
    """The enabled connectors, started, ingesting into ``queue``; stopped on the way out."""
    listening = settings.listening
    seen = SeenIds(settings.state_dir / "listening" / "seen.db", listening.dedup_capacity)
    status = ConnectorStatus(forward=observer)
    recorder = StreamWriter(record, append=True) if record is not None else None
    ingestor = Ingestor(
        queue, settings.queue.topics.mentions, seen, recorder=recorder, observer=status
    )
    connectors: list[Connector] = []
    try:
        connectors = build_connectors(settings, ingestor, status)
        for connector in connectors:
            status.state(connector.name, False)
        _start_all(connectors)
        log.info("listening: %s", ", ".join(c.name for c in connectors))
        yield connectors
    finally:
        for connector in connectors:
            connector.stop()
        ingestor.close()


def listen(
    args: argparse.Namespace,
    settings: Settings,
    *,
    observer: ConnectorObserver | None = None,
    until: Callable[[threading.Event], None] | None = None,
) -> int:
    """Run until SIGINT or SIGTERM (or ``until`` returns, in tests)."""
    record: Path | None = args.record or settings.listening.record
    queue = open_queue(settings.queue.url)
    metrics = app.build_metrics()
    readiness = Readiness()
    readiness.add("queue", lambda: _unreachable(queue))
    readiness.add("connectors", metrics.connectors.readiness)
    forward = observer if observer is not None else metrics.connectors
    stop = threading.Event()
    try:
        with (
            connectors_running(settings, queue, forward, record),
            metrics_endpoint(args, settings, metrics, readiness),
        ):
            if until is not None:
                until(stop)
            else:
                _wait_for_signal(stop)
    finally:
        queue.close()
    return 0


def _unreachable(queue: Queue) -> str | None:
    """A readiness check: why the queue cannot be used now, or None."""
    try:
        queue.check()
    except MentionRouterError as exc:
        return str(exc)
    return None


def _wait_for_signal(stop: threading.Event) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
