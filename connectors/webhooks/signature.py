"""HMAC-SHA256 body signatures (``sha256=<hex>``) and Meta's subscription handshake."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from routing.errors import SignatureError

__all__ = ["sign", "verify_signature", "verify_subscription"]


def sign(body: bytes, secret: str) -> str:
    """The header value for ``body``: ``sha256=`` and the hex HMAC-SHA256 under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(
    connector: str, body: bytes, header: str | None, secret: str, *, name: str
) -> None:
    """Raise ``SignatureError`` unless ``header`` (called ``name``) signs ``body``."""
    if not header:
        raise SignatureError(connector, f"missing {name} header")
    scheme, _, digest = header.strip().partition("=")
    if scheme.lower() != "sha256" or len(digest) != 64:
        raise SignatureError(connector, f"{name} must be sha256=<64 hex digits>")
    # compare_digest: the time taken must not tell how much of a forged signature was right.
    if not hmac.compare_digest(sign(body, secret), "sha256=" + digest.lower()):
        raise SignatureError(connector, f"{name} does not match the body")


def verify_subscription(params: Mapping[str, str], verify_token: str) -> str:
    """Meta's GET handshake: the ``hub.challenge`` to echo, or ``SignatureError`` with why not."""
    if params.get("hub.mode") != "subscribe":
        raise SignatureError("meta", "hub.mode must be 'subscribe'")
    token = params.get("hub.verify_token", "")
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        raise SignatureError("meta", "hub.verify_token does not match")
    challenge = params.get("hub.challenge")
    if not challenge:
        raise SignatureError("meta", "hub.challenge is missing")
    return challenge
