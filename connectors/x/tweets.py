"""X API v2 tweet objects (with their ``includes``) normalized to mentions."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pydantic import ValidationError

from connectors.payloads import validation_reason
from routing.errors import PayloadError
from routing.models import Author, Mention

__all__ = ["TWEET_FIELDS", "USER_FIELDS", "page_mentions", "tweet_mention", "users_by_id"]

CONNECTOR: Final = "x"
TWEET_FIELDS: Final = ("author_id", "conversation_id", "created_at", "lang", "referenced_tweets")
USER_FIELDS: Final = ("username", "public_metrics")
_LANG: Final = re.compile(r"^[a-z]{2}$")  # X also says "und", "qme", "zxx": not languages


def users_by_id(payload: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The expanded users of a response or stream line, by id (empty when there are none)."""
    includes = payload.get("includes")
    users = includes.get("users") if isinstance(includes, Mapping) else None
    if not isinstance(users, list):
        return {}
    return {str(u["id"]): u for u in users if isinstance(u, Mapping) and "id" in u}


def tweet_mention(tweet: Any, users: Mapping[str, Mapping[str, Any]]) -> Mention:
    """The mention for one tweet; ``PayloadError`` names what is missing or wrong."""
    if not isinstance(tweet, Mapping):
        raise PayloadError(CONNECTOR, "data: expected a tweet object")
    for key in ("id", "text", "author_id", "created_at"):
        if key not in tweet:
            raise PayloadError(CONNECTOR, f"data.{key}: field required")
    user = users.get(str(tweet["author_id"]), {})
    try:
        return Mention(
            id=f"x:{tweet['id']}",
            platform="x",
            author=_author(tweet["author_id"], user),
            text=tweet["text"],
            created_at=tweet["created_at"],
            lang=_lang(tweet.get("lang")),
            url=_url(user.get("username"), tweet["id"]),
            conversation_id=_prefixed(tweet.get("conversation_id")),
            in_reply_to=_prefixed(_replied_to(tweet.get("referenced_tweets"))),
            raw={"data": dict(tweet), "author": dict(user)} if user else {"data": dict(tweet)},
        )
    except ValidationError as exc:
        raise PayloadError(CONNECTOR, f"data: {validation_reason(exc)}") from exc
    except (TypeError, ValueError) as exc:
        raise PayloadError(CONNECTOR, f"data: {exc}") from exc


def page_mentions(page: Mapping[str, Any]) -> Iterator[Mention | PayloadError]:
    """Each tweet of a search or timeline page as a mention, or the reason it was refused."""
    data = page.get("data")
    if not isinstance(data, list):
        return
    users = users_by_id(page)
    for tweet in data:
        try:
            yield tweet_mention(tweet, users)
        except PayloadError as exc:
            yield exc


def _author(author_id: object, user: Mapping[str, Any]) -> Author:
    metrics = user.get("public_metrics")
    followers = metrics.get("followers_count", 0) if isinstance(metrics, Mapping) else 0
    username = user.get("username")
    handle = f"@{username}" if isinstance(username, str) and username else ""
    return Author(id=str(author_id), handle=handle, followers=followers)


def _lang(value: object) -> str | None:
    return value if isinstance(value, str) and _LANG.match(value) else None


def _url(username: object, tweet_id: object) -> str | None:
    return f"https://x.com/{username}/status/{tweet_id}" if isinstance(username, str) else None


def _prefixed(tweet_id: object) -> str | None:
    return f"x:{tweet_id}" if isinstance(tweet_id, str | int) and str(tweet_id) else None


def _replied_to(references: object) -> object:
    if not isinstance(references, list):
        return None
    for ref in references:
        if isinstance(ref, Mapping) and ref.get("type") == "replied_to":
            return ref.get("id")
    return None
