"""What ``Router`` lends its mixins (``Passage``, ``FeedbackFlow``, ``Recovery``), declared once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routing.assignments import AssignmentBook
    from routing.audits import AuditBook
    from routing.backlog import Backlog, Waiting
    from routing.catalogue import Catalogue
    from routing.decisions import Audit, Decision
    from routing.eligibility import DutyRoster, Need
    from routing.learning import PriceTutor
    from routing.ledger import BudgetLedger
    from routing.models import Classification, Employee, Mention, Taxonomy
    from routing.options import RouterOptions
    from routing.plan import DayPlan
    from routing.stamps import Stamps
    from routing.winddown import WindDown


class RouterParts:
    """The router's state and methods its mixins use, for type checking only (at run time the
    class is empty; ``Router`` provides them all)."""

    if TYPE_CHECKING:
        options: RouterOptions
        taxonomy: Taxonomy
        ledger: BudgetLedger
        plan: DayPlan
        _stamps: Stamps
        _clock: datetime | None
        _clock_ts: tuple[datetime | None, float]
        _events: tuple[datetime | None, datetime | None, float]
        _next_capacity: datetime | None
        _next_plan: datetime | None
        _timeouts: bool
        _decided: dict[str, datetime]
        _backlog: Backlog
        _book: AssignmentBook
        _catalogue: Catalogue
        _tutor: PriceTutor
        _winding_down: frozenset[str]
        _wind_down_picks: WindDown
        _auditor: AuditBook
        _by_id: dict[str, Employee]
        _duty: DutyRoster

        def tick(self, now: datetime) -> list[Decision]: ...
        def _drain(self, now: datetime) -> list[Decision]: ...
        def _arrive(self, waiting: Waiting, now: datetime) -> Decision: ...
        def _enqueue(self, waiting: Waiting) -> None: ...
        def _timeouts_until(self, now: datetime) -> list[Decision]: ...
        def _prune(self, now: datetime) -> None: ...
        def _capacity_event_after(self, now: datetime) -> datetime: ...
        def _offer(
            self,
            waiting: Waiting,
            now: datetime,
            *,
            arriving: bool = False,
            last_chance: bool = False,
            quiet: bool = False,
            known: tuple[tuple[Employee, ...], datetime, float] | None = None,
        ) -> Decision | None: ...
        def _nobody_available(
            self, waiting: Waiting, now: datetime, nobody: set[tuple[str, str, str, float]]
        ) -> bool: ...
        def _sticky_choice(
            self, mention: Mention, need: Need, now: datetime, excluded: frozenset[str]
        ) -> tuple[Employee | None, str]: ...
        def _assign(
            self,
            employee: Employee,
            waiting: Waiting,
            now: datetime,
            audit: Audit,
            by_hand: bool = False,
        ) -> Decision: ...
        def _escalate(
            self,
            mention: Mention,
            classification: Classification,
            need: Need,
            now: datetime,
            reason: str,
        ) -> Decision: ...
