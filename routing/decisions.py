"""What the router logs: outcomes, people's feedback on them, and why each choice was made."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, model_validator

from routing.models import Classification, Mention, Outcome


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Candidate(_Frozen):
    """One person the router looked at: their score if available, else why not."""

    employee_id: str
    value: float
    score: float | None = None
    ruled_out: str | None = None


class Audit(_Frozen):
    """Why a decision came out as it did."""

    policy: str
    considered: tuple[Candidate, ...] = ()
    more_considered: int = 0
    not_considered: dict[str, int] = {}
    chosen: str | None = None
    note: str = ""


FeedbackKind = Literal["accepted", "declined", "done", "timed_out", "reassigned", "corrected"]


class Feedback(_Frozen):
    """What a person did with an assignment; ``minutes`` is the time a done one really took.

    ``reassigned``: a lead moved it away from ``employee_id`` (``by`` names the lead);
    ``corrected``: someone fixed its tags (``labels``), which changes no budget.
    """

    kind: FeedbackKind
    mention_id: str
    employee_id: str
    at: datetime
    minutes: float | None = None
    reason: str = ""
    by: str | None = None
    labels: dict[str, str] | None = None


class LoggedEvent(_Frozen):
    """What every record of the decision log holds: exactly one of an outcome and feedback."""

    outcome: Outcome | None = None
    feedback: Feedback | None = None

    @model_validator(mode="after")
    def _one_event(self) -> Self:
        if (self.outcome is None) == (self.feedback is None):
            raise ValueError("a decision holds exactly one of outcome and feedback")
        return self


class Decision(LoggedEvent):
    """One event on the decision log: an outcome, or feedback on an earlier assignment.

    Outcomes that may still change (backlogged, assigned, escalated) carry their mention and its
    classification, so a router rebuilt from the log can re-route them.
    """

    mention: Mention | None = None
    classification: Classification | None = None
    audit: Audit | None = None

    @property
    def mention_id(self) -> str:
        if self.outcome is not None:
            return self.outcome.mention_id
        assert self.feedback is not None
        return self.feedback.mention_id
