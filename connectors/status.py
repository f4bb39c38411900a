"""Which connectors are listening right now, for a health check; passes reports on."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from connectors.observer import ConnectorObserver, NullObserver

__all__ = ["ConnectorStatus"]


class ConnectorStatus:
    """A ``ConnectorObserver`` that remembers each connector's last state and forwards all.

    ``up(name)`` is False until the connector first reports it is listening; ``down()`` lists
    the expected connectors that are not up, so a health endpoint can name them.
    """

    def __init__(
        self, connectors: Iterable[str] = (), forward: ConnectorObserver | None = None
    ) -> None:
        self._forward = forward if forward is not None else NullObserver()
        self._lock = threading.Lock()
        self._up: dict[str, bool] = dict.fromkeys(connectors, False)

    def up(self, connector: str) -> bool:
        with self._lock:
            return self._up.get(connector, False)

    def down(self) -> list[str]:
        with self._lock:
            return sorted(name for name, up in self._up.items() if not up)

    def snapshot(self) -> dict[str, bool]:
        with self._lock:
            return dict(self._up)

    def received(self, connector: str, count: int = 1) -> None:
        self._forward.received(connector, count)

    def duplicate(self, connector: str, count: int = 1) -> None:
        self._forward.duplicate(connector, count)

    def error(self, connector: str, kind: str) -> None:
        self._forward.error(connector, kind)

    def state(self, connector: str, up: bool) -> None:
        with self._lock:
            self._up[connector] = up
        self._forward.state(connector, up)
