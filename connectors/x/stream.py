"""One filtered-stream connection through tweepy's ``StreamingClient``; we decide on retries."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import requests
import tweepy

from connectors.x.errors import http_error, translate
from connectors.x.tweets import CONNECTOR, TWEET_FIELDS, USER_FIELDS
from routing.errors import MentionRouterError, PlatformUnavailableError

__all__ = ["StreamConnection"]

log = logging.getLogger("mention_router.x")

SessionHook = Callable[[requests.Session], None]


class StreamConnection(tweepy.StreamingClient):  # type: ignore[misc]
    """Connects once: any failure ends ``connect`` with the reason, instead of tweepy's own
    back-off (fixed sleeps that ignore ``x-rate-limit-reset`` and cannot be interrupted).

    ``on_line`` gets each non-blank line; ``on_connected`` runs once the stream answered 200
    and before its first line is read (catch-up goes there, so nothing falls in between).
    Rule requests (``get_rules``, ``add_rules``, ``delete_rules``) share the same session.
    """

    def __init__(
        self,
        bearer_token: str,
        *,
        on_line: Callable[[bytes], None],
        on_connected: Callable[[], None],
        prepare_session: SessionHook | None = None,
    ) -> None:
        super().__init__(bearer_token, return_type=dict, wait_on_rate_limit=False, max_retries=0)
        self._on_line = on_line
        self._on_connected = on_connected
        self._response: requests.Response | None = None
        self.failure: MentionRouterError | None = None
        self.session.hooks["response"].append(self._remember)
        if prepare_session is not None:
            prepare_session(self.session)

    def connect(self) -> MentionRouterError | None:
        """Read the stream until it ends; the reason it ended (None: ``stop`` was called)."""
        self.failure = None
        self.filter(expansions="author_id", tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS)
        return self.failure

    def stop(self) -> None:
        """Ends ``connect`` from another thread, without waiting for the next keep-alive."""
        self.disconnect()
        response = self._response
        if response is not None:
            # Already closed or released: the read loop ends on its own.
            with contextlib.suppress(AttributeError, OSError, RuntimeError, ValueError):
                response.raw.shutdown()

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.url.split("?")[0].endswith("/search/stream"):
            self._response = response

    def _fail(self, failure: MentionRouterError) -> None:
        if self.running:
            self.failure = failure
        self.disconnect()

    def on_connect(self) -> None:
        self._on_connected()

    def on_data(self, raw_data: bytes) -> None:
        self._on_line(raw_data)

    def on_request_error(self, status_code: int) -> None:
        response = self._response
        reset = response.headers.get("x-rate-limit-reset") if response is not None else None
        self._fail(http_error(status_code, reset))

    def on_connection_error(self) -> None:
        self._fail(PlatformUnavailableError(CONNECTOR, "stream connection lost or timed out"))

    def on_closed(self, response: requests.Response) -> None:
        self._fail(PlatformUnavailableError(CONNECTOR, "stream closed by the server"))

    def on_exception(self, exception: Exception) -> None:
        failure = exception if isinstance(exception, MentionRouterError) else translate(exception)
        self.failure = failure  # set even when stopping: a failed catch-up must be retried

    def on_keep_alive(self) -> None:
        pass

    def on_disconnect(self) -> None:
        log.debug("x stream disconnected")
