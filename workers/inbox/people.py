"""Who may see what in the inbox: employees see their own assignments, leads their teams'.

Leads are marked in the roster, either on an employee (``lead: true`` leads their own team)
or in an optional top-level list for leads who answer no mentions themselves:

    leads:
      - {id: lisa, name: Lisa Bos, teams: [care-nl, tech]}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from config.loader import config_error, read_yaml
from routing.errors import ConfigError
from routing.models import Employee, Identifier

_Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Lead(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    name: _Name
    teams: frozenset[Identifier] = Field(min_length=1)


@dataclass(frozen=True)
class Person:
    """Someone who signs in: their own assignments, and the teams they lead (maybe none)."""

    id: str
    name: str
    team: str | None
    leads: frozenset[str]

    @property
    def role(self) -> str:
        return "lead" if self.leads else "employee"


class People:
    """Everyone who may sign in, by id, and the roster's teams."""

    def __init__(self, employees: Sequence[Employee], leads: Sequence[Lead] = ()) -> None:
        self.employees = {e.id: e for e in employees}
        people = {
            e.id: Person(e.id, e.name, e.team, frozenset({e.team} if e.lead else ()))
            for e in employees
        }
        for lead in leads:
            known = people.get(lead.id)
            if known is None:
                people[lead.id] = Person(lead.id, lead.name, None, lead.teams)
            else:
                people[lead.id] = Person(known.id, known.name, known.team, known.leads | lead.teams)
        self._people = people

    def get(self, person_id: str) -> Person | None:
        return self._people.get(person_id)

    def team_of(self, employee_id: str) -> str | None:
        employee = self.employees.get(employee_id)
        return employee.team if employee is not None else None

    def members(self, teams: frozenset[str]) -> list[Employee]:
        return [e for e in self.employees.values() if e.team in teams]

    def __contains__(self, person_id: str) -> bool:
        return person_id in self._people


def load_leads(roster: Path) -> tuple[Lead, ...]:
    """The roster's optional top-level ``leads`` list (an older roster has none)."""
    data = read_yaml(roster)
    entries = data.get("leads", []) if isinstance(data, dict) else []
    if not isinstance(entries, list):
        raise ConfigError(str(roster), "leads", "expected a list of leads")
    leads = []
    for i, entry in enumerate(entries):
        try:
            leads.append(Lead.model_validate(entry))
        except ValidationError as exc:
            raise config_error(roster, exc, prefix=f"leads.{i}") from exc
    return tuple(leads)
