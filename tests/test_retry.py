"""Back-off with jitter, rate-limit waits, and the X cursor that catch-up starts from."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from connectors.retry import Backoff, rate_limit_delay
from connectors.x import Cursor


@given(seed=st.integers(), initial=st.floats(0.01, 10), maximum=st.floats(10, 1000))
def test_backoff_doubles_within_jitter_up_to_the_maximum(
    seed: int, initial: float, maximum: float
) -> None:
    backoff = Backoff(initial, maximum, random.Random(seed))
    for attempt in range(40):
        ceiling = min(maximum, initial * 2**attempt)
        assert ceiling / 2 <= backoff.next_delay() <= ceiling
    backoff.reset()
    assert backoff.next_delay() <= initial


def test_jitter_spreads_clients_apart() -> None:
    delays = {Backoff(1, 320, random.Random(seed)).next_delay() for seed in range(20)}
    assert len(delays) == 20


def test_rate_limit_delay_follows_the_reset_header() -> None:
    assert rate_limit_delay(1030.0, now=1000.0, fallback=5) == 31.0
    assert rate_limit_delay(990.0, now=1000.0, fallback=5) == 1.0  # already reset
    assert rate_limit_delay(None, now=1000.0, fallback=5) == 5
    assert rate_limit_delay(10**12, now=1000.0, fallback=5) == 901.0  # a wrong header is capped


def test_cursor_only_moves_forward_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "cursor.json"
    cursor = Cursor(path)
    cursor.advance("stream", "1700000000000000005")
    cursor.advance("stream", "1700000000000000003")  # older: ignored
    cursor.advance("mentions", 42)
    again = Cursor(path)
    assert again.get("stream") == "1700000000000000005"
    assert again.get("mentions") == "42"


def test_an_unreadable_cursor_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "cursor.json"
    path.write_text("{not json")
    assert Cursor(path).get("stream") is None
