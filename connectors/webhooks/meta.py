"""Meta's page webhooks: Facebook comments and posts on the brand's page, as mentions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import ValidationError

from connectors.payloads import validation_reason
from connectors.webhooks.body import json_body
from routing.errors import PayloadError
from routing.models import Author, Mention

__all__ = ["parse_meta"]

CONNECTOR: Final = "meta"
_ITEMS: Final = frozenset({"comment", "post", "status", "photo", "video"})


def parse_meta(body: bytes) -> list[Mention]:
    """The new comments and posts of a page webhook; other changes (likes, edits) are skipped.

    Posts by the page itself are not mentions and are skipped too. A body that is not a page
    webhook raises ``PayloadError`` with the reason.
    """
    data = json_body(CONNECTOR, body)
    if not isinstance(data, dict):
        raise PayloadError(CONNECTOR, "expected a JSON object")
    if data.get("object") != "page":
        raise PayloadError(CONNECTOR, f"object: expected 'page', got {data.get('object')!r}")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise PayloadError(CONNECTOR, "entry: expected an array")
    return [m for i, entry in enumerate(entries) for m in _entry(entry, f"entry[{i}]")]


def _entry(entry: Any, where: str) -> Iterator[Mention]:
    if not isinstance(entry, dict):
        raise PayloadError(CONNECTOR, f"{where}: expected an object")
    changes = entry.get("changes", [])
    if not isinstance(changes, list):
        raise PayloadError(CONNECTOR, f"{where}.changes: expected an array")
    page_id = str(entry.get("id", ""))
    for j, change in enumerate(changes):
        value = change.get("value") if isinstance(change, dict) else None
        if not isinstance(value, dict) or change.get("field") != "feed":
            continue
        if _is_new_mention(value, page_id):
            yield _mention(value, f"{where}.changes[{j}].value")


def _is_new_mention(value: Mapping[str, Any], page_id: str) -> bool:
    sender = value.get("from")
    by_page = isinstance(sender, dict) and str(sender.get("id")) == page_id
    return (
        value.get("verb") == "add"
        and value.get("item") in _ITEMS
        and isinstance(value.get("message"), str)
        and not by_page
    )


def _mention(value: Mapping[str, Any], where: str) -> Mention:
    sender = value.get("from")
    if not isinstance(sender, dict) or "id" not in sender:
        raise PayloadError(CONNECTOR, f"{where}.from: field required")
    post_id, comment_id = value.get("post_id"), value.get("comment_id")
    own_id = comment_id if value.get("item") == "comment" else post_id
    if not own_id:
        raise PayloadError(CONNECTOR, f"{where}: no comment_id or post_id")
    parent = value.get("parent_id") if value.get("item") == "comment" else None
    try:
        return Mention(
            id=f"facebook:{own_id}",
            platform="facebook",
            author=Author(id=str(sender["id"]), handle=str(sender.get("name") or "")),
            text=value["message"],
            created_at=_time(value.get("created_time"), where),
            conversation_id=f"facebook:{post_id}" if post_id else None,
            in_reply_to=f"facebook:{parent}" if parent else None,
            raw=dict(value),
        )
    except ValidationError as exc:
        raise PayloadError(CONNECTOR, f"{where}: {validation_reason(exc)}") from exc


def _time(value: Any, where: str) -> datetime | str:
    """Meta sends ``created_time`` as epoch seconds (or, in some fields, ISO 8601)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise PayloadError(CONNECTOR, f"{where}.created_time: out of range") from exc
    if isinstance(value, str):
        return value
    raise PayloadError(CONNECTOR, f"{where}.created_time: expected epoch seconds")
