"""The decision log's records: encoding, decoding, and reading the log back."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict
from pydantic_core import SchemaSerializer

from connectors.queues import Queue
from routing.decisions import Audit, Decision, LoggedEvent
from routing.models import Assignment, Classification, Mention, NotAssigned, Outcome
from workers.recordparts import Parts

__all__ = [
    "LoggedOutcome",
    "decisions_in",
    "decode_decision",
    "decode_logged_outcome",
    "encode_decision",
    "outcomes_in",
]


def encode_decision(decision: Decision) -> bytes:
    """``decision`` as JSON without its None fields: the bytes of pydantic's serializer.

    A mention's records repeat its mention and classification, and audits recur (the router
    keeps one object per distinct audit): those parts are encoded once per object and the
    record is put together around the outcome, in the model's field order.
    """
    outcome = decision.outcome
    if type(decision) is not Decision or outcome is None or decision.feedback is not None:
        return _plain(decision)
    parts = [b'{"outcome":', _OUTCOMES[type(outcome)].to_json(outcome, exclude_none=True)]
    for name, value in (
        (b',"mention":', decision.mention),
        (b',"classification":', decision.classification),
        (b',"audit":', decision.audit),
    ):
        if value is not None:
            encoded = _PARTS.encode(value)
            if encoded is None:  # a subclass: only the model's own serializer knows it
                return _plain(decision)
            parts += (name, encoded)
    parts.append(b"}")
    return b"".join(parts)


def _plain(decision: Decision) -> bytes:
    return decision.__pydantic_serializer__.to_json(decision, exclude_none=True)


_OUTCOMES: dict[type[BaseModel], SchemaSerializer] = {
    Assignment: Assignment.__pydantic_serializer__,
    NotAssigned: NotAssigned.__pydantic_serializer__,
}
_PARTS = Parts((Mention, Classification, Audit))


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
