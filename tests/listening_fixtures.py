"""Shared builders for connector tests: rules, an ingestor on a queue, a recording observer."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from pydantic import SecretStr

from connectors.codec import decode_mention
from connectors.dedup import SeenIds
from connectors.files import StreamWriter
from connectors.ingest import Ingestor
from connectors.listening import ListeningRules
from connectors.queues import Queue
from connectors.x import Cursor, TweepySource, XOptions
from routing.models import Mention
from tests.xapi import FakeXApi, redirect

TOKEN = "AAAA-test-bearer-token-never-logged"

RULES = ListeningRules.model_validate(
    {
        "brands": {
            "contoso": {
                "handles": ["@contoso"],
                "keywords": ["contoso", "contoso fiber"],
                "hashtags": ["#contoso"],
                "exclude": ["contoso arena"],
                "languages": ["en", "nl"],
            },
            "fabrikam": {"handles": ["@fabrikam"], "keywords": ["fabrikam"]},
        }
    }
)


@dataclass
class RecordingObserver:
    """A ``ConnectorObserver`` that remembers every report."""

    accepted: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)
    states: list[tuple[str, bool]] = field(default_factory=list)

    def received(self, connector: str, count: int = 1) -> None:
        self.accepted[connector] += count

    def duplicate(self, connector: str, count: int = 1) -> None:
        self.dropped[connector] += count

    def error(self, connector: str, kind: str) -> None:
        self.errors.append((connector, kind))

    def state(self, connector: str, up: bool) -> None:
        self.states.append((connector, up))


def ingestor(
    queue: Queue, tmp: Path, observer: RecordingObserver, *, record: Path | None = None
) -> Ingestor:
    recorder = StreamWriter(record, append=True) if record is not None else None
    seen = SeenIds(tmp / "seen.db", capacity=10_000)
    return Ingestor(queue, "mentions", seen, recorder=recorder, observer=observer)


def queued(queue: Queue) -> list[Mention]:
    return [decode_mention(r.value) for r in queue.scan("mentions")]


def x_source(
    api: FakeXApi,
    ingest: Ingestor,
    tmp: Path,
    observer: RecordingObserver,
    *,
    sleeps: list[float] | None = None,
    clock: float = 1_000_000.0,
    prepare_session: Callable[[requests.Session], None] | None = None,
    **options: object,
) -> TweepySource:
    """A source whose tweepy sessions are redirected to ``api``; sleeps are recorded, not slept."""
    delays = sleeps if sleeps is not None else []
    return TweepySource(
        XOptions(bearer_token=SecretStr(TOKEN), **options),  # type: ignore[arg-type]
        RULES,
        ingest,
        Cursor(tmp / "cursor.json"),
        observer=observer,
        prepare_session=prepare_session or redirect(api),
        sleep=delays.append,
        clock=lambda: clock,
        rng=random.Random(1),
    )
