"""One line of the X filtered stream: a tweet, a keep-alive, a notice, or a refused line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from connectors.x.tweets import CONNECTOR, tweet_mention, users_by_id
from routing.errors import PayloadError
from routing.models import Mention

__all__ = ["KeepAlive", "Notice", "StreamEvent", "TweetLine", "parse_stream_line"]

_MAX_LINE: Final = 1024 * 1024  # a tweet with its expansions is a few KB


@dataclass(frozen=True, slots=True)
class KeepAlive:
    """The blank line X sends every 20 seconds when there is nothing else."""


@dataclass(frozen=True, slots=True)
class TweetLine:
    mention: Mention
    tags: tuple[str, ...]  # the tags of the stream rules it matched


@dataclass(frozen=True, slots=True)
class Notice:
    """A line without a tweet: a deleted or withheld tweet, or an operational disconnect."""

    reason: str
    disconnect: bool = False


StreamEvent = KeepAlive | TweetLine | Notice


def parse_stream_line(line: bytes) -> StreamEvent:
    """Parse one line; a line that is not a usable event raises ``PayloadError`` with a reason."""
    if not line.strip():
        return KeepAlive()
    if len(line) > _MAX_LINE:
        raise PayloadError(CONNECTOR, f"line of {len(line)} bytes is longer than {_MAX_LINE}")
    try:
        payload = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(CONNECTOR, f"invalid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise PayloadError(CONNECTOR, f"expected a JSON object, got {type(payload).__name__}")
    if "data" not in payload:
        return _notice(payload)
    mention = tweet_mention(payload["data"], users_by_id(payload))
    return TweetLine(mention, _tags(payload.get("matching_rules")))


def _notice(payload: Mapping[str, Any]) -> Notice:
    errors = payload.get("errors")
    if not isinstance(errors, list) or not errors:
        raise PayloadError(CONNECTOR, "neither data nor errors: not a stream event")
    first = errors[0] if isinstance(errors[0], Mapping) else {}
    title = str(first.get("title") or first.get("type") or "error")
    detail = str(first.get("detail") or first.get("message") or "")
    reason = f"{title}: {detail}" if detail else title
    return Notice(reason[:500], disconnect="disconnect" in title.lower())


def _tags(rules: object) -> tuple[str, ...]:
    if not isinstance(rules, list):
        return ()
    return tuple(str(r["tag"]) for r in rules if isinstance(r, Mapping) and r.get("tag"))
