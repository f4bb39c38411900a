"""Weekly working hours such as ``"mon-thu 09:00-17:00; fri 09:00-12:00"``, in local time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEK = 7 * 24 * 60
_RANGE = re.compile(
    r"^(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+(?P<h1>\d{1,2}):(?P<m1>\d{2})-(?P<h2>\d{1,2}):(?P<m2>\d{2})$"
)


def _day(name: str, spec: str) -> int:
    try:
        return DAYS.index(name)
    except ValueError:
        raise ValueError(f"unknown day {name!r} in {spec!r} (use {', '.join(DAYS)})") from None


def _minute(hours: str, minutes: str, spec: str) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m != 0):
        raise ValueError(f"invalid time {hours}:{minutes} in {spec!r}")
    return h * 60 + m


class WorkingHours:
    """A set of weekly intervals; an interval may run past midnight into the next day."""

    __slots__ = ("_intervals", "spec")

    def __init__(self, spec: str, intervals: tuple[tuple[int, int], ...]) -> None:
        self.spec = spec
        # (start, end) in minutes since Monday 00:00; end may exceed one week (wraps to Monday).
        self._intervals = intervals

    @classmethod
    def parse(cls, spec: str) -> WorkingHours:
        intervals: list[tuple[int, int]] = []
        parts = [p.strip().lower() for p in spec.split(";") if p.strip()]
        if not parts:
            raise ValueError("hours are empty; expected e.g. 'mon-fri 09:00-17:00'")
        for part in parts:
            match = _RANGE.match(" ".join(part.split()))
            if match is None:
                raise ValueError(f"cannot read {part!r}; expected e.g. 'mon-fri 09:00-17:00'")
            first = _day(match["d1"], part)
            last = _day(match["d2"], part) if match["d2"] else first
            start = _minute(match["h1"], match["m1"], part)
            end = _minute(match["h2"], match["m2"], part)
            if start == end:
                raise ValueError(f"empty time range in {part!r}")
            length = end - start if end > start else end + 24 * 60 - start
            day = first
            while True:
                intervals.append((day * 24 * 60 + start, day * 24 * 60 + start + length))
                if day == last:
                    break
                day = (day + 1) % 7
        return cls(spec, tuple(sorted(intervals)))

    def _minute_of_week(self, local: datetime) -> float:
        # To the microsecond: ``steady_until`` and ``steady_since`` count from here, and a
        # bound off by a fraction of a second kept a cached answer past a shift's end.
        seconds = local.second + local.microsecond / 1e6
        return local.weekday() * 24 * 60 + local.hour * 60 + local.minute + seconds / 60

    def is_open(self, local: datetime) -> bool:
        """Whether ``local`` (in the employee's own timezone) falls within working hours."""
        m = self._minute_of_week(local)
        return any(s <= m < e or s <= m + _WEEK < e for s, e in self._intervals)

    def next_open(self, local: datetime) -> datetime:
        """The first moment at or after ``local`` that is within working hours."""
        if self.is_open(local):
            return local
        base = local.replace(second=0, microsecond=0)
        m = base.weekday() * 24 * 60 + base.hour * 60 + base.minute
        return base + timedelta(minutes=min((s - m) % _WEEK for s, _ in self._intervals))

    def next_start(self, local: datetime) -> datetime:
        """The start of the first working interval strictly after ``local``."""
        base = local.replace(second=0, microsecond=0)
        m = base.weekday() * 24 * 60 + base.hour * 60 + base.minute
        waits = [((s - m) % _WEEK) or _WEEK for s, _ in self._intervals]
        return base + timedelta(minutes=min(waits))

    def steady_until(self, local: datetime) -> datetime:
        """A moment until which ``is_open`` keeps the answer it gives at ``local``."""
        if not self.is_open(local):
            return self.next_open(local)
        m = self._minute_of_week(local)
        ends = [
            e - m if s <= m < e else e - m - _WEEK
            for s, e in self._intervals
            if s <= m < e or s <= m + _WEEK < e
        ]
        return local + timedelta(minutes=min(ends))

    def steady_since(self, local: datetime) -> datetime:
        """A moment since which ``is_open`` has given the answer it gives at ``local``."""
        m = self._minute_of_week(local)
        if self.is_open(local):
            # The latest start of an interval holding ``local``: overlaps may reach further
            # back, so this is a safe (late) bound.
            back = min(
                (m - s) % _WEEK for s, e in self._intervals if s <= m < e or s <= m + _WEEK < e
            )
        else:
            back = min((m - e) % _WEEK for _, e in self._intervals)
        return local - timedelta(minutes=back)

    def day_spans(self, local: datetime) -> list[tuple[datetime, datetime]]:
        """The working spans of ``local``'s calendar day, in local time, in order."""
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        day = local.weekday() * 24 * 60
        spans = []
        for start, end in self._intervals:
            for shift in (-_WEEK, 0):  # an interval may run past Sunday into Monday
                a, b = max(start + shift, day), min(end + shift, day + 24 * 60)
                if a < b:
                    spans.append((a - day, b - day))
        return [
            (midnight + timedelta(minutes=a), midnight + timedelta(minutes=b))
            for a, b in sorted(spans)
        ]

    def next_wind_down(self, local: datetime, lead_minutes: int) -> datetime:
        """The first moment strictly after ``local`` that is ``lead_minutes`` before a shift ends.

        Budget left at the end of a shift is lost at midnight; that is when to spend it.
        """
        base = local.replace(second=0, microsecond=0)
        m = base.weekday() * 24 * 60 + base.hour * 60 + base.minute
        waits = [((max(s, e - lead_minutes) - m) % _WEEK) or _WEEK for s, e in self._intervals]
        return base + timedelta(minutes=min(waits))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkingHours) and other._intervals == self._intervals

    def __hash__(self) -> int:
        return hash(self._intervals)

    def __repr__(self) -> str:
        return f"WorkingHours({self.spec!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            lambda v: v if isinstance(v, WorkingHours) else cls.parse(str(v)),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v.spec),
        )
