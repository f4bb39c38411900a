"""The generic webhook format: one mention in the stream-record format, or a batch of them."""

from __future__ import annotations

from typing import Any, Final

from pydantic import ValidationError

from connectors.payloads import validation_reason
from connectors.webhooks.body import json_body
from routing.errors import PayloadError
from routing.models import Mention

__all__ = ["parse_generic"]

CONNECTOR: Final = "webhook"


def parse_generic(body: bytes, *, max_batch: int = 1000) -> list[Mention]:
    """``{...one mention...}`` or ``{"mentions": [...]}``; all or nothing.

    Raises ``PayloadError`` naming the first problem (``mentions[3].created_at: ...``), so a
    sender can fix its batch and send it again whole.
    """
    data = json_body(CONNECTOR, body)
    if not isinstance(data, dict):
        raise PayloadError(CONNECTOR, f"expected a JSON object, got {_kind(data)}")
    if "mentions" not in data:
        return [_mention(data, "")]
    if len(data) > 1:
        extra = sorted(k for k in data if k != "mentions")[0]
        raise PayloadError(CONNECTOR, f"unknown field {extra!r} beside 'mentions'")
    batch = data["mentions"]
    if not isinstance(batch, list):
        raise PayloadError(CONNECTOR, f"mentions: expected an array, got {_kind(batch)}")
    if not batch:
        raise PayloadError(CONNECTOR, "mentions: must not be empty")
    if len(batch) > max_batch:
        raise PayloadError(CONNECTOR, f"mentions: {len(batch)} in one batch, at most {max_batch}")
    return [_mention(item, f"mentions[{i}]") for i, item in enumerate(batch)]


def _mention(data: Any, where: str) -> Mention:
    if not isinstance(data, dict):
        raise PayloadError(CONNECTOR, f"{where or 'body'}: expected an object, got {_kind(data)}")
    try:
        return Mention.model_validate(data)
    except ValidationError as exc:
        reason = validation_reason(exc)
        raise PayloadError(CONNECTOR, f"{where}.{reason}" if where else reason) from exc


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )
