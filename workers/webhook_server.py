"""The webhook app served by uvicorn on a thread of the listening process."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from connectors.observer import ConnectorObserver

__all__ = ["WebhookServer"]

log = logging.getLogger("mention_router")


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, calling ``on_listening`` as soon as it listens: before it handles
    any request (nothing yields to the event loop in between), so the health endpoint it
    serves never answers that the webhook itself is down."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_listening()


class WebhookServer:
    """The webhook app served by uvicorn on its own thread."""

    name = "webhook"

    def __init__(self, app: FastAPI, host: str, port: int, observer: ConnectorObserver) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self._server = _Uvicorn(config, lambda: observer.state(self.name, True))
        self._host = host
        self._observer = observer
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="webhook-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._server.run()
        finally:
            self._observer.state(self.name, False)

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    @property
    def port(self) -> int:
        """The port it listens on (useful when configured as 0); 0 before it started."""
        servers = getattr(self._server, "servers", [])
        if not self.started or not servers:
            return 0
        return int(servers[0].sockets[0].getsockname()[1])

    def wait_started(self, timeout: float = 10.0) -> bool:
        """Wait until it listens (True) or its thread ended, e.g. on a busy port (False)."""
        deadline = time.monotonic() + timeout
        while not self.started and time.monotonic() < deadline:
            if self._thread is None or not self._thread.is_alive():
                break
            time.sleep(0.05)
        if self.started:
            log.info("webhook: listening on http://%s:%d", self._host, self.port)
        return self.started

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
