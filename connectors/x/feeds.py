"""The polled side of X: catch-up search, the mentions timeline, and delivering tweets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import tweepy

from connectors.ingest import Ingestor
from connectors.listening import RuleMatcher
from connectors.observer import ConnectorObserver
from connectors.x.cursor import Cursor
from connectors.x.tweets import CONNECTOR, TWEET_FIELDS, USER_FIELDS, page_mentions
from routing.errors import PayloadError
from routing.models import Mention

__all__ = ["XFeeds"]

log = logging.getLogger("mention_router.x")

_COMMON = {"expansions": "author_id", "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS}


class XFeeds:
    """Reads pages through tweepy's ``Client`` and hands matching tweets to the ingestor.

    A feed's cursor moves only after every page of a pass is ingested: pages come newest
    first, so moving it earlier would skip the older tweets of a pass that failed half-way.
    """

    def __init__(
        self,
        client: tweepy.Client,
        matcher: RuleMatcher,
        ingestor: Ingestor,
        cursor: Cursor,
        observer: ConnectorObserver,
        *,
        max_pages: int = 10,
    ) -> None:
        self.client = client
        self._matcher = matcher
        self._ingestor = ingestor
        self._cursor = cursor
        self._observer = observer
        self._max_pages = max_pages

    def deliver(self, mentions: Sequence[Mention]) -> str | None:
        """Ingest the mentions that match the rules; the newest tweet id among all given."""
        matched = [m for m in mentions if self._matcher.matches(m.text, m.lang)]
        self._ingestor.ingest(CONNECTOR, matched)
        ids = [int(m.id.removeprefix("x:")) for m in mentions if m.id[2:].isdigit()]
        return str(max(ids)) if ids else None

    def advance(self, feed: str, tweet_id: str | None) -> None:
        if tweet_id is not None:
            self._cursor.advance(feed, tweet_id)

    def catch_up(self, queries: Mapping[str, str]) -> int:
        """Search every query for tweets since the stream's cursor; tweets found (0: no cursor)."""
        since = self._cursor.get("stream")
        if since is None:
            return 0  # first start: the stream begins now, there is nothing to catch up on
        found: list[Mention] = []
        for query in queries.values():
            search = self.client.search_recent_tweets
            found += self._read(self._pages(search, "next_token", query=query, since_id=since))
        self.advance("stream", self.deliver(_oldest_first(found)))
        return len(found)

    def poll_mentions(self, user_id: str) -> int:
        """Read the account's mentions timeline since its cursor; tweets found."""
        since = self._cursor.get("mentions")
        params: dict[str, Any] = {"id": user_id}
        if since is not None:
            params["since_id"] = since
        timeline = self.client.get_users_mentions
        # First start: only the latest page, not the account's whole history.
        pages = self._pages(timeline, "pagination_token", whole=since is not None, **params)
        found = self._read(pages)
        self.advance("mentions", self.deliver(_oldest_first(found)))
        return len(found)

    def _pages(
        self, call: Callable[..., Any], token_name: str, *, whole: bool = True, **params: Any
    ) -> Iterator[Mapping[str, Any]]:
        """Up to ``max_pages`` pages (one unless ``whole``); stopping early is reported."""
        token: str | None = None
        for _ in range(self._max_pages if whole else 1):
            extra = {token_name: token} if token else {}
            page = call(**params, **_COMMON, max_results=100, **extra)
            yield page
            meta = page.get("meta") if isinstance(page, Mapping) else None
            token = meta.get("next_token") if isinstance(meta, Mapping) else None
            if not token or not whole:
                return
        log.warning("x: stopped after %d pages; older tweets are skipped", self._max_pages)
        self._observer.error(CONNECTOR, "catch_up_truncated")

    def _read(self, pages: Iterator[Mapping[str, Any]]) -> list[Mention]:
        """Every tweet of every page, a refused one counted and logged."""
        mentions: list[Mention] = []
        for page in pages:
            for result in page_mentions(page):
                if isinstance(result, PayloadError):
                    log.warning("x: tweet refused: %s", result.reason)
                    self._observer.error(CONNECTOR, "malformed")
                else:
                    mentions.append(result)
        return mentions


def _oldest_first(mentions: list[Mention]) -> list[Mention]:
    """Each tweet once (brands' queries overlap), oldest first: pages come newest first, and
    the queue gets mentions in the order they were written."""
    unique = {m.id: m for m in mentions}
    return sorted(unique.values(), key=lambda m: (len(m.id), m.id))
