"""A webhook body as JSON: the first step of every webhook parser, with a reason on failure."""

from __future__ import annotations

from typing import Any

import orjson

from routing.errors import PayloadError

__all__ = ["json_body"]


def json_body(connector: str, body: bytes) -> Any:
    """The parsed JSON of ``body``; ``PayloadError`` says why it is not JSON."""
    if not body.strip():
        raise PayloadError(connector, "empty body: expected JSON")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if _bad_utf8(body):
            raise PayloadError(connector, "body is not valid UTF-8") from exc
        raise PayloadError(connector, f"invalid JSON: {exc}") from exc


def _bad_utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return True
    return False
