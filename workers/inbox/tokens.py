"""Per-person API tokens, kept only as SHA-256 hashes in a JSON file beside the state."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import orjson

from routing.errors import ConfigError

_PREFIX = "mr_"  # recognizable in a leaked-secrets scan


def _digest(token: str) -> str:
    # Tokens are 256 random bits: a plain hash is enough, no slow KDF is needed.
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Who each token belongs to; one token per person, a new one replaces the old."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._by_digest: dict[str, str] = {}
        self._mtime: float | None = None

    def issue(self, person_id: str, now: datetime | None = None) -> str:
        """A new token for ``person_id``, returned once; only its hash is written."""
        token = _PREFIX + secrets.token_urlsafe(32)
        entries = self._read()
        entries[person_id] = {
            "sha256": _digest(token),
            "issued_at": (now or datetime.now(UTC)).isoformat(),
        }
        self._write(entries)
        return token

    def who(self, token: str) -> str | None:
        """The person a token belongs to, or None; the file is re-read when it changed."""
        self._refresh()
        digest = _digest(token)
        for known, person in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return person
        return None

    def _refresh(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._by_digest, self._mtime = {}, None
            return
        if mtime != self._mtime:
            entries = self._read()
            self._by_digest = {e["sha256"]: person for person, e in entries.items()}
            self._mtime = mtime

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ConfigError(str(self.path), "", f"unreadable tokens file: {exc}") from exc
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, dict):
            raise ConfigError(str(self.path), "tokens", "expected a mapping of person -> hash")
        return tokens

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps({"tokens": entries}, option=orjson.OPT_INDENT_2))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)
