"""The decision log's records: encoding, decoding, and reading the log back."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import ConfigDict

from connectors.queues import Queue
from routing.decisions import Decision, LoggedEvent
from routing.models import Outcome

__all__ = [
    "LoggedOutcome",
    "decisions_in",
    "decode_decision",
    "decode_logged_outcome",
    "encode_decision",
    "outcomes_in",
]


def encode_decision(decision: Decision) -> bytes:
    return decision.__pydantic_serializer__.to_json(decision, exclude_none=True)


def decode_decision(data: bytes) -> Decision:
    return Decision.model_validate_json(data)


class LoggedOutcome(LoggedEvent):
    """A decision as delivery reads it: its outcome or feedback, skipping mention and audit.

    Decoding only these fields costs a third of decoding the whole decision.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")


def decode_logged_outcome(data: bytes) -> LoggedOutcome:
    return LoggedOutcome.model_validate_json(data)


def outcomes_in(queue: Queue, topic: str) -> Iterator[Outcome]:
    """Every outcome logged on ``topic`` so far, oldest first (feedback skipped)."""
    for record in queue.scan(topic):
        outcome = decode_logged_outcome(record.value).outcome
        if outcome is not None:
            yield outcome


def decisions_in(queue: Queue, topic: str) -> Iterator[Decision]:
    """Every decision logged on ``topic`` so far, oldest first."""
    for record in queue.scan(topic):
        yield decode_decision(record.value)
