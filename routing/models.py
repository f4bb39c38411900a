"""Domain models: mentions, their classification, employees, taxonomy and routing outcomes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from routing.hours import WorkingHours


def _folded(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


# Folded before the pattern is checked, so "X" and " Facebook" read as "x" and "facebook".
Platform = Annotated[
    str, BeforeValidator(_folded), StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")
]
LanguageCode = Annotated[str, BeforeValidator(_folded), StringConstraints(pattern=r"^[a-z]{2}$")]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
TopicName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,63}$")
]

UNKNOWN_TOPIC = "unknown"
UNDETERMINED_LANGUAGE = "und"


class Urgency(StrEnum):
    """How fast a mention needs an answer; members are declared from least to most urgent."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _URGENCY_RANK[self]


_URGENCY_RANK = {u: i for i, u in enumerate(Urgency)}


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Author(_Frozen):
    id: Identifier
    handle: Annotated[str, StringConstraints(strip_whitespace=True, max_length=256)] = ""
    followers: Annotated[int, Field(ge=0)] = 0


class Mention(_Frozen):
    """A brand mention as it entered the product, normalized across platforms."""

    id: Identifier
    platform: Platform
    author: Author
    text: Annotated[str, StringConstraints(max_length=20_000)]
    created_at: AwareDatetime
    lang: LanguageCode | None = None
    url: str | None = None
    conversation_id: str | None = None
    in_reply_to: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    raw: dict[str, Any] | None = None


class Classification(_Frozen):
    """The classifier's tags for one mention, with a confidence per head."""

    mention_id: Identifier
    topic: TopicName
    urgency: Urgency
    language: str
    sentiment: Sentiment
    confidence: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(default_factory=dict)
    model_version: str
    urgency_reasons: tuple[str, ...] = ()


class Employee(_Frozen):
    """A social business champion: who they are, where they answer, what they know, when."""

    id: Identifier
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    team: Identifier
    languages: frozenset[LanguageCode] = Field(min_length=1)
    accounts: dict[Platform, Annotated[str, StringConstraints(min_length=1)]] = Field(min_length=1)
    skills: dict[TopicName, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(min_length=1)
    budget_minutes_per_day: Annotated[float, Field(gt=0, le=24 * 60)]
    timezone: str
    hours: WorkingHours
    lead: bool = False  # leads their team in the inbox: sees its coverage, reassigns by hand

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _parse_hours(cls, value: object) -> object:
        return WorkingHours.parse(value) if isinstance(value, str) else value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class TopicSpec(_Frozen):
    handling_minutes: Annotated[float, Field(gt=0, le=24 * 60)]
    description: str = ""


class UrgencySpec(_Frozen):
    sla_minutes: Annotated[float, Field(gt=0)]
    weight: Annotated[float, Field(gt=0)]


class Taxonomy(_Frozen):
    """The topics a mention can have and what each urgency level promises."""

    topics: dict[TopicName, TopicSpec] = Field(min_length=1)
    urgency: dict[Urgency, UrgencySpec]

    @model_validator(mode="after")
    def _every_urgency_level(self) -> Taxonomy:
        missing = [u.value for u in Urgency if u not in self.urgency]
        if missing:
            raise ValueError(f"urgency levels missing: {', '.join(missing)}")
        return self

    def handling_minutes(self, topic: str) -> float:
        spec = self.topics.get(topic)
        if spec is None:
            return max(t.handling_minutes for t in self.topics.values())
        return spec.handling_minutes

    def sla_minutes(self, urgency: Urgency) -> float:
        return self.urgency[urgency].sla_minutes

    def weight(self, urgency: Urgency) -> float:
        return self.urgency[urgency].weight


class Assignment(_Frozen):
    """A mention given to one employee, to answer from one of their accounts."""

    status: Literal["assigned"] = "assigned"
    mention_id: Identifier
    employee_id: Identifier
    team: str
    platform: Platform
    account: str
    topic: TopicName
    urgency: Urgency
    language: str
    score: float
    estimated_minutes: float
    created_at: datetime
    assigned_at: datetime
    due_at: datetime


NotAssignedStatus = Literal["backlogged", "escalated", "rejected"]


class NotAssigned(_Frozen):
    """A mention nobody takes now: waiting in the backlog, escalated, or rejected."""

    status: NotAssignedStatus
    mention_id: Identifier
    platform: Platform
    topic: TopicName
    urgency: Urgency
    language: str
    reason: str
    created_at: datetime
    decided_at: datetime
    due_at: datetime
    escalated_to: str | None = None


Outcome = Annotated[Assignment | NotAssigned, Field(discriminator="status")]
