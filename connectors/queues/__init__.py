"""Queue backends behind one port, chosen by URL: ``embedded:PATH``, ``memory://``, ``kafka://``."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from connectors.queues.base import Committed, Consumer, Queue, Record, Transactional
from connectors.queues.embedded import EmbeddedQueue
from connectors.queues.memory import MemoryQueue
from routing.errors import ConfigError

__all__ = [
    "Committed",
    "Consumer",
    "EmbeddedQueue",
    "MemoryQueue",
    "Queue",
    "Record",
    "Transactional",
    "open_queue",
]

_SOURCE = "queue.url"
_SCHEMES = "use embedded:PATH, memory:// or kafka://HOST:PORT"

# Named in-memory queues are shared only while someone holds them, so tests stay independent.
_named_memory: weakref.WeakValueDictionary[str, MemoryQueue] = weakref.WeakValueDictionary()
_named_lock = threading.Lock()


def open_queue(url: str) -> Queue:
    """The queue backend ``url`` names; it connects on first use, not here."""
    scheme, colon, _ = url.partition(":")
    factory = _BACKENDS.get(scheme.lower()) if colon else None
    if factory is None:
        raise ConfigError(_SOURCE, "url", f"unknown queue scheme {scheme!r}; {_SCHEMES}")
    return factory(url)


def _address(url: str) -> str:
    """What follows ``scheme:`` or ``scheme://``; ``embedded:///abs`` keeps its leading slash."""
    rest = url.partition(":")[2]
    return rest[2:] if rest.startswith("//") else rest


def _open_memory(url: str) -> Queue:
    name = _address(url)
    if not name:
        return MemoryQueue(url)
    with _named_lock:
        queue = _named_memory.get(name)
        if queue is None:
            queue = MemoryQueue(url)
            _named_memory[name] = queue
    return queue


def _open_embedded(url: str) -> Queue:
    path = _address(url)
    if not path:
        raise ConfigError(_SOURCE, "url", f"{url!r} names no file; use embedded:PATH")
    return EmbeddedQueue(path, url=url)


def _open_kafka(url: str) -> Queue:
    # Imported here, so that processes on the embedded queue never load kafka-python.
    try:
        from connectors.queues.kafka import KafkaQueue
    except ModuleNotFoundError as exc:
        if exc.name != "kafka":
            raise
        raise ConfigError(_SOURCE, "url", "kafka:// needs the kafka-python package") from exc
    return KafkaQueue(url)


# The hook for new backends: a scheme and a function from the full URL to a Queue.
_BACKENDS: dict[str, Callable[[str], Queue]] = {
    "memory": _open_memory,
    "embedded": _open_embedded,
    "kafka": _open_kafka,
}
