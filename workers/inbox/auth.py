"""Who is asking: a bearer token, checked against the hashed tokens, names a person or nobody."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workers.inbox.context import Inbox
from workers.inbox.people import Person

_bearer = HTTPBearer(auto_error=False, description="the per-person token of `inbox token`")
_MAX_TOKEN = 200


def inbox_of(request: Request) -> Inbox:
    inbox: Inbox = request.app.state.inbox
    return inbox


def unauthorized() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "missing or invalid token",
        headers={"WWW-Authenticate": "Bearer"},
    )


def forbidden(why: str = "outside your scope") -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, why)


def current_person(
    inbox: Annotated[Inbox, Depends(inbox_of)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Person:
    if credentials is None or len(credentials.credentials) > _MAX_TOKEN:
        raise unauthorized()
    person_id = inbox.tokens.who(credentials.credentials)
    person = inbox.people.get(person_id) if person_id is not None else None
    if person is None:  # an unknown token, or someone no longer on the roster
        raise unauthorized()
    return person


def current_lead(person: Annotated[Person, Depends(current_person)]) -> Person:
    if not person.leads:
        raise forbidden("for team leads only")
    return person


Caller = Annotated[Person, Depends(current_person)]
LeadCaller = Annotated[Person, Depends(current_lead)]
InboxDep = Annotated[Inbox, Depends(inbox_of)]
