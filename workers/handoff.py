"""Values one stage hands to the next in the same process, so the next need not decode them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_LIMIT = 100_000


class Handoff(Generic[T]):
    """A decoder that remembers what this process encoded: the bytes and the value they hold.

    A stage that publishes a record it holds as a value ``keep``s the pair; the next stage in
    the same process reads the record back from the queue as usual, and ``decode`` gives the
    kept value for those exact bytes instead of parsing and validating them again. It is what
    decoding would give, because the codecs round-trip: ``decode(encode(v)) == v``. Records
    written by another process, or before a restart, are not held and are decoded.

    Each value is handed over once; past ``limit`` held values the oldest are forgotten (a
    consumer that lags that far behind decodes them), so it never grows without bound.
    """

    def __init__(self, decode: Callable[[bytes], T], limit: int = _LIMIT) -> None:
        self._decode = decode
        self._limit = limit
        self._held: dict[bytes, T] = {}
        self.hits = 0

    def keep(self, data: bytes, value: T) -> bytes:
        """Remember that ``data`` decodes to ``value``; returns ``data``."""
        held = self._held
        held[data] = value
        while len(held) > self._limit:
            del held[next(iter(held))]
        return data

    def decode(self, data: bytes) -> T:
        """The value kept for ``data``, or ``data`` decoded."""
        value = self._held.pop(data, None)
        if value is None:
            return self._decode(data)
        self.hits += 1
        return value

    def __len__(self) -> int:
        return len(self._held)
