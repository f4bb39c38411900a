"""Converters from public tweet datasets (CSV) to mention streams, in time order."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from routing.errors import MalformedMentionError
from routing.models import UNKNOWN_TOPIC, Mention

__all__ = ["CONVERTERS", "airline_tweets", "customer_support_tweets"]

AIRLINE_COLUMNS: Final = (
    "tweet_id",
    "airline_sentiment",
    "negativereason",
    "airline",
    "name",
    "text",
    "tweet_created",
)
TWCS_COLUMNS: Final = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "in_response_to_tweet_id",
)
_AIRLINE_TIME: Final = "%Y-%m-%d %H:%M:%S %z"
_TWCS_TIME: Final = "%a %b %d %H:%M:%S %z %Y"
_NOT_SLUG: Final = re.compile(r"[^a-z0-9]+")

Row = Mapping[str, str]


def _slug(label: str) -> str:
    """``"Late Flight"`` -> ``"late_flight"``, ``"Can't Tell"`` -> ``"cant_tell"``."""
    return _NOT_SLUG.sub("_", label.lower().replace("'", "")).strip("_")


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, Row]]:
    """CSV rows with the file line each starts on; refuses a file without ``required``."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or ())]
        if missing:
            raise MalformedMentionError(
                f"missing columns: {', '.join(missing)}", line=1, source=str(path)
            )
        start = reader.line_num + 1
        for row in reader:
            yield start, row
            start = reader.line_num + 1


@contextmanager
def _row_of(path: Path, line: int) -> Iterator[None]:
    """Turn a row's conversion failure into ``MalformedMentionError`` naming file and line."""
    try:
        yield
    except ValidationError as exc:
        reason = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise MalformedMentionError(reason, line=line, source=str(path)) from exc
    except ValueError as exc:
        raise MalformedMentionError(str(exc), line=line, source=str(path)) from exc


def airline_tweets(path: Path) -> Iterator[Mention]:
    """Twitter US Airline Sentiment (``Tweets.csv``): one mention per tweet_id, oldest first."""
    mentions: dict[str, Mention] = {}
    for line, row in _rows(path, AIRLINE_COLUMNS):
        tweet_id = row["tweet_id"]
        if tweet_id not in mentions:  # the file repeats a few tweets; the first one counts
            with _row_of(path, line):
                mentions[tweet_id] = _airline_mention(row)
    return iter(sorted(mentions.values(), key=lambda m: (m.created_at, m.id)))


def _airline_mention(row: Row) -> Mention:
    tweet_id, name, sentiment = _tweet_id(row["tweet_id"]), row["name"], row["airline_sentiment"]
    reason = row["negativereason"]
    topic = (_slug(reason) or UNKNOWN_TOPIC) if sentiment == "negative" else sentiment
    # Validated from a dict so that an error names its full path (``author.id``).
    return Mention.model_validate(
        {
            "id": f"x:{tweet_id}",
            "platform": "x",
            "author": {"id": name, "handle": f"@{name}", "followers": 0},
            "text": row["text"],
            "created_at": datetime.strptime(row["tweet_created"], _AIRLINE_TIME),
            "lang": "en",
            "url": f"https://twitter.com/{name}/status/{tweet_id}",
            "conversation_id": f"x:{tweet_id}",
            "labels": {"sentiment": sentiment, "topic": topic, "airline": _slug(row["airline"])},
        }
    )


@dataclass(frozen=True, slots=True)
class _Tweet:
    line: int
    id: int
    author: str
    inbound: bool
    created_at: datetime
    text: str
    parent: int | None


def customer_support_tweets(path: Path, *, inbound_only: bool = True) -> Iterator[Mention]:
    """Customer Support on Twitter (``twcs``): tweets with their thread and brand, oldest first."""
    tweets: dict[int, _Tweet] = {}
    for line, row in _rows(path, TWCS_COLUMNS):
        with _row_of(path, line):
            tweet = _tweet(row, line)
        tweets.setdefault(tweet.id, tweet)
    threads = _Threads(tweets)
    mentions = []
    for tweet in threads.in_order:
        if tweet.inbound or not inbound_only:
            with _row_of(path, tweet.line):
                mentions.append(threads.mention(tweet))
    return iter(mentions)


def _tweet(row: Row, line: int) -> _Tweet:
    inbound = row["inbound"].strip().lower()
    if inbound not in ("true", "false"):
        raise ValueError(f"inbound must be True or False, got {row['inbound']!r}")
    reply_to = row["in_response_to_tweet_id"].strip()
    return _Tweet(
        line=line,
        id=_tweet_id(row["tweet_id"]),
        author=row["author_id"],
        inbound=inbound == "true",
        created_at=datetime.strptime(row["created_at"], _TWCS_TIME),
        text=row["text"],
        parent=_tweet_id(reply_to) if reply_to else None,
    )


def _tweet_id(value: str) -> int:
    """Ids as pandas wrote them: ``"3"`` or, in a column with gaps, ``"3.0"``."""
    digits = value.strip().removesuffix(".0")
    if not digits.isdigit():
        raise ValueError(f"tweet id must be a whole number, got {value!r}")
    return int(digits)


class _Threads:
    """Reply links within the file: each tweet's thread root and the brand it talks to.

    ``in_order`` holds the tweets oldest first (ties by id).
    """

    def __init__(self, tweets: Mapping[int, _Tweet]) -> None:
        self._tweets = tweets
        self.in_order = sorted(tweets.values(), key=lambda t: (t.created_at, t.id))
        self._replies: dict[int, list[_Tweet]] = {}
        for tweet in self.in_order:
            if tweet.parent is not None:
                self._replies.setdefault(tweet.parent, []).append(tweet)
        self._thread_brand: dict[int, str] = {}
        for tweet in self.in_order:
            if not tweet.inbound:
                self._thread_brand.setdefault(self.root(tweet.id), tweet.author)

    def _ancestors(self, tweet_id: int) -> Iterator[_Tweet]:
        seen = {tweet_id}  # a bounded walk even if the file had a reply cycle
        parent = self._tweets[tweet_id].parent
        while parent is not None and parent in self._tweets and parent not in seen:
            seen.add(parent)
            yield self._tweets[parent]
            parent = self._tweets[parent].parent

    def root(self, tweet_id: int) -> int:
        oldest = tweet_id
        for ancestor in self._ancestors(tweet_id):
            oldest = ancestor.id
        return oldest

    def brand(self, tweet_id: int) -> str | None:
        """The brand this tweet answers, else the first to answer it, else the thread's."""
        # One customer may address several brands in one thread; prefer the nearest one.
        for ancestor in self._ancestors(tweet_id):
            if not ancestor.inbound:
                return ancestor.author
        for reply in self._replies.get(tweet_id, ()):
            if not reply.inbound:
                return reply.author
        return self._thread_brand.get(self.root(tweet_id))

    def mention(self, tweet: _Tweet) -> Mention:
        brand = self.brand(tweet.id) if tweet.inbound else tweet.author
        return Mention.model_validate(
            {
                "id": f"x:{tweet.id}",
                "platform": "x",
                "author": {"id": tweet.author, "handle": f"@{tweet.author}", "followers": 0},
                "text": tweet.text,
                "created_at": tweet.created_at,
                "conversation_id": f"x:{self.root(tweet.id)}",
                "in_reply_to": None if tweet.parent is None else f"x:{tweet.parent}",
                "labels": {} if brand is None else {"brand": brand},
            }
        )


CONVERTERS: Final[dict[str, Callable[[Path], Iterator[Mention]]]] = {
    "airline": airline_tweets,
    "twcs": customer_support_tweets,
}
