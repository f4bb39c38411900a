"""Recorded streams on disk: reading and pacing a replay, dead letters, recordings, outcomes."""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from io import BufferedWriter
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self, TypeVar

import orjson

from connectors.codec import decode_mention, encode_mention, encode_outcome
from routing.errors import MalformedMentionError, MentionRouterError
from routing.models import Assignment, Mention, NotAssigned

__all__ = [
    "DeadLetterFile",
    "OutcomeFile",
    "StreamLine",
    "StreamWriter",
    "paced",
    "read_stream",
]

T = TypeVar("T")


class StreamLine(NamedTuple):
    """One non-blank line of a stream: where it is, what it parsed to, and its text."""

    line: int
    result: Mention | MalformedMentionError
    raw: str


def read_stream(
    path: Path, *, start_after_line: int = 0, source: str | None = None
) -> Iterator[StreamLine]:
    """Lazily parse a JSONL stream; a bad line is yielded as its error, never raised.

    Lines up to ``start_after_line`` are skipped without parsing (resume after a checkpoint).
    Line numbers are 1-based and count blank lines, so they match an editor's.
    """
    if not path.is_file():
        # Checked here, not inside the generator, so the caller hears of it at the call.
        raise FileNotFoundError(errno.ENOENT, "no such mention stream file", str(path))
    if start_after_line < 0:
        raise ValueError(f"start_after_line must be >= 0, got {start_after_line}")
    return _stream_lines(path, start_after_line, str(path) if source is None else source)


def _stream_lines(path: Path, start_after_line: int, source: str) -> Iterator[StreamLine]:
    with path.open("rb") as handle:
        lines = islice(handle, start_after_line, None)
        for number, data in enumerate(lines, start_after_line + 1):
            record = data.rstrip(b"\r\n")
            if not record or record.isspace():
                continue
            try:
                text = record.decode()
            except UnicodeDecodeError as exc:
                reason = f"not valid UTF-8: byte 0x{record[exc.start]:02x} at position {exc.start}"
                error = MalformedMentionError(reason, line=number, source=source)
                yield StreamLine(number, error, record.decode(errors="backslashreplace"))
                continue
            try:
                result: Mention | MalformedMentionError = decode_mention(
                    record, line=number, source=source
                )
            except MalformedMentionError as exc:
                result = exc
            yield StreamLine(number, result, text)


def paced(
    items: Iterable[T],
    *,
    speed: float,
    timestamp: Callable[[T], datetime],
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    max_gap: timedelta | None = None,
) -> Iterator[T]:
    """Yield ``items`` at ``speed`` times the pace of their own timestamps (0: no waiting).

    Every wait is computed from the first item and the clock at the start, so time spent
    by the consumer is absorbed rather than added up. An item older than one already
    yielded waits for nothing. ``max_gap`` shortens longer silences in the stream to it.
    """
    if speed < 0:
        raise ValueError(f"speed must be >= 0, got {speed}")
    if speed == 0:
        yield from items
        return
    origin: datetime | None = None
    latest = skipped = 0.0  # stream seconds since the first item; seconds of silence cut
    start = 0.0
    for item in items:
        at = timestamp(item)
        if origin is None:
            origin, start = at, monotonic()
        offset = (at - origin).total_seconds() - skipped
        if max_gap is not None and offset - latest > max_gap.total_seconds():
            skipped += offset - latest - max_gap.total_seconds()
            offset = latest + max_gap.total_seconds()
        latest = max(latest, offset)
        delay = start + offset / speed - monotonic()
        if delay > 0:
            sleep(delay)
        yield item


class _AppendFile:
    """A binary file opened on first write, its directory created; a context manager."""

    def __init__(self, path: Path, *, append: bool = True) -> None:
        self.path = path
        self._append = append
        self._handle: BufferedWriter | None = None
        self._closed = False

    def _file(self) -> BufferedWriter:
        if self._closed:
            # Reopening could truncate ("wb") what was written, so a closed file stays closed.
            raise ValueError(f"{self.path} is closed")
        handle = self._handle
        if handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("ab") if self._append else self.path.open("wb")
            self._handle = handle
        return handle

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> None:
        self._closed = True
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class DeadLetterFile(_AppendFile):
    """Appends each record that could not be used, with its reason, as one JSON line.

    The file (and its directory) appear on the first dead letter; call ``flush`` per batch.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, append=True)
        self.count = 0

    def write(self, error: MalformedMentionError, raw: str | bytes) -> None:
        text = raw.decode(errors="backslashreplace") if isinstance(raw, bytes) else raw
        entry = {"source": error.source, "line": error.line, "reason": error.reason, "raw": text}
        self._file().write(_json_line(entry))
        self.count += 1


def _json_line(entry: Mapping[str, object]) -> bytes:
    try:
        return orjson.dumps(entry) + b"\n"
    except orjson.JSONEncodeError:
        # orjson refuses lone surrogates; the stdlib escapes them instead.
        return json.dumps(entry).encode() + b"\n"


class StreamWriter(_AppendFile):
    """Writes mentions as stream lines, the format ``read_stream`` reads back."""

    def __init__(self, path: Path, *, append: bool = False) -> None:
        super().__init__(path, append=append)
        self.count = 0

    def write(self, m: Mention) -> None:
        self._file().write(encode_mention(m) + b"\n")
        self.count += 1


class OutcomeFile(_AppendFile):
    """The routing outcomes, one JSON line each, resumable after a crash.

    ``flush_durable`` returns the file size to store with the queue checkpoint; reopening
    with that ``resume_size`` cuts off whatever was written after it.
    """

    def __init__(self, path: Path, *, resume_size: int | None = None) -> None:
        super().__init__(path, append=resume_size is not None)
        if resume_size is not None:
            _truncate(path, resume_size)
        self._file()

    @classmethod
    def open(cls, path: Path, resume_size: int | None = None) -> OutcomeFile:
        return cls(path, resume_size=resume_size)

    def write(self, o: Assignment | NotAssigned) -> None:
        self._file().write(encode_outcome(o) + b"\n")

    def write_many(self, outcomes: Iterable[Assignment | NotAssigned]) -> int:
        return self.write_lines([encode_outcome(o) for o in outcomes])

    def write_lines(self, encoded: Sequence[bytes]) -> int:
        """Append outcomes already encoded with ``encode_outcome``, one line each."""
        if encoded:
            self._file().write(b"\n".join(encoded) + b"\n")
        return len(encoded)

    def flush_durable(self) -> int:
        """Flush and fsync; return the file size in bytes, safe to checkpoint."""
        handle = self._file()
        handle.flush()
        os.fsync(handle.fileno())
        return os.fstat(handle.fileno()).st_size


def _truncate(path: Path, size: int) -> None:
    if size < 0:
        raise ValueError(f"resume_size must be >= 0, got {size}")
    actual = path.stat().st_size if path.exists() else 0
    if actual < size:
        raise MentionRouterError(
            f"{path}: holds {actual} bytes, fewer than the {size} bytes checkpointed; "
            "it was changed or replaced outside mention-router"
        )
    if path.exists():
        os.truncate(path, size)
