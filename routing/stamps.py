"""POSIX timestamps of the moments the router keeps comparing, each worked out once."""

from __future__ import annotations

from datetime import datetime

_KEPT = 64


class Stamps:
    """``at.timestamp()``, remembered for the last few moments by identity.

    Parsed mentions carry a separate tzinfo object each, so comparing two of their datetimes,
    or asking one for its timestamp, calls both offsets: a microsecond or so, as much as the
    rest of a heap step. The router compares the same few moments (the clock, the next
    capacity event, the next plan) again and again; as floats that is nearly free, and in the
    same order (distinct microseconds stay distinct floats).
    """

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[int, tuple[datetime, float]] = {}

    def __call__(self, at: datetime) -> float:
        known = self._known.get(id(at))
        if known is not None and known[0] is at:  # the datetime is held: its id is not reused
            return known[1]
        if len(self._known) >= _KEPT:
            self._known.clear()
        ts = at.timestamp()
        self._known[id(at)] = (at, ts)
        return ts
