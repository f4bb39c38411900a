"""The end-of-run summary: per employee budget use, per urgency SLA attainment."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import NamedTuple

import orjson

from routing.models import Assignment, Employee, Outcome, Urgency


class _Final(NamedTuple):
    """What the summary needs of a mention's last outcome."""

    status: str
    urgency: str
    employee_id: str = ""
    minutes: float = 0.0
    assigned_at: datetime | None = None  # set when assigned
    within_sla: bool = False


class Finals:
    """Each mention's last outcome, as the summary needs it, gathered as outcomes come.

    Earlier outcomes come as outcome-file lines (read back), later ones as the outcomes
    delivered in this process, which need no parsing; in the order they were delivered.
    """

    def __init__(self) -> None:
        self._last: dict[str, _Final] = {}

    def add_lines(self, lines: Iterable[bytes]) -> None:
        """Outcomes in the outcome-file format: this product's own, parsed but not validated."""
        last = self._last
        for line in lines:
            data = orjson.loads(line)
            last[str(data["mention_id"])] = _parsed(data)

    def add(self, outcomes: Iterable[Outcome]) -> None:
        last = self._last
        for outcome in outcomes:
            last[outcome.mention_id] = _final(outcome)

    def summary(self, roster: Sequence[Employee]) -> Summary:
        return Summary._of(list(self._last.values()), roster)


@dataclass
class EmployeeUse:
    employee_id: str
    team: str
    assignments: int = 0
    minutes: float = 0.0
    peak_day_minutes: float = 0.0
    budget_minutes_per_day: float = 0.0


@dataclass
class UrgencyResult:
    urgency: str
    mentions: int = 0
    within_sla: int = 0
    backlogged: int = 0
    escalated: int = 0
    rejected: int = 0

    @property
    def attainment(self) -> float:
        return self.within_sla / self.mentions if self.mentions else 1.0


@dataclass
class Summary:
    mentions: int
    statuses: dict[str, int]
    employees: list[EmployeeUse]
    urgencies: list[UrgencyResult]
    overruns: list[str] = field(default_factory=list)

    @classmethod
    def from_outcomes(cls, outcomes: Iterable[Outcome], roster: Sequence[Employee]) -> Summary:
        final: dict[str, Outcome] = {}
        for outcome in outcomes:  # a backlogged mention may later be assigned or escalated
            final[outcome.mention_id] = outcome
        return cls._of([_final(o) for o in final.values()], roster)

    @classmethod
    def from_lines(cls, lines: Iterable[bytes], roster: Sequence[Employee]) -> Summary:
        """From outcomes in the outcome-file format, reading only what the summary uses.

        They are this product's own output (the assignments topic, the out file), so they
        are parsed without being validated again.
        """
        final: dict[str, dict[str, object]] = {}
        for line in lines:
            data = orjson.loads(line)
            final[data["mention_id"]] = data
        return cls._of([_parsed(d) for d in final.values()], roster)

    @classmethod
    def _of(cls, finals: list[_Final], roster: Sequence[Employee]) -> Summary:
        by_id = {e.id: e for e in roster}
        use = {
            e.id: EmployeeUse(e.id, e.team, budget_minutes_per_day=e.budget_minutes_per_day)
            for e in roster
        }
        days: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
        urgencies = {u.value: UrgencyResult(u.value) for u in Urgency}
        for f in finals:
            result = urgencies[f.urgency]
            result.mentions += 1
            if f.assigned_at is not None:
                line = use[f.employee_id]
                line.assignments += 1
                line.minutes += f.minutes
                zone = by_id[f.employee_id].zone
                days[f.employee_id][f.assigned_at.astimezone(zone).date()] += f.minutes
                result.within_sla += f.within_sla
            elif f.status == "backlogged":
                result.backlogged += 1
            elif f.status == "escalated":
                result.escalated += 1
            else:
                result.rejected += 1
        overruns: list[str] = []
        for employee_id, per_day in days.items():
            line = use[employee_id]
            line.peak_day_minutes = max(per_day.values())
            over = [d for d, m in per_day.items() if m > line.budget_minutes_per_day + 1e-9]
            overruns.extend(f"{employee_id} on {d.isoformat()}" for d in sorted(over))
        return cls(
            mentions=len(finals),
            statuses=dict(Counter(f.status for f in finals)),
            employees=[use[e_id] for e_id in sorted(use)],
            urgencies=list(urgencies.values()),
            overruns=overruns,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "mentions": self.mentions,
            "statuses": dict(sorted(self.statuses.items())),
            "employees": [asdict(e) for e in self.employees],
            "urgencies": [
                asdict(u) | {"attainment": round(u.attainment, 4)} for u in self.urgencies
            ],
            "overruns": self.overruns,
        }

    def render(self) -> str:
        lines = [
            f"{self.mentions} mentions: "
            + ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items())),
            "",
            f"{'employee':<14} {'team':<10} {'assigned':>8} {'minutes':>8} "
            f"{'peak day':>9} {'budget/day':>10}",
        ]
        for e in self.employees:
            lines.append(
                f"{e.employee_id:<14} {e.team:<10} {e.assignments:>8} {e.minutes:>8.0f} "
                f"{e.peak_day_minutes:>9.0f} {e.budget_minutes_per_day:>10.0f}"
            )
        lines += [
            "",
            f"{'urgency':<10} {'mentions':>8} {'in SLA':>7} {'backlog':>8} {'escalated':>9} "
            f"{'rejected':>8} {'SLA met':>8}",
        ]
        for u in self.urgencies:
            lines.append(
                f"{u.urgency:<10} {u.mentions:>8} {u.within_sla:>7} {u.backlogged:>8} "
                f"{u.escalated:>9} {u.rejected:>8} {u.attainment:>8.0%}"
            )
        lines.append("")
        lines.append(
            "budget overruns: none"
            if not self.overruns
            else "budget overruns: " + ", ".join(self.overruns)
        )
        return "\n".join(lines)


def _final(o: Outcome) -> _Final:
    if isinstance(o, Assignment):
        return _Final(
            o.status,
            o.urgency.value,
            o.employee_id,
            o.estimated_minutes,
            o.assigned_at,
            o.assigned_at <= o.due_at,
        )
    return _Final(o.status, o.urgency.value)


def _parsed(data: dict[str, object]) -> _Final:
    status, urgency = str(data["status"]), str(data["urgency"])
    if status != "assigned":
        return _Final(status, urgency)
    minutes = data["estimated_minutes"]
    assert isinstance(minutes, int | float)
    assigned_at = datetime.fromisoformat(str(data["assigned_at"]))
    due_at = datetime.fromisoformat(str(data["due_at"]))
    employee_id = str(data["employee_id"])
    return _Final(status, urgency, employee_id, float(minutes), assigned_at, assigned_at <= due_at)
