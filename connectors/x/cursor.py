"""The newest tweet id seen per feed, kept in a small JSON file so catch-up survives restarts."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

__all__ = ["Cursor"]


class Cursor:
    """Per feed (``stream``, ``mentions``), the highest tweet id ingested; it only moves up.

    Written by atomic rename without fsync: a cursor lost in a crash only makes the next
    catch-up start earlier, and deduplication drops what it finds again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ids: dict[str, int] = self._load()

    def _load(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # unreadable: catch up as after a first start; dedup covers the overlap
        if not isinstance(data, dict):
            return {}
        return {str(k): int(v) for k, v in data.items() if str(v).isdigit()}

    def get(self, feed: str) -> str | None:
        with self._lock:
            value = self._ids.get(feed)
        return None if value is None else str(value)

    def advance(self, feed: str, tweet_id: str | int) -> None:
        new = int(tweet_id)
        with self._lock:
            if new <= self._ids.get(feed, -1):
                return
            self._ids[feed] = new
            text = json.dumps({k: str(v) for k, v in self._ids.items()}, sort_keys=True)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(text)
            os.replace(tmp, self.path)
