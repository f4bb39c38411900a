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
        """Search every query for tweets since the stream's cursor; pages read (0: no cursor)."""
        since = self._cursor.get("stream")
        if since is None:
            return 0  # first start: the stream begins now, there is nothing to catch up on
        newest: list[str] = []
        pages = 0
        for query in queries.values():
            search = self.client.search_recent_tweets
            for page in self._pages(search, "next_token", query=query, since_id=since):
                pages += 1
                newest.append(self._page(page, "stream") or since)
        self.advance("stream", max(newest, key=int, default=None))
        return pages

    def poll_mentions(self, user_id: str) -> int:
        """Read the account's mentions timeline since its cursor; pages read."""
        since = self._cursor.get("mentions")
        params: dict[str, Any] = {"id": user_id}
        if since is not None:
            params["since_id"] = since
        limit = self._max_pages if since is not None else 1  # first start: the latest page
        newest: list[str] = []
        pages = 0
        timeline = self.client.get_users_mentions
        for page in self._pages(timeline, "pagination_token", limit=limit, **params):
            pages += 1
            newest.extend([n] if (n := self._page(page, "mentions")) else [])
        self.advance("mentions", max(newest, key=int, default=None))
        return pages

    def _pages(
        self, call: Callable[..., Any], token_name: str, *, limit: int | None = None, **params: Any
    ) -> Iterator[Mapping[str, Any]]:
        token: str | None = None
        limit = limit or self._max_pages
        for _ in range(limit):
            extra = {token_name: token} if token else {}
            page = call(**params, **_COMMON, max_results=100, **extra)
            yield page
            meta = page.get("meta") if isinstance(page, Mapping) else None
            token = meta.get("next_token") if isinstance(meta, Mapping) else None
            if not token:
                return
        log.warning("x: stopped after %d pages; older tweets of this pass are skipped", limit)
        self._observer.error(CONNECTOR, "catch_up_truncated")

    def _page(self, page: Mapping[str, Any], feed: str) -> str | None:
        mentions: list[Mention] = []
        for result in page_mentions(page):
            if isinstance(result, PayloadError):
                log.warning("x: %s tweet refused: %s", feed, result.reason)
                self._observer.error(CONNECTOR, "malformed")
            else:
                mentions.append(result)
        return self.deliver(mentions)
