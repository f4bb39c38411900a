"""Builders for small rosters, taxonomies and mentions, and the outside-part skip rule."""

from __future__ import annotations

import os
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from routing.models import (
    Author,
    Classification,
    Employee,
    Mention,
    Sentiment,
    Taxonomy,
    Urgency,
)

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def need_outside_part(available: bool, reason: str) -> None:
    """Skip on a laptop without the part; in CI a missing part is a failure, not a skip."""
    if available:
        return
    if CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM a child process, SIGKILL it if it has not ended within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def shared_data(relative: str) -> Path:
    """A file of the public datasets beside the repository; skips when they are absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"dataset {relative} not found under {SHARED_DATA}")
    return path


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def employee(id: str = "anna", **overrides: Any) -> Employee:
    fields: dict[str, Any] = {
        "id": id,
        "name": id.title(),
        "team": "care",
        "languages": ["en", "nl"],
        "accounts": {"x": f"@{id}"},
        "skills": {"billing": 0.8, "outage": 0.5, "praise": 0.3},
        "budget_minutes_per_day": 60,
        "timezone": "UTC",
        "hours": "mon-sun 00:00-24:00",
    }
    fields.update(overrides)
    return Employee.model_validate(fields)


def mention(
    id: str = "m1", at: datetime = T0, *, platform: str = "x", handle: str = "@customer", **kw: Any
) -> Mention:
    return Mention(
        id=id,
        platform=platform,
        author=Author(id="u-" + id, handle=handle, followers=10),
        text=kw.pop("text", "my invoice is wrong"),
        created_at=at,
        **kw,
    )


def classification(
    mention_id: str = "m1",
    topic: str = "billing",
    urgency: Urgency = Urgency.NORMAL,
    language: str = "en",
) -> Classification:
    return Classification(
        mention_id=mention_id,
        topic=topic,
        urgency=urgency,
        language=language,
        sentiment=Sentiment.NEGATIVE,
        model_version="test",
    )


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def make_taxonomy() -> Taxonomy:
    return Taxonomy.model_validate(
        {
            "topics": {
                "billing": {"handling_minutes": 10},
                "outage": {"handling_minutes": 5},
                "praise": {"handling_minutes": 2},
                "unknown": {"handling_minutes": 8},
            },
            "urgency": {
                "low": {"sla_minutes": 1440, "weight": 1},
                "normal": {"sla_minutes": 240, "weight": 2},
                "high": {"sla_minutes": 60, "weight": 4},
                "critical": {"sla_minutes": 15, "weight": 8},
            },
        }
    )
