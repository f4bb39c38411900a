"""What the inbox API answers: one item, a person's queue, a team's coverage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from routing.decisions import Audit
from routing.models import Assignment
from workers.inbox.people import People
from workers.inbox.readmodel import Item


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class ItemView(_View):
    """A mention with its routing: who holds it, by when, from which account, and why."""

    mention_id: str
    state: str
    urgency: str
    topic: str
    language: str
    platform: str
    created_at: datetime
    due_at: datetime
    decided_at: datetime
    employee_id: str | None = None
    employee_name: str | None = None
    team: str | None = None
    account: str | None = None
    estimated_minutes: float | None = None
    author: str = ""
    text: str = ""
    url: str | None = None
    why: str = ""
    reason: str = ""
    escalated_to: str | None = None
    labels: dict[str, str] = {}
    audit: dict[str, Any] | None = None


class QueueView(_View):
    version: int
    items: list[ItemView]


class TeamView(_View):
    """Each list the nearest deadline first, cut at ``limit``; the totals count them all."""

    version: int
    teams: list[str]
    open: list[ItemView]
    backlogged: list[ItemView]
    escalated: list[ItemView]
    totals: dict[str, int]


class Me(_View):
    id: str
    name: str
    role: str
    team: str | None
    leads: list[str]


class Queued(_View):
    """An action accepted for the router; the queue shows its effect once it is decided."""

    action_id: str
    kind: str
    mention_id: str
    status: str = "queued"


def item_view(item: Item, people: People, *, detail: bool = True) -> ItemView:
    """The item as the API shows it; lists leave the full audit out (``why`` sums it up)."""
    o = item.outcome
    m = item.mention
    fields: dict[str, Any] = {
        "mention_id": o.mention_id,
        "state": item.state,
        "urgency": item.labels.get("urgency", o.urgency.value),
        "topic": item.labels.get("topic", o.topic),
        "language": o.language,
        "platform": o.platform,
        "created_at": o.created_at,
        "due_at": o.due_at,
        "labels": dict(item.labels),
        "author": m.author.handle or m.author.id if m else "",
        "text": m.text if m else "",
        "url": m.url if m else None,
        "audit": item.audit.model_dump(mode="json") if item.audit and detail else None,
    }
    if isinstance(o, Assignment):
        employee = people.employees.get(o.employee_id)
        fields |= {
            "decided_at": o.assigned_at,
            "employee_id": o.employee_id,
            "employee_name": employee.name if employee else o.employee_id,
            "team": o.team,
            "account": o.account,
            "estimated_minutes": o.estimated_minutes,
            "why": why(item.audit, o.employee_id),
        }
    else:
        fields |= {"decided_at": o.decided_at, "reason": o.reason, "escalated_to": o.escalated_to}
    # Every value comes from validated domain models: construct without validating again
    # (listing 1,000 assignments spends most of its time here otherwise).
    return ItemView.model_construct(**fields)


def why(audit: Audit | None, employee_id: str) -> str:
    """ "Why it came to me" in one line, from the router's audit."""
    if audit is None:
        return ""
    if audit.policy == "manual":
        return audit.note
    looked = len(audit.considered) + audit.more_considered
    mine = next((c for c in audit.considered if c.employee_id == employee_id), None)
    parts = [audit.note] if audit.note else []
    ruled_out = sum(1 for c in audit.considered if c.ruled_out)
    if mine is not None:
        parts.append(f"best match of {looked} candidates (skill × urgency {mine.value:g})")
    else:
        parts.append(f"chosen from {looked} candidates")
    if ruled_out:
        parts.append(f"{ruled_out} not available")
    return "; ".join(parts)
