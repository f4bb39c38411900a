"""A lead's coverage figures: budget use per member and SLA attainment per urgency by day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from routing.eligibility import Need, structural_gap
from routing.models import Employee, NotAssigned
from workers.inbox.people import People
from workers.inbox.readmodel import OPEN, InboxModel, Item


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class BudgetRow(_View):
    employee_id: str
    name: str
    team: str
    budget_minutes_per_day: float
    used_today: float
    used_week: float
    open: int


class SlaPoint(_View):
    """Mentions due on ``day`` answered in time, out of those answered or overdue."""

    day: date
    urgency: str
    met: int
    total: int
    attainment: float


def budgets(model: InboxModel, members: list[Employee], now: datetime) -> list[BudgetRow]:
    rows = []
    for e in sorted(members, key=lambda e: (e.team, e.name)):
        today = model.ledger.local_day(e.id, now)
        monday = today - timedelta(days=today.weekday())
        week = sum(m for d, m in model.ledger.days(e.id).items() if monday <= d <= today)
        rows.append(
            BudgetRow(
                employee_id=e.id,
                name=e.name,
                team=e.team,
                budget_minutes_per_day=e.budget_minutes_per_day,
                used_today=round(model.ledger.used(e.id, now), 2),
                used_week=round(week, 2),
                open=len(model.by_holder.get(e.id, {})),
            )
        )
    return rows


def attainment(model: InboxModel, teams: frozenset[str], now: datetime) -> list[SlaPoint]:
    """Per day and urgency; an open assignment past its deadline counts as missed."""
    tallies: dict[tuple[date, str], list[int]] = {}
    for (team, urgency, day), (met, total) in model.answered.items():
        if team in teams:
            tally = tallies.setdefault((day, urgency), [0, 0])
            tally[0] += met
            tally[1] += total
    for item in model.items.values():
        o = item.outcome
        if item.state in OPEN and o.due_at < now and getattr(o, "team", None) in teams:
            tallies.setdefault((o.due_at.date(), o.urgency.value), [0, 0])[1] += 1
    return [
        SlaPoint(day=d, urgency=u, met=m, total=t, attainment=round(m / t, 4) if t else 0.0)
        for (d, u), (m, t) in sorted(tallies.items())
    ]


def teams_able(item: Item, people: People) -> frozenset[str]:
    """The teams with someone who could ever take a waiting mention (account, language, skill)."""
    o = item.outcome
    need = Need(platform=o.platform, language=o.language, topic=o.topic, minutes=0.0)
    return frozenset(e.team for e in people.employees.values() if structural_gap(e, need) is None)


def waiting_for(model: InboxModel, people: People, teams: frozenset[str]) -> list[Item]:
    """Backlogged and escalated mentions a lead of ``teams`` may see: those their teams could
    take, and those nobody on the roster can take (a coverage gap every lead should see)."""
    found = []
    for item in model.items.values():
        if not isinstance(item.outcome, NotAssigned) or item.state not in (
            "backlogged",
            "escalated",
        ):
            continue
        able = teams_able(item, people)
        if not able or able & teams:
            found.append(item)
    return found
