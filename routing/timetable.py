"""Working spans as arrays kept across epochs: an epoch's (candidate, span) pairs are a mask away.

The plan is re-solved every epoch over a window that moves by one epoch, while people's
working days stay what they were. So each set of hours in a zone keeps its spans from the
local midnight of ``now`` on, for days reaching past the window, until that midnight is no
longer today or the window outgrows them; and every kind of mention keeps its (candidate, span)
pairs as positions in those spans. An epoch then clips and masks arrays instead of building
them: it selects exactly the spans ``Shifts.spans`` gives, in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from routing.catalogue import Catalogue
from routing.eligibility import Need
from routing.hours import WorkingHours
from routing.ledger import BudgetLedger
from routing.models import Employee
from routing.planning import DayBook, Shifts

_AHEAD = 2 * 86_400.0  # days kept past the window: kept spans last a day or more of epochs


@dataclass(frozen=True, slots=True)
class _Strip:
    """One set of hours in one zone: its working spans from one local midnight on."""

    midnight: tuple[date, int]  # that midnight's date and fold
    cover: float  # every day that begins before this is in
    start: np.ndarray
    end: np.ndarray
    days: list[date]
    at: list[datetime]


@dataclass(frozen=True, slots=True)
class Pairs:
    """Every (candidate, span) of one kind of mention in the window, candidates most
    proficient first, each candidate's spans in order: entries ``offset`` on of the epoch's."""

    offset: int
    candidate: np.ndarray  # which candidate (0, 1, ...) each pair belongs to
    bounds: np.ndarray  # where each candidate's pairs begin
    start: np.ndarray
    end: np.ndarray
    ids: np.ndarray  # the person (id, an object array) of each pair


class Timetable:
    """The spans of everyone who could take the kinds of mention asked about, kept across
    epochs (one timetable serves one catalogue)."""

    def __init__(self, book: DayBook | None = None) -> None:
        self._book = book if book is not None else DayBook()
        self._needs: dict[Need, tuple[Employee, ...]] = {}
        self._hours: dict[tuple[WorkingHours, str], Employee] = {}  # one person per set
        self._strips: dict[tuple[WorkingHours, str], _Strip] = {}
        self._table: _Table | None = None

    def epoch(self, shifts: Shifts, needs: Iterable[Need], catalogue: Catalogue) -> Epoch:
        """The window of ``shifts`` for these kinds of mention."""
        for need in needs:
            if need not in self._needs:
                self._needs[need] = catalogue.candidates_for(need)
                for employee in self._needs[need]:
                    self._hours.setdefault((employee.hours, employee.timezone), employee)
                self._table = None
        self._refresh(shifts)
        if self._table is None:
            self._table = _Table(self._needs, self._strips)
        return Epoch(self._table, shifts)

    def _refresh(self, shifts: Shifts) -> None:
        """Keep each set of hours' spans while their midnight is today's and they reach past
        the window; build them again otherwise."""
        midnights: dict[str, tuple[datetime, tuple[date, int]]] = {}
        for key, employee in self._hours.items():
            found = midnights.get(employee.timezone)
            if found is None:
                midnight = shifts.midnight(employee)
                found = midnights[employee.timezone] = (midnight, (midnight.date(), midnight.fold))
            strip = self._strips.get(key)
            if strip is None or strip.midnight != found[1] or strip.cover < shifts.until:
                self._strips[key] = self._strip(employee, found[0], shifts.until + _AHEAD)
                self._table = None

    def _strip(self, employee: Employee, midnight: datetime, cover: float) -> _Strip:
        spans = [s for s in self._book.spans(employee, midnight, cover) if s[0] < s[1]]
        return _Strip(
            (midnight.date(), midnight.fold), cover, np.array([s[0] for s in spans], dtype=float),
            np.array([s[1] for s in spans], dtype=float), [s[2] for s in spans],
            [s[3] for s in spans],
        )  # fmt: skip


class _Table:
    """Everyone's kept spans end to end, and each kind's pairs as positions in them (kind by
    kind, candidates most proficient first)."""

    def __init__(
        self,
        needs: dict[Need, tuple[Employee, ...]],
        strips: dict[tuple[WorkingHours, str], _Strip],
    ) -> None:
        self.rows: list[tuple[Employee, date]] = []  # budgets (person, local day) by number
        numbers: dict[tuple[str, date], int] = {}
        where: dict[str, range] = {}
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        rows: list[int] = []
        self.at: list[datetime] = []
        for employee in (e for candidates in needs.values() for e in candidates):
            if employee.id in where:
                continue
            strip = strips[(employee.hours, employee.timezone)]
            where[employee.id] = range(len(rows), len(rows) + len(strip.days))
            starts.append(strip.start)
            ends.append(strip.end)
            self.at.extend(strip.at)
            for day in strip.days:
                if (employee.id, day) not in numbers:
                    numbers[(employee.id, day)] = len(self.rows)
                    self.rows.append((employee, day))
                rows.append(numbers[(employee.id, day)])
        self.start = np.concatenate([np.empty(0), *starts])
        self.end = np.concatenate([np.empty(0), *ends])
        self.row = np.array(rows, dtype=np.int64)
        self._pairs(needs, where)

    def _pairs(self, needs: dict[Need, tuple[Employee, ...]], where: dict[str, range]) -> None:
        index: list[int] = []
        candidate: list[int] = []
        skill: list[float] = []
        ids: list[str] = []
        self.kinds: dict[Need, int] = {}  # each kind's place in ``offsets``
        offsets, number = [0], 0
        for need, candidates in needs.items():
            for employee in candidates:
                number += 1  # numbers differ from one candidate to the next, kinds included
                span = where[employee.id]
                index.extend(span)
                candidate.extend([number] * len(span))
                skill.extend([employee.skills[need.topic]] * len(span))
                ids.extend([employee.id] * len(span))
            self.kinds[need] = len(offsets) - 1
            offsets.append(len(index))
        self.index = np.array(index, dtype=np.int64)
        self.candidate = np.array(candidate, dtype=np.int64)
        self.skill = np.array(skill, dtype=float)
        self.ids = np.array(ids, dtype=object)
        self.offsets = np.array(offsets, dtype=np.int64)


class Epoch:
    """One epoch's window over a ``Timetable``: every kind's pairs in it (kind by kind: each
    pair's span, budget row, whether it is under way, the person's skill and id) and each
    budget's capacity."""

    def __init__(self, table: _Table, shifts: Shifts) -> None:
        ts, until = shifts.ts, shifts.until
        self._table, self._shifts = table, shifts
        # A span is in the window as Shifts.spans has it: clipped to now, begun before the end
        self._mask = (table.end > ts) & (table.start < until)
        self._start = np.maximum(table.start, ts)
        at_work = (self._start <= ts) & (ts < table.end)
        chosen = np.flatnonzero(self._mask[table.index])
        index = table.index[chosen]
        self.start, self.end, self.row = self._start[index], table.end[index], table.row[index]
        self.at_work, self.skill = at_work[index], table.skill[chosen]
        self.ids = table.ids[chosen]
        candidate = table.candidate[chosen]
        first = np.ones(len(candidate), dtype=bool)  # where a candidate's pairs begin
        first[1:] = candidate[1:] != candidate[:-1]
        self._firsts = np.flatnonzero(first)
        self._number = np.cumsum(first) - 1
        ends = np.searchsorted(chosen, table.offsets)  # each kind's pairs end here
        self._ends = ends.tolist()
        self._candidates = np.searchsorted(self._firsts, ends).tolist()  # and candidates here

    def pairs(self, need: Need) -> Pairs | None:
        """The kind's pairs in the window (None: none of its candidates at work in it)."""
        kind = self._table.kinds[need]
        a, b = self._ends[kind], self._ends[kind + 1]
        if a == b:
            return None
        lo, hi = self._candidates[kind], self._candidates[kind + 1]
        return Pairs(
            a, self._number[a:b] - self._number[a], self._firsts[lo:hi] - a, self.start[a:b],
            self.end[a:b], self.ids[a:b],
        )  # fmt: skip

    @property
    def budgets(self) -> int:
        """How many budgets (person, local day) the rows are numbered among."""
        return len(self._table.rows)

    def person(self, row: int) -> str:
        return self._table.rows[row][0].id

    def capacities(self, rows: np.ndarray, ledger: BudgetLedger) -> list[float]:
        """The minutes each budget (person, local day) may give: what is left of that day's
        budget, pro rata for the share of its working time in the window inside the horizon
        (``Shifts.capacity``, for every row at once)."""
        table, shifts = self._table, self._shifts
        row, start, end = table.row[self._mask], self._start[self._mask], table.end[self._mask]
        size = len(table.rows)
        total = np.bincount(row, end - start, size)[rows].tolist()
        inside = np.maximum(0.0, np.minimum(end, shifts.horizon_end) - start)
        within = np.bincount(row, inside, size)[rows].tolist()
        met, first = np.unique(row, return_index=True)
        where = np.empty(size, dtype=np.int64)
        where[met] = np.flatnonzero(self._mask)[first]
        first_spans = where[rows]
        later = (table.start[first_spans] > shifts.ts).tolist()  # max(span start, now)
        caps = []
        for number, at, after, spent, counted in zip(
            rows.tolist(), first_spans.tolist(), later, total, within, strict=True
        ):
            moment = table.at[at] if after else shifts.now
            left = ledger.remaining(table.rows[number][0].id, moment)
            caps.append(left * (counted / spent if spent else 0.0))
        return caps
