"""What people ask of the router from the inbox: one action per event on the actions topic."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from routing.decisions import Decision, Feedback
from routing.models import Identifier
from routing.router import Router

ActionKind = Literal["accept", "done", "decline", "reassign", "correct"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
CORRECTABLE = ("topic", "urgency")


class ActionRejectedError(ValueError):
    """The router cannot do what an action asks (no longer open, someone else's, unfit target)."""


class Action(BaseModel):
    """One person's action on one mention: ``employee_id`` holds it, ``by`` acted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    kind: ActionKind
    mention_id: Identifier
    employee_id: Identifier
    by: Identifier
    at: AwareDatetime
    minutes: Annotated[float, Field(ge=0, le=24 * 60)] | None = None
    reason: Reason = ""
    to: Identifier | None = None
    labels: dict[Literal["topic", "urgency"], Label] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Action:
        if self.kind == "done" and self.minutes is None:
            raise ValueError("a done action needs the minutes it took")
        if self.kind == "reassign" and self.to is None:
            raise ValueError("a reassign action needs the employee to hand it to")
        if self.kind == "correct" and not self.labels:
            raise ValueError("a correct action needs at least one corrected label")
        return self


def perform(router: Router, action: Action) -> list[Decision]:
    """The decisions ``action`` leads to; ``ActionRejectedError`` when the router refuses it."""
    try:
        return _dispatch(router, action)
    except (KeyError, ValueError) as exc:
        raise ActionRejectedError(str(exc).strip("'\"")) from exc


def _dispatch(router: Router, action: Action) -> list[Decision]:
    m, e, at = action.mention_id, action.employee_id, action.at
    if action.kind == "accept":
        return router.accept(m, e, at)
    if action.kind == "done":
        assert action.minutes is not None
        return router.done(m, e, action.minutes, at)
    if action.kind == "decline":
        return router.decline(m, e, action.reason or "declined", at)
    if action.kind == "reassign":
        assert action.to is not None
        return router.reassign(m, action.to, action.by, at, action.reason)
    return [_correction(action, at)]


def _correction(action: Action, at: datetime) -> Decision:
    labels = dict(action.labels or {})
    feedback = Feedback(
        kind="corrected",
        mention_id=action.mention_id,
        employee_id=action.employee_id,
        at=at,
        by=action.by,
        labels={str(k): v for k, v in labels.items()},
    )
    return Decision(feedback=feedback)


__all__ = ["CORRECTABLE", "Action", "ActionKind", "ActionRejectedError", "perform"]
