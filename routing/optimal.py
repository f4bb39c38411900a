"""The best assignment with hindsight, by integer programming: a yardstick, not a policy.

Each (mention, employee, local day) triple is a variable when the employee can take the mention
(account, language, skill) and is at work at some moment between its arrival and its last
chance (the moment the online router escalates); on that day the employee's budget is charged.
The objective is the total value, proficiency x urgency weight, as the online router scores it.

``relaxation`` solves the same program with fractions allowed: an upper bound, the share of
each option it takes, and the price of a minute of each person's day (its budget's dual), for
studies of what an online policy told them could reach (``benchmarks/hindsight.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix, csr_matrix

from routing.eligibility import Need, structural_gap
from routing.models import Classification, Employee, Mention, Outcome, Taxonomy
from routing.outcomes import assignment, not_assigned


@dataclass(frozen=True)
class OptimalResult:
    outcomes: list[Outcome]
    value: float
    upper_bound: float
    proven_optimal: bool


@dataclass(frozen=True, slots=True)
class Option:
    """Mention ``item`` answered by ``employee`` from ``at`` (the first moment they are at work
    in its window on local ``day``), charged to that day's budget."""

    item: int
    employee: Employee
    at: datetime
    day: date
    value: float


@dataclass(frozen=True)
class Relaxation:
    """The program with fractions allowed: its value (an upper bound on the optimum's), the
    share of each option taken, and each (employee id, local day)'s price of a minute."""

    value: float
    options: list[Option]
    shares: np.ndarray
    prices: dict[tuple[str, date], float]


def _moments(employee: Employee, start: datetime, end: datetime) -> list[datetime]:
    """The first working moment in [start, end], and the first on each later local day."""
    found: list[datetime] = []
    local = start.astimezone(employee.zone)
    limit = end.astimezone(employee.zone)
    while local <= limit and len(found) < 3:
        opened = employee.hours.next_open(local)
        if opened > limit:
            break
        found.append(opened)
        local = (opened + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return found


def optimal(
    items: Sequence[tuple[Mention, Classification]],
    roster: Sequence[Employee],
    taxonomy: Taxonomy,
    *,
    escalation_lead: float = 0.1,
    time_limit: float = 60.0,
) -> OptimalResult:
    options = _options(items, roster, taxonomy, escalation_lead)
    chosen, value, bound, proven = _solve(items, options, taxonomy, time_limit)
    return OptimalResult(_outcomes(items, chosen, taxonomy), value, bound, proven)


def relaxation(
    items: Sequence[tuple[Mention, Classification]],
    roster: Sequence[Employee],
    taxonomy: Taxonomy,
    *,
    escalation_lead: float = 0.1,
) -> Relaxation:
    """The optimum's program as a linear program: fractions of mentions allowed."""
    options = _options(items, roster, taxonomy, escalation_lead)
    if not options:
        return Relaxation(0.0, [], np.zeros(0), {})
    matrix, upper, budgets = _program(items, options, taxonomy)
    values = np.array([o.value for o in options])
    result = linprog(-values, A_ub=matrix, b_ub=upper, bounds=(0, 1), method="highs")
    if result.status != 0:
        raise RuntimeError(f"the relaxation could not be solved: {result.message}")
    duals = -result.ineqlin.marginals
    prices = {key: max(0.0, float(duals[len(items) + row])) for key, row in budgets.items()}
    return Relaxation(float(-result.fun), options, result.x, prices)


def _options(
    items: Sequence[tuple[Mention, Classification]],
    roster: Sequence[Employee],
    taxonomy: Taxonomy,
    escalation_lead: float,
) -> list[Option]:
    options: list[Option] = []
    for index, (mention, classification) in enumerate(items):
        need = Need(
            mention.platform,
            classification.language,
            classification.topic,
            taxonomy.handling_minutes(classification.topic),
        )
        sla = taxonomy.sla_minutes(classification.urgency)
        last_chance = mention.created_at + timedelta(minutes=sla * (1 - escalation_lead))
        weight = taxonomy.weight(classification.urgency)
        for employee in roster:
            if structural_gap(employee, need) is not None:
                continue
            value = employee.skills[need.topic] * weight
            for at in _moments(employee, mention.created_at, last_chance):
                options.append(Option(index, employee, at, at.date(), value))
    return options


def _program(
    items: Sequence[tuple[Mention, Classification]], options: list[Option], taxonomy: Taxonomy
) -> tuple[csr_matrix, np.ndarray, dict[tuple[str, date], int]]:
    """Rows: each mention at most once, then each (employee id, local day)'s budget; each
    budget's number among the budgets (its row comes after the mentions')."""
    budgets: dict[tuple[str, date], int] = {}
    rows, cols, data = [], [], []
    for var, option in enumerate(options):
        budget_row = budgets.setdefault((option.employee.id, option.day), len(budgets))
        minutes = taxonomy.handling_minutes(items[option.item][1].topic)
        rows += [option.item, len(items) + budget_row]
        cols += [var, var]
        data += [1.0, minutes]
    by_row = {row: key for key, row in budgets.items()}
    employees = {o.employee.id: o.employee for o in options}
    upper = np.concatenate(
        [
            np.ones(len(items)),
            [employees[by_row[r][0]].budget_minutes_per_day for r in range(len(budgets))],
        ]
    )
    matrix = coo_matrix((data, (rows, cols)), shape=(len(items) + len(budgets), len(options)))
    return matrix.tocsr(), upper, budgets


def _solve(
    items: Sequence[tuple[Mention, Classification]],
    options: list[Option],
    taxonomy: Taxonomy,
    time_limit: float,
) -> tuple[dict[int, Option], float, float, bool]:
    if not options:
        return {}, 0.0, 0.0, True
    matrix, upper, _ = _program(items, options, taxonomy)
    values = np.array([o.value for o in options])
    result = milp(
        -values,
        constraints=LinearConstraint(matrix, -np.inf, upper),
        integrality=np.ones(len(options)),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit},
    )
    if result.x is None:
        raise RuntimeError(f"the optimal assignment could not be computed: {result.message}")
    chosen = {options[v].item: options[v] for v in np.flatnonzero(result.x > 0.5)}
    value = float(sum(o.value for o in chosen.values()))
    bound = float(-result.mip_dual_bound) if result.mip_dual_bound is not None else value
    return chosen, value, max(bound, value), bool(result.status == 0)


def _outcomes(
    items: Sequence[tuple[Mention, Classification]],
    chosen: dict[int, Option],
    taxonomy: Taxonomy,
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for index, (mention, classification) in enumerate(items):
        due = mention.created_at + timedelta(minutes=taxonomy.sla_minutes(classification.urgency))
        option = chosen.get(index)
        if option is None:
            reason = "left out of the optimal assignment"
            outcomes.append(
                not_assigned("escalated", mention, classification, reason=reason, at=due, due=due)
            )
            continue
        minutes = taxonomy.handling_minutes(classification.topic)
        outcomes.append(
            assignment(
                mention,
                classification,
                option.employee,
                value=option.value,
                minutes=minutes,
                at=option.at,
                due=due,
            )
        )
    return outcomes
