"""Building routing outcomes from a mention, its classification and the decision taken.

Every field comes from a validated mention, classification or roster entry, so outcomes are
built without validating them again (``trusted``): the router builds one per decision.
"""

from __future__ import annotations

from datetime import datetime

from routing.models import (
    Assignment,
    Classification,
    Employee,
    Mention,
    NotAssigned,
    NotAssignedStatus,
)
from routing.trusted import trusted


def assignment(
    mention: Mention,
    classification: Classification,
    employee: Employee,
    *,
    value: float,
    minutes: float,
    at: datetime,
    due: datetime,
) -> Assignment:
    """``mention`` given to ``employee`` at ``at``, to answer from their account on its platform."""
    return trusted(
        Assignment,
        mention_id=mention.id,
        employee_id=employee.id,
        team=employee.team,
        platform=mention.platform,
        account=employee.accounts[mention.platform],
        topic=classification.topic,
        urgency=classification.urgency,
        language=classification.language,
        score=float(round(value, 6)),
        estimated_minutes=float(minutes),
        created_at=mention.created_at,
        assigned_at=at,
        due_at=due,
    )


def not_assigned(
    status: NotAssignedStatus,
    mention: Mention,
    classification: Classification,
    *,
    reason: str,
    at: datetime,
    due: datetime,
    escalated_to: str | None = None,
) -> NotAssigned:
    """``mention`` waiting, escalated or rejected at ``at``, and why."""
    return trusted(
        NotAssigned,
        status=status,
        mention_id=mention.id,
        platform=mention.platform,
        topic=classification.topic,
        urgency=classification.urgency,
        language=classification.language,
        reason=reason,
        created_at=mention.created_at,
        decided_at=at,
        due_at=due,
        escalated_to=escalated_to,
    )
