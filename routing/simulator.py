"""Replay mentions against a roster with no queue, and measure how well a policy did."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median
from typing import Any

from routing.decisions import Decision
from routing.models import Assignment, Classification, Employee, Mention, Outcome, Taxonomy, Urgency
from routing.router import Router, RouterOptions

Item = tuple[Mention, Classification]


def simulate(
    items: Iterable[Item],
    roster: Sequence[Employee],
    taxonomy: Taxonomy,
    options: RouterOptions | None = None,
    *,
    foresight: bool = False,
) -> list[Decision]:
    """Route ``items`` in order of creation, then let time run until every SLA has passed.

    ``foresight`` (for comparison only): the adaptive policy's plan is told the items ahead
    instead of forecasting them (``Router.foresee``)."""
    router = Router(roster, taxonomy, options)
    ordered = sorted(items, key=lambda item: item[0].created_at)
    if foresight:
        router.foresee(ordered)
    decisions: list[Decision] = []
    for mention, classification in ordered:
        decisions += router.route(mention, classification, mention.created_at)
    if ordered:
        last_due = max(
            m.created_at + timedelta(minutes=taxonomy.sla_minutes(c.urgency)) for m, c in ordered
        )
        decisions += router.tick(last_due + timedelta(minutes=1))
    return decisions


def final_outcomes(decisions: Iterable[Decision]) -> dict[str, Outcome]:
    """The last outcome of each mention (a backlogged one may have been assigned later)."""
    final: dict[str, Outcome] = {}
    for decision in decisions:
        if decision.outcome is not None:
            final[decision.outcome.mention_id] = decision.outcome
    return final


def gini(values: Sequence[float]) -> float:
    """0 when everyone carries the same share, towards 1 when one person carries it all."""
    if not values or sum(values) == 0:
        return 0.0
    ordered = sorted(values)
    n = len(ordered)
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * sum(ordered)) - (n + 1) / n


@dataclass(frozen=True)
class Report:
    """What a simulation achieved, in the figures ``mention-router simulate --json`` prints."""

    data: dict[str, Any]

    @classmethod
    def of(
        cls,
        outcomes: Iterable[Outcome],
        roster: Sequence[Employee],
        policy: str,
        taxonomy: Taxonomy | None = None,
    ) -> Report:
        final = {o.mention_id: o for o in outcomes}
        by_id = {e.id: e for e in roster}
        used: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
        per_urgency = {u.value: {"mentions": 0, "within_sla": 0} for u in Urgency}
        waits: dict[str, list[float]] = {u.value: [] for u in Urgency}
        counts = {"assigned": 0, "backlogged": 0, "escalated": 0, "rejected": 0}
        value = 0.0
        days: set[date] = set()
        for outcome in final.values():
            counts[outcome.status] += 1
            urgency = per_urgency[outcome.urgency.value]
            urgency["mentions"] += 1
            days.add(outcome.created_at.date())
            if isinstance(outcome, Assignment):
                zone = by_id[outcome.employee_id].zone
                used[outcome.employee_id][outcome.assigned_at.astimezone(zone).date()] += (
                    outcome.estimated_minutes
                )
                urgency["within_sla"] += outcome.assigned_at <= outcome.due_at
                waited = outcome.assigned_at - outcome.created_at
                waits[outcome.urgency.value].append(waited.total_seconds() / 60)
                value += outcome.score
        employees = {}
        shares = []
        overruns = 0
        for employee in sorted(roster, key=lambda e: e.id):
            per_day = used.get(employee.id, {})
            budget = employee.budget_minutes_per_day
            overruns += sum(1 for m in per_day.values() if m > budget + 1e-9)
            total = sum(per_day.values())
            shares.append(total / (budget * max(1, len(days))))
            employees[employee.id] = {
                "minutes": round(total, 2),
                "budget_per_day": budget,
                "peak_day_minutes": round(max(per_day.values(), default=0.0), 2),
            }
        sla = {
            u: round(v["within_sla"] / v["mentions"], 4) if v["mentions"] else None
            for u, v in per_urgency.items()
        }
        met = sum(v["within_sla"] for v in per_urgency.values())
        # Weighted by urgency weight (by default 1, 2, 4, 8): answering a critical mention in
        # time counts as much as answering eight low ones, as in the value routing maximizes.
        weights = {
            u.value: taxonomy.weight(u) if taxonomy is not None else float(2**i)
            for i, u in enumerate(Urgency)
        }
        weighted_total = sum(weights[u] * v["mentions"] for u, v in per_urgency.items())
        weighted_met = sum(weights[u] * v["within_sla"] for u, v in per_urgency.items())
        return cls(
            {
                "policy": policy,
                "mentions": len(final),
                **counts,
                "sla_attainment": sla,
                "sla_attainment_overall": round(met / len(final), 4) if final else None,
                # how long an answered mention waited for its assignment, median per urgency
                "minutes_to_assignment": {
                    u: round(median(v), 1) if v else None for u, v in waits.items()
                },
                "sla_attainment_weighted": (
                    round(weighted_met / weighted_total, 4) if weighted_total else None
                ),
                "employees": employees,
                "budget_overruns": overruns,
                "fairness_gini": round(gini(shares), 4),
                "total_value": round(value, 4),
            }
        )
