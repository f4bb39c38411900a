"""What a ``kafka://`` URL says: brokers, consumer-group timing, limits, a name prefix."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from routing.errors import ConfigError

_SOURCE = "queue.url"
_DEFAULT_PORT = 9092
_PARAMS = frozenset(
    {
        "session_timeout_ms",
        "heartbeat_interval_ms",
        "fetch_max_wait_ms",
        "timeout_seconds",
        "namespace",
        "client_id",
    }
)


@dataclass(frozen=True)
class KafkaOptions:
    """What a ``kafka://`` URL says: brokers, group timing, the time allowed per call."""

    servers: tuple[str, ...]
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    # How long the broker may hold a fetch while there is nothing new; some brokers hold it
    # that long even when records arrive meanwhile, so it bounds each hop's added latency.
    fetch_max_wait_ms: int = 100
    timeout_seconds: float = 30.0
    namespace: str = ""
    client_id: str = "mention-router"

    @classmethod
    def parse(cls, url: str) -> KafkaOptions:
        parts = urlsplit(url)
        servers = tuple(s.strip() for s in parts.netloc.split(",") if s.strip())
        if parts.scheme.lower() != "kafka" or not servers or parts.path not in ("", "/"):
            raise ConfigError(_SOURCE, "url", f"{url!r} is not kafka://HOST:PORT[,HOST:PORT]")
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = sorted(set(params) - _PARAMS)
        if unknown:
            raise ConfigError(
                _SOURCE, "url", f"unknown kafka option {unknown[0]!r}; known: {sorted(_PARAMS)}"
            )
        try:
            options = cls(
                servers=tuple(s if ":" in s else f"{s}:{_DEFAULT_PORT}" for s in servers),
                session_timeout_ms=int(params.get("session_timeout_ms", 10_000)),
                heartbeat_interval_ms=int(params.get("heartbeat_interval_ms", 3_000)),
                fetch_max_wait_ms=int(params.get("fetch_max_wait_ms", 100)),
                timeout_seconds=float(params.get("timeout_seconds", 30.0)),
                namespace=params.get("namespace", ""),
                client_id=params.get("client_id", "mention-router"),
            )
        except ValueError as exc:
            raise ConfigError(_SOURCE, "url", f"{url!r}: {exc}") from exc
        if not 0 < options.heartbeat_interval_ms < options.session_timeout_ms:
            reason = "heartbeat_interval_ms must be above 0 and below session_timeout_ms"
            raise ConfigError(_SOURCE, "url", reason)
        if options.timeout_seconds <= 0:
            raise ConfigError(_SOURCE, "url", "timeout_seconds must be above 0")
        return options

    @property
    def timeout_ms(self) -> int:
        return int(self.timeout_seconds * 1000)
