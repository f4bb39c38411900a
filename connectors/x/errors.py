"""tweepy and requests errors translated into ours, with the kind the observer counts."""

from __future__ import annotations

import requests
import tweepy

from connectors.x.tweets import CONNECTOR
from routing.errors import (
    AuthenticationError,
    ConnectorError,
    PayloadError,
    PlatformUnavailableError,
    QueueError,
    RateLimitedError,
)

__all__ = ["error_kind", "translate"]


def translate(exc: BaseException) -> ConnectorError:
    """Our error for a tweepy or requests failure (anything else: a generic ConnectorError)."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, tweepy.TooManyRequests):
        reset = exc.response.headers.get("x-rate-limit-reset")
        return RateLimitedError(CONNECTOR, "429 rate limited", reset_at=_epoch(reset))
    if isinstance(exc, tweepy.Unauthorized | tweepy.Forbidden):
        return AuthenticationError(CONNECTOR, _first_line(exc))
    if isinstance(exc, tweepy.TwitterServerError):
        return PlatformUnavailableError(CONNECTOR, _first_line(exc))
    if isinstance(exc, requests.RequestException):
        return PlatformUnavailableError(CONNECTOR, f"{type(exc).__name__}: {exc}")
    return ConnectorError(CONNECTOR, _first_line(exc))


def http_error(status: int, reset: str | None) -> ConnectorError:
    """Our error for a non-200 answer to the stream request."""
    if status in (420, 429):
        return RateLimitedError(CONNECTOR, f"{status} rate limited", reset_at=_epoch(reset))
    if status in (401, 403):
        return AuthenticationError(CONNECTOR, f"{status} credentials refused")
    if status >= 500:
        return PlatformUnavailableError(CONNECTOR, f"{status} server error")
    return ConnectorError(CONNECTOR, f"{status} refused the stream request")


def error_kind(exc: BaseException) -> str:
    """The bounded kind the observer counts for ``exc``."""
    kinds: tuple[tuple[type[BaseException], str], ...] = (
        (RateLimitedError, "rate_limited"),
        (AuthenticationError, "unauthorized"),
        (PlatformUnavailableError, "unavailable"),
        (PayloadError, "malformed"),
        (QueueError, "queue"),
    )
    return next((kind for cls, kind in kinds if isinstance(exc, cls)), "failed")


def _epoch(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]
