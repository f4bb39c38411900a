"""The router's tunable behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RouterOptions:
    """Tunable behaviour; the defaults suit a replay (assignments count as accepted)."""

    policy: str = "adaptive"
    # A waiting mention gets its last chance this fraction of its SLA before the deadline;
    # if nobody can take it then, it is escalated before the SLA passes.
    escalation_lead: float = 0.1
    escalation_targets: Mapping[str, str] = field(default_factory=dict)  # team -> target
    default_escalation_target: str = "team-lead"
    stickiness_minutes: float = 24 * 60
    accept_timeout_minutes: float | None = None
    max_declines: int = 2
    audit_limit: int = 5
    # Minutes before a shift ends when the employee's unspent budget goes to waiting mentions.
    wind_down_minutes: int = 45
    # adaptive: a waiting mention the plan gives to someone at work now is held for the next
    # plan while its last chance is more than this many minutes away and that person is still
    # at work then (0: never held).
    plan_hold_minutes: float = 60
