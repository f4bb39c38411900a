"""The end of a shift: its unspent budget goes to the most valuable waiting mentions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from routing.backlog import Waiting
from routing.catalogue import Catalogue
from routing.eligibility import DutyRoster, Need, availability_gap
from routing.ledger import BudgetLedger
from routing.models import Employee

NOTE = "the end of a shift: budget left would go unused"


class WindDown:
    """Picks, for one employee whose shift is about to end, the waiting mentions to take."""

    def __init__(self, catalogue: Catalogue, ledger: BudgetLedger, duty: DutyRoster) -> None:
        self.catalogue = catalogue
        self.ledger = ledger
        self.duty = duty

    def picks(
        self, employee: Employee, backlog: Iterable[Waiting], now: datetime
    ) -> Iterator[Waiting]:
        """Most value per minute first; each is checked against the ledger as it is taken,
        so the caller assigns one before asking for the next.

        The caller books only ``employee``'s minutes between picks, so when each colleague
        is next at work, and whether they could spend a mention's minutes then, is worked
        out once per call and remembered (``later``), not once per waiting mention.
        """
        later: dict[tuple[str, float], tuple[datetime, bool]] = {}
        for waiting in self._ranked(employee, backlog):
            if availability_gap(employee, waiting.need, self.ledger, now, self.duty) is not None:
                continue
            if self._better_later(waiting, employee, now, later):
                continue
            yield waiting

    def _ranked(self, employee: Employee, backlog: Iterable[Waiting]) -> list[Waiting]:
        # Deadlines as timestamps: the same order, but ties in value are common and comparing
        # datetimes with separate tzinfo objects costs more than the timestamp itself.
        options: list[tuple[float, float, str, Waiting]] = []
        for waiting in backlog:
            need = waiting.need
            if employee.id in waiting.excluded or employee.id not in self.catalogue.ids_for(need):
                continue
            weight = self.catalogue.taxonomy.weight(waiting.classification.urgency)
            value = employee.skills[need.topic] * weight
            due = waiting.due_at.timestamp()
            options.append((-value / need.minutes, due, waiting.mention.id, waiting))
        options.sort()  # mention ids are unique: the waiting mentions are never compared
        return [option[3] for option in options]

    def _better_later(
        self,
        waiting: Waiting,
        employee: Employee,
        now: datetime,
        later: dict[tuple[str, float], tuple[datetime, bool]],
    ) -> bool:
        """Whether someone more proficient can still take it, now or before its last chance."""
        need = waiting.need
        deadline = self.catalogue.last_chance(waiting.due_at, waiting.classification)
        mine = employee.skills[need.topic]
        for other in self.catalogue.candidates_for(need):
            if other.skills[need.topic] <= mine:
                return False
            if other.id in waiting.excluded:
                continue
            found = later.get((other.id, need.minutes))
            if found is None:
                found = later[(other.id, need.minutes)] = self._next_chance(other, now, need)
            if found[0] < deadline and found[1]:
                return True
        return False

    def _next_chance(self, other: Employee, now: datetime, need: Need) -> tuple[datetime, bool]:
        """When ``other`` is next at work and whether they can spend ``need``'s minutes then."""
        opens = other.hours.next_open(now.astimezone(other.zone))
        return opens, self.ledger.can_spend(other.id, opens, need.minutes)
