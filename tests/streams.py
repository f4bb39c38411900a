"""Deterministic synthetic mention streams and a matching roster, for pipeline tests."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

TOPICS = ["billing", "outage", "praise"]
URGENCIES = ["low", "normal", "high", "critical"]
TEXTS = {
    "en": ["my bill is wrong again", "is the service down?", "thanks, great help!"],
    "nl": ["mijn factuur klopt niet", "ligt de dienst eruit?", "bedankt, top geholpen!"],
}

TAXONOMY_YAML = """
topics:
  billing: {handling_minutes: 10}
  outage: {handling_minutes: 5}
  praise: {handling_minutes: 2}
  unknown: {handling_minutes: 8}
urgency:
  low: {sla_minutes: 1440, weight: 1}
  normal: {sla_minutes: 240, weight: 2}
  high: {sla_minutes: 60, weight: 4}
  critical: {sla_minutes: 15, weight: 8}
"""

ROSTER_YAML = """
employees:
  - {id: anna, name: Anna, team: care-nl, languages: [nl, en], accounts: {x: "@anna"},
     skills: {billing: 0.9, outage: 0.5}, budget_minutes_per_day: 60,
     timezone: Europe/Amsterdam, hours: "mon-fri 09:00-17:00"}
  - {id: bram, name: Bram, team: care-nl, languages: [nl], accounts: {x: "@bram", facebook: bram},
     skills: {outage: 0.9, praise: 0.4, unknown: 0.5}, budget_minutes_per_day: 45,
     timezone: Europe/Amsterdam, hours: "mon-thu 08:00-16:00; fri 08:00-12:00"}
  - {id: cleo, name: Cleo, team: care-en, languages: [en], accounts: {x: "@cleo", facebook: cleo},
     skills: {billing: 0.6, praise: 0.8, outage: 0.3}, budget_minutes_per_day: 30,
     timezone: Europe/London, hours: "mon-sun 07:00-23:00"}
"""


def write_config(directory: Path) -> tuple[Path, Path]:
    """Write the test roster and taxonomy; returns their paths."""
    roster, taxonomy = directory / "roster.yaml", directory / "taxonomy.yaml"
    roster.write_text(ROSTER_YAML, encoding="utf-8")
    taxonomy.write_text(TAXONOMY_YAML, encoding="utf-8")
    return roster, taxonomy


def stream_lines(count: int, *, seed: int = 7, start: datetime | None = None) -> list[str]:
    """``count`` labeled mentions, a few seconds to minutes apart, as stream JSON lines."""
    rng = random.Random(seed)
    at = start or datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    lines = []
    for i in range(count):
        at += timedelta(seconds=rng.randint(1, 240))
        lang = rng.choice(["en", "nl"])
        topic_index = rng.randrange(len(TOPICS))
        record = {
            "id": f"x:{1_000_000 + i}",
            "platform": rng.choice(["x", "x", "facebook"]),
            "author": {"id": f"u{rng.randint(1, 500)}", "handle": f"@user{i}", "followers": 10},
            "text": TEXTS[lang][topic_index],
            "created_at": at.isoformat(),
            "lang": lang,
            "labels": {
                "topic": TOPICS[topic_index],
                "urgency": rng.choice(URGENCIES),
                "sentiment": "neutral",
            },
        }
        lines.append(json.dumps(record))
    return lines


def write_stream(path: Path, count: int, *, seed: int = 7) -> Path:
    path.write_text("\n".join(stream_lines(count, seed=seed)) + "\n", encoding="utf-8")
    return path
