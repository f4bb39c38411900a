"""The decision log's records: encoding, decoding, and reading the log back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, NamedTuple

from pydantic import ConfigDict

from connectors.codec import encode_outcome
from connectors.queues import Queue
from routing.decisions import Decision, LoggedEvent
from routing.models import Classification, Mention, NotAssigned, Outcome

__all__ = [
    "DecisionEncoder",
    "LoggedOutcome",
    "OutcomeLine",
    "decisions_in",
    "decode_decision",
    "decode_logged_outcome",
    "decode_outcome_line",
    "encode_decision",
    "outcomes_in",
]

_DECISION_JSON: Final = Decision.__pydantic_serializer__
_NO_TARGET: Final = b',"escalated_to":null}'  # the one field of an outcome that may be None
_KEPT: Final = 20_000


def encode_decision(decision: Decision) -> bytes:
    """The log's record of ``decision``: its fields in model order, those that are None left out."""
    return _DECISION_JSON.to_json(decision, exclude_none=True)


def decode_decision(data: bytes) -> Decision:
    return Decision.model_validate_json(data)


class OutcomeLine(NamedTuple):
    """What delivery needs of a logged decision: its outcome and that outcome's line."""

    outcome: Outcome | None
    line: bytes  # ``encode_outcome(outcome)``; empty for feedback


class DecisionEncoder:
    """``encode_decision`` put together from parts: the same bytes for less work.

    The outcome's part is the line delivery writes (less a null target), encoded once for
    both. A mention's decisions (backlogged, then assigned or escalated) carry the same
    mention and classification objects, so their bytes are kept from one decision to the
    next while the mention waits (up to ``limit`` mentions, the oldest forgotten first).
    """

    def __init__(self, limit: int = _KEPT) -> None:
        self._limit = limit
        self._kept: dict[str, tuple[Mention, Classification, bytes]] = {}

    def encode(self, decision: Decision) -> tuple[bytes, OutcomeLine]:
        """The record of ``decision`` and its outcome line."""
        outcome = decision.outcome
        mention, classification = decision.mention, decision.classification
        if outcome is None or (mention is None) != (classification is None):
            line = b"" if outcome is None else encode_outcome(outcome)
            return encode_decision(decision), OutcomeLine(outcome, line)
        line = encode_outcome(outcome)
        parts = [b'{"outcome":', _without_null_target(outcome, line)]
        if mention is not None and classification is not None:
            parts.append(self._carried(outcome, mention, classification))
        audit = decision.audit
        if audit is not None:
            parts += (b',"audit":', audit.__pydantic_serializer__.to_json(audit, exclude_none=True))
        parts.append(b"}")
        return b"".join(parts), OutcomeLine(outcome, line)

    def __len__(self) -> int:
        """How many waiting mentions' bytes are kept."""
        return len(self._kept)

    def _carried(self, outcome: Outcome, mention: Mention, classification: Classification) -> bytes:
        """The mention and classification part, kept while the mention waits in the backlog."""
        kept = self._kept
        waits = outcome.status == "backlogged"
        known = kept.get(outcome.mention_id) if waits else kept.pop(outcome.mention_id, None)
        if known is not None and known[0] is mention and known[1] is classification:
            return known[2]
        part = b"".join(
            (
                b',"mention":',
                mention.__pydantic_serializer__.to_json(mention, exclude_none=True),
                b',"classification":',
                classification.__pydantic_serializer__.to_json(classification, exclude_none=True),
            )
        )
        if waits:
            kept[outcome.mention_id] = (mention, classification, part)
            if len(kept) > self._limit:
                del kept[next(iter(kept))]
        return part


def _without_null_target(outcome: Outcome, line: bytes) -> bytes:
    """The outcome as the log holds it (its None fields left out), from its delivered line."""
    if type(outcome) is NotAssigned and outcome.escalated_to is None and line.endswith(_NO_TARGET):
        return line[: -len(_NO_TARGET)] + b"}"
    if None in outcome.__dict__.values():  # a None the line holds and the log leaves out
        return outcome.__pydantic_serializer__.to_json(outcome, exclude_none=True)
    return line


class LoggedOutcome(LoggedEvent):
    """A decision as delivery reads it: its outcome or feedback, skipping mention and audit.

    Decoding only these fields costs a third of decoding the whole decision.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")


def decode_logged_outcome(data: bytes) -> LoggedOutcome:
    return LoggedOutcome.model_validate_json(data)


def decode_outcome_line(data: bytes) -> OutcomeLine:
    """A logged decision's outcome and its line (``ValueError`` when it does not parse)."""
    outcome = decode_logged_outcome(data).outcome
    return OutcomeLine(outcome, b"" if outcome is None else encode_outcome(outcome))


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
