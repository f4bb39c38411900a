"""Values one stage hands to the next in the same process, so the next need not decode them."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_LIMIT = 100_000
_LOOKAHEAD = 64


class Handoff(Generic[T]):
    """A decoder that remembers what this process encoded: the bytes and the value they hold.

    A stage that publishes a record it holds as a value ``keep``s the pair; the next stage in
    the same process reads the record back from the queue as usual, and ``decode`` gives the
    kept value for those exact bytes instead of parsing and validating them again. It is what
    decoding would give, because the codecs round-trip: ``decode(encode(v)) == v``. Records
    written by another process, or before a restart, are not held and are decoded.

    Records are read back in the order they were kept, so the kept pairs wait in that order
    and each record is compared with the next few (no hashing of the bytes); pairs passed
    over are forgotten. Each value is handed over once; past ``limit`` held values the oldest
    are forgotten (a consumer that lags that far behind decodes them), so it never grows
    without bound.
    """

    def __init__(self, decode: Callable[[bytes], T], limit: int = _LIMIT) -> None:
        self._decode = decode
        self._held: deque[tuple[bytes, T]] = deque(maxlen=limit)
        self.hits = 0

    def keep(self, data: bytes, value: T) -> bytes:
        """Remember that ``data`` decodes to ``value``; returns ``data``."""
        self._held.append((data, value))
        return data

    def decode(self, data: bytes) -> T:
        """The value kept for ``data``, or ``data`` decoded."""
        held = self._held
        for i in range(min(len(held), _LOOKAHEAD)):
            if held[i][0] == data:
                for _ in range(i):  # kept before it, and not read in order: decoded if read
                    held.popleft()
                self.hits += 1
                return held.popleft()[1]
        return self._decode(data)

    def __len__(self) -> int:
        return len(self._held)
