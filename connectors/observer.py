"""What a mention source reports while it listens: the port that metrics and health implement."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ConnectorObserver", "NullObserver"]


class ConnectorObserver(Protocol):
    """Told by every connector what it received and how it is doing.

    ``connector`` is a bounded name (``x``, ``webhook``, ``meta``, ``replay`` ...), never an id;
    ``kind`` is a short bounded error kind (``rate_limited``, ``disconnected``, ``malformed``,
    ``unauthorized``, ``oversized``, ``unavailable`` ...).
    """

    def received(self, connector: str, count: int = 1) -> None:
        """``count`` new mentions accepted into the queue."""

    def duplicate(self, connector: str, count: int = 1) -> None:
        """``count`` mentions dropped because they were ingested before."""

    def error(self, connector: str, kind: str) -> None:
        """Something went wrong; the connector keeps going if it can."""

    def state(self, connector: str, up: bool) -> None:
        """The connector is listening (``up``) or cannot reach its platform."""


class NullObserver:
    """Reports nowhere: for tools and tests that do not watch connectors."""

    def received(self, connector: str, count: int = 1) -> None:
        del connector, count

    def duplicate(self, connector: str, count: int = 1) -> None:
        del connector, count

    def error(self, connector: str, kind: str) -> None:
        del connector, kind

    def state(self, connector: str, up: bool) -> None:
        del connector, up
