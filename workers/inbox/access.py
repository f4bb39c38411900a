"""The permission rules: an employee reaches their own assignments, a lead their teams'."""

from __future__ import annotations

from fastapi import HTTPException, status

from routing.models import Assignment
from workers.inbox.auth import forbidden
from workers.inbox.context import Inbox
from workers.inbox.coverage import teams_able
from workers.inbox.people import Person
from workers.inbox.readmodel import Item


def led_team_of(item: Item, person: Person, inbox: Inbox) -> bool:
    """Whether ``person`` leads a team this item belongs to (or nobody can take it)."""
    if not person.leads:
        return False
    if isinstance(item.outcome, Assignment):
        return item.outcome.team in person.leads
    able = teams_able(item, inbox.people)
    return not able or bool(able & person.leads)


def visible(item: Item, person: Person, inbox: Inbox) -> bool:
    mine = isinstance(item.outcome, Assignment) and item.outcome.employee_id == person.id
    return mine or led_team_of(item, person, inbox)


def item_for(inbox: Inbox, person: Person, mention_id: str) -> Item:
    """The item, if it exists (404) and the person may see it (403, nothing else said)."""
    with inbox.model.lock:
        item = inbox.model.items.get(mention_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such mention")
    if not visible(item, person, inbox):
        raise forbidden()
    return item


def own_open(inbox: Inbox, person: Person, mention_id: str) -> Item:
    """An open assignment of the caller's own: only its holder accepts, finishes or declines."""
    item = item_for(inbox, person, mention_id)
    if not isinstance(item.outcome, Assignment) or item.outcome.employee_id != person.id:
        raise forbidden("only the assignee can do this")
    if item.holder != person.id:
        raise HTTPException(status.HTTP_409_CONFLICT, f"this assignment is {item.state}")
    return item
