"""The HTTP side of tweepy: a configurable API base URL, and logs that never hold the token."""

from __future__ import annotations

import logging
import re
from typing import Any, Final

import requests
from requests.adapters import HTTPAdapter

__all__ = ["TWEEPY_HOST", "BaseUrlAdapter", "mount_base_url", "redact_tweepy_logs"]

TWEEPY_HOST: Final = "https://api.twitter.com"  # hard-coded in tweepy's Client and stream
_BEARER: Final = re.compile(r"(Bearer\s+)[^\s'\",}]+")


class BaseUrlAdapter(HTTPAdapter):
    """Sends what tweepy addresses to ``TWEEPY_HOST`` to ``base_url`` instead (a proxy)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        if url.startswith(TWEEPY_HOST):
            request.url = self.base_url + url[len(TWEEPY_HOST) :]
        return super().send(request, stream, timeout, verify, cert, proxies)


def mount_base_url(session: requests.Session, base_url: str) -> None:
    """Route the session's API requests to ``base_url`` unless it is tweepy's own host."""
    if base_url.rstrip("/") != TWEEPY_HOST:
        session.mount(TWEEPY_HOST + "/", BaseUrlAdapter(base_url))


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Bearer" in message:
            record.msg, record.args = _BEARER.sub(r"\1***", message), None
        return True


def redact_tweepy_logs() -> None:
    """tweepy logs request headers at DEBUG, the bearer token included: mask it."""
    for name in ("tweepy.client", "tweepy.streaming"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Redact) for f in logger.filters):
            logger.addFilter(_Redact())
