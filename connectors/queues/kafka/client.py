"""The kafka-python boundary: its imports, its errors translated into ours, reachability."""

from __future__ import annotations

import socket
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress

from routing.errors import QueueError, QueueUnavailableError

with warnings.catch_warnings():
    # kafka-python 3 reads its protocol schemas with a deprecated importlib call at import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import (
        ConsumerRebalanceListener,
        KafkaAdminClient,
        KafkaConsumer,
        KafkaProducer,
        TopicPartition,
    )
    from kafka.errors import KafkaError
    from kafka.structs import MemberState, OffsetAndMetadata

POLL_SLICE_MS = 100

__all__ = [
    "POLL_SLICE_MS",
    "ConsumerRebalanceListener",
    "KafkaAdminClient",
    "KafkaConsumer",
    "KafkaError",
    "KafkaProducer",
    "MemberState",
    "OffsetAndMetadata",
    "TopicPartition",
    "first_reachable",
    "quietly",
    "translate",
]


def translate(exc: KafkaError, context: str) -> QueueError:
    """Our error for a kafka-python one: unreachable (worth retrying) or failed."""
    kind = QueueUnavailableError if exc.retriable else QueueError
    return kind(f"{context}: {type(exc).__name__}: {exc}")


def first_reachable(servers: Sequence[str], timeout: float) -> str | OSError:
    """The first ``host:port`` that accepts a TCP connection, or the last error."""
    error: OSError = OSError("no broker address given")
    for server in servers:
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=min(timeout, 5)):
                return server
        except OSError as exc:
            error = exc
    return error


@contextmanager
def quietly() -> Iterator[None]:
    """Ignore errors closing a client: its broker may be gone, and nothing is left to save."""
    with suppress(KafkaError, OSError):
        yield
