"""What a routing policy is given and answers: the offer, who is available, the choice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from routing.eligibility import Need
from routing.ledger import BudgetLedger
from routing.models import Employee


class Offer(NamedTuple):
    """One mention on offer at ``now``, with what it is worth per unit of proficiency.

    A named tuple: immutable like a frozen dataclass, and built in a third of the time (one
    per decision)."""

    need: Need
    weight: float
    now: datetime
    last_chance: bool = False
    deadline: datetime | None = None  # the last moment it can still wait for someone better
    deadline_at: float | None = None  # ``deadline`` as a POSIX timestamp, when known


class Available(Protocol):
    """Whether an employee can take the offer now, and when an off-duty one comes to work."""

    def __call__(self, employee: Employee) -> bool: ...

    def next_at_work(self, employee: Employee) -> datetime: ...

    def day_progress(self, employee: Employee) -> float:
        """The share of the employee's working time today already gone."""
        ...

    def at_work(
        self, candidates: Sequence[Employee]
    ) -> tuple[Sequence[Employee], Sequence[tuple[Employee, datetime]]]:
        """Those of ``candidates`` inside working hours now (budget not checked), and the
        others with the moment each comes to work, both in the candidates' order."""
        ...

    def starts(self, candidates: Sequence[Employee]) -> Sequence[float]:
        """The moments of ``at_work``'s second part, as POSIX timestamps (cheap to compare)."""
        ...


class Policy(Protocol):
    """Chooses among candidates; returns the choice (or None) and a note for the audit."""

    name: str

    def choose(
        self,
        offer: Offer,
        candidates: Sequence[Employee],
        ledger: BudgetLedger,
        available: Available,
    ) -> tuple[Employee | None, str]: ...

    def assigned(self, employee: Employee, offer: Offer) -> None:
        """Told of every assignment (for policies that keep state)."""
        ...


class Stateless:
    """A policy whose choice depends only on the offer, the ledger and the candidates."""

    def assigned(self, employee: Employee, offer: Offer) -> None:
        return None
