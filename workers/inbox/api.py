"""The inbox's JSON API: a person's queue and actions, a lead's team coverage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from routing.models import Assignment, TopicName, Urgency
from workers.classifying import Correction
from workers.inbox.access import item_for, led_team_of, own_open
from workers.inbox.auth import Caller, InboxDep, LeadCaller, forbidden
from workers.inbox.context import Inbox
from workers.inbox.coverage import BudgetRow, SlaPoint, attainment, budgets, waiting_for
from workers.inbox.people import Person
from workers.inbox.views import ItemView, Me, Queued, QueueView, TeamView, item_view

MentionId = Annotated[str, Path(min_length=1, max_length=256)]
api = APIRouter(prefix="/api")


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DoneBody(_Body):
    minutes: float = Field(ge=0, le=24 * 60, description="the minutes answering really took")


class DeclineBody(_Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CorrectBody(_Body):
    topic: TopicName | None = None
    urgency: Urgency | None = None

    @model_validator(mode="after")
    def _something(self) -> CorrectBody:
        if self.topic is None and self.urgency is None:
            raise ValueError("give a corrected topic, urgency or both")
        return self


class ReassignBody(_Body):
    to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


def _queued(
    inbox: Inbox, kind: str, mention_id: str, employee_id: str, by: str, **f: object
) -> Queued:
    action = inbox.act(kind, mention_id, employee_id, by, **f)
    return Queued(action_id=action.id, kind=kind, mention_id=mention_id)


@api.get("/me", response_model=Me)
def me(person: Caller) -> Me:
    return Me(
        id=person.id,
        name=person.name,
        role=person.role,
        team=person.team,
        leads=sorted(person.leads),
    )


@api.get("/assignments", response_model=QueueView)
def my_queue(person: Caller, inbox: InboxDep) -> Response:
    """My open assignments, the nearest deadline first."""
    with inbox.model.lock:
        items = sorted(
            inbox.model.open_of(person.id), key=lambda i: (i.outcome.due_at, i.mention_id)
        )
        views = [item_view(i, inbox.people, detail=False) for i in items]
        view = QueueView(version=inbox.model.version, items=views)
    # Serialized here: the view is built from validated models, no need to validate it again.
    return Response(view.model_dump_json(), media_type="application/json")


@api.get("/assignments/{mention_id}")
def one(mention_id: MentionId, person: Caller, inbox: InboxDep) -> ItemView:
    return item_view(item_for(inbox, person, mention_id), inbox.people)


_ACCEPTED = status.HTTP_202_ACCEPTED


@api.post("/assignments/{mention_id}/accept", status_code=_ACCEPTED)
def accept(mention_id: MentionId, person: Caller, inbox: InboxDep) -> Queued:
    own_open(inbox, person, mention_id)
    return _queued(inbox, "accept", mention_id, person.id, person.id)


@api.post("/assignments/{mention_id}/done", status_code=_ACCEPTED)
def done(mention_id: MentionId, body: DoneBody, person: Caller, inbox: InboxDep) -> Queued:
    own_open(inbox, person, mention_id)
    return _queued(inbox, "done", mention_id, person.id, person.id, minutes=body.minutes)


@api.post("/assignments/{mention_id}/decline", status_code=_ACCEPTED)
def decline(mention_id: MentionId, body: DeclineBody, person: Caller, inbox: InboxDep) -> Queued:
    own_open(inbox, person, mention_id)
    return _queued(inbox, "decline", mention_id, person.id, person.id, reason=body.reason)


@api.post("/assignments/{mention_id}/correct", status_code=_ACCEPTED)
def correct(mention_id: MentionId, body: CorrectBody, person: Caller, inbox: InboxDep) -> Queued:
    """Fix the topic or urgency: kept as labeled data for retraining, and logged."""
    item = item_for(inbox, person, mention_id)
    labels = {k: str(v) for k, v in body.model_dump(mode="json", exclude_none=True).items()}
    if item.mention is not None:
        was = item.classification
        fix = Correction.of(item.mention, labels, was=was, by=person.id, at=inbox.clock())
        inbox.corrections.append([fix])
    holder = item.outcome.employee_id if isinstance(item.outcome, Assignment) else person.id
    return _queued(inbox, "correct", mention_id, holder, person.id, labels=labels)


@api.post("/assignments/{mention_id}/reassign", status_code=_ACCEPTED)
def reassign(
    mention_id: MentionId, body: ReassignBody, lead: LeadCaller, inbox: InboxDep
) -> Queued:
    """A lead hands a mention of their team (open, waiting or escalated) to a team member."""
    item = item_for(inbox, lead, mention_id)
    if not led_team_of(item, lead, inbox):
        raise forbidden()
    target = inbox.people.employees.get(body.to)
    if target is None or target.team not in lead.leads:
        raise forbidden("you can hand mentions only to members of your team")
    if item.outcome.platform not in target.accounts:
        raise HTTPException(422, f"{target.id} has no account on {item.outcome.platform}")
    if item.state not in ("assigned", "accepted", "backlogged", "escalated"):
        raise HTTPException(status.HTTP_409_CONFLICT, f"this mention is {item.state}")
    if item.holder == target.id:
        raise HTTPException(status.HTTP_409_CONFLICT, f"already assigned to {target.id}")
    holder = item.holder or lead.id
    return _queued(inbox, "reassign", mention_id, holder, lead.id, to=target.id, reason=body.reason)


def _teams(lead: Person, team: str | None) -> frozenset[str]:
    if team is None:
        return lead.leads
    if team not in lead.leads:
        raise forbidden()
    return frozenset({team})


TeamQuery = Annotated[str | None, Query(max_length=256, description="one of the teams you lead")]


Limit = Annotated[int, Query(ge=1, le=5000, description="items per list at most")]


@api.get("/team", response_model=TeamView)
def team(lead: LeadCaller, inbox: InboxDep, team: TeamQuery = None, limit: Limit = 200) -> TeamView:
    """The team's open assignments, and the backlogged and escalated mentions it could take."""
    teams = _teams(lead, team)
    model = inbox.model
    with model.lock:
        members = inbox.people.members(teams)
        waiting = waiting_for(model, inbox.people, teams)
        lists = {
            "open": [i for e in members for i in model.open_of(e.id)],
            "backlogged": [i for i in waiting if i.state == "backlogged"],
            "escalated": [i for i in waiting if i.state == "escalated"],
        }
        views = {
            name: [
                item_view(i, inbox.people, detail=False)
                for i in sorted(items, key=lambda i: (i.outcome.due_at, i.mention_id))[:limit]
            ]
            for name, items in lists.items()
        }
        return TeamView(
            version=model.version,
            teams=sorted(teams),
            totals={name: len(items) for name, items in lists.items()},
            **views,
        )


@api.get("/team/budgets", response_model=list[BudgetRow])
def team_budgets(lead: LeadCaller, inbox: InboxDep, team: TeamQuery = None) -> list[BudgetRow]:
    """Each member's minutes used today and this week (their own local days)."""
    with inbox.model.lock:
        return budgets(inbox.model, inbox.people.members(_teams(lead, team)), inbox.clock())


@api.get("/team/sla", response_model=list[SlaPoint])
def team_sla(lead: LeadCaller, inbox: InboxDep, team: TeamQuery = None) -> list[SlaPoint]:
    """SLA attainment per urgency for each day of deadlines."""
    with inbox.model.lock:
        return attainment(inbox.model, _teams(lead, team), inbox.clock())
