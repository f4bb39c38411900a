"""Webhook bodies as platforms send them: generic mentions and Meta page feed changes."""

from __future__ import annotations

import json
from typing import Any

PAGE_ID = "1000"


def generic_mention(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"zendesk:{i}",
        "platform": "zendesk",
        "author": {"id": f"c{i}", "handle": "@cust", "followers": 3},
        "text": "my order never arrived",
        "created_at": "2026-03-02T09:14:05+01:00",
        **extra,
    }


def feed_change(item: str, verb: str = "add", **value: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "from": {"id": "555", "name": "Jan Jansen"},
        "item": item,
        "verb": verb,
        "post_id": f"{PAGE_ID}_77",
        "message": "Mijn factuur klopt niet",
        "created_time": 1772442845,
    }
    if item == "comment":
        base |= {"comment_id": f"{PAGE_ID}_77_9", "parent_id": f"{PAGE_ID}_77"}
    return {"field": "feed", "value": base | value}


def meta_body(*changes: dict[str, Any]) -> bytes:
    entry = {"id": PAGE_ID, "time": 1772442846, "changes": list(changes)}
    return json.dumps({"object": "page", "entry": [entry]}).encode()
