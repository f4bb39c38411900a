"""How long to wait before trying a platform again: exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Backoff", "rate_limit_delay"]


@dataclass(slots=True)
class Backoff:
    """Delays that double from ``initial`` up to ``maximum``, each drawn in [d/2, d].

    The jitter keeps many clients that lost the platform together from coming back together.
    """

    initial: float = 1.0
    maximum: float = 320.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * 2.0 ** min(self.attempts, 60))
        self.attempts += 1
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempts = 0


def rate_limit_delay(reset_at: float | None, now: float, fallback: float) -> float:
    """Seconds until a rate limit resetting at epoch second ``reset_at`` is lifted (+1 s slack).

    Without a usable reset time, ``fallback``; never more than 15 minutes past now, the
    longest X window, so a wrong clock or header cannot park the connector for hours.
    """
    if reset_at is None:
        return fallback
    return min(max(reset_at - now, 0.0) + 1.0, 15 * 60.0 + 1.0)
