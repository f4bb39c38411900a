"""The HTTP surface ops scrape and probe: ``/metrics``, ``/healthz`` and ``/readyz``.

``/readyz`` runs the checks workers registered on a ``Readiness`` and answers 200 when all
pass, 503 naming the ones that failed and why.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIEnvironment

from prometheus_client import CollectorRegistry, make_wsgi_app

__all__ = ["Check", "MetricsServer", "Readiness", "Status"]

Check = Callable[[], str | None]
"""A readiness check: None when ready, otherwise the reason it is not."""

log = logging.getLogger("mention_router")


class Readiness:
    """Named checks workers add as they start; ``/readyz`` runs them all on each probe."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._lock = threading.Lock()

    def add(self, name: str, check: Check) -> None:
        """Add (or replace) the check called ``name``."""
        with self._lock:
            self._checks[name] = check

    def remove(self, name: str) -> None:
        with self._lock:
            self._checks.pop(name, None)

    def run(self) -> dict[str, str | None]:
        """Each check's reason for not being ready (None: ready), by name."""
        with self._lock:
            checks = sorted(self._checks.items())
        return {name: _safely(check) for name, check in checks}


def _safely(check: Check) -> str | None:
    try:
        return check()
    except Exception as exc:  # a broken check is a failed check, never a dead endpoint
        return f"check raised {type(exc).__name__}: {exc}"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _IPv6Server(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would drown the worker's own logs."""


def _json(start: StartResponse, status: str, body: object) -> Iterable[bytes]:
    data = json.dumps(body, sort_keys=True).encode()
    start(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def status_app(
    registry: CollectorRegistry, readiness: Readiness
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """The WSGI app behind the endpoint: metrics, liveness and readiness."""
    metrics = make_wsgi_app(registry)

    def app(environ: WSGIEnvironment, start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/healthz":
            return _json(start, "200 OK", {"status": "alive"})
        if path == "/readyz":
            results = readiness.run()
            failed = {name: why for name, why in results.items() if why is not None}
            body = {
                "status": "not ready" if failed else "ready",
                "checks": {name: why or "ok" for name, why in results.items()},
                "failed": failed,
            }
            return _json(start, "503 Service Unavailable" if failed else "200 OK", body)
        if path in ("/metrics", "/"):
            served: Iterable[bytes] = metrics(environ, start)
            return served
        return _json(start, "404 Not Found", {"error": f"no such path: {path}"})

    return app


class MetricsServer:
    """``/metrics``, ``/healthz`` and ``/readyz`` on one port, served by a background thread."""

    def __init__(
        self,
        registry: CollectorRegistry,
        host: str = "127.0.0.1",
        port: int = 0,
        readiness: Readiness | None = None,
    ) -> None:
        self._registry = registry
        self._host = host
        self._port = port
        self.readiness = readiness if readiness is not None else Readiness()
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Start serving and return the bound port (useful with port 0)."""
        server_class = _IPv6Server if ":" in self._host else _Server
        server = make_server(
            self._host,
            self._port,
            status_app(self._registry, self.readiness),
            server_class=server_class,
            handler_class=_QuietHandler,
        )
        thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
        thread.start()
        self._server, self._thread = server, thread
        return int(server.server_port)

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port (only while serving)."""
        if self._server is None:
            raise RuntimeError("the server is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Status:
    """A readiness check a worker keeps up to date itself: ``fail(reason)`` and ``ok()``.

    For parts probed from the serving thread only at some risk (a queue client that is not
    thread-safe), the worker's own loop reports what it last saw instead.
    """

    def __init__(self, reason: str | None = "not started") -> None:
        self._reason = reason

    def ok(self) -> None:
        self._reason = None

    def fail(self, reason: str) -> None:
        self._reason = reason

    def __call__(self) -> str | None:
        return self._reason
