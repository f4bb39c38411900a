"""Routing report: every policy against the offline optimum on real airline-tweet traffic.

    python -m benchmarks.routing [--days 2] [--first-day 2015-02-17] [--quick]
                                 [--only value|decision-time] [--plan NAME=VALUE ...]
                                 [--router NAME=VALUE ...] [--optimal-seconds 300]

Scenarios: the airline tweets (../shared/data) with their recorded labels, a roster of 40
people with mixed skills, hours (four US time zones) and budgets, at three staffing levels
(total daily budget 0.3x, 1x and 3x the minutes the traffic asks for). Urgency comes from the
recorded labels: negative tweets about cancelled flights or lost luggage are critical, late
flights, damaged luggage and booking problems high, other complaints normal, the rest low.
Each policy routes the same stream; `optimal` is the best assignment with hindsight (MILP);
`foresight` is the adaptive policy with its plan told the traffic ahead instead of forecasting
it (for comparison only: the part of adaptive's distance to the optimum that is not the
forecast's). `--plan` and `--router` run a study: every policy with one of the day plan's
parameters or one of the router's options set (e.g. `--router stickiness_minutes=0`, what
keeping a conversation with the person who answered it costs); its results go to a file of
their own.
Also: decision time per mention with rosters of 1,000 and 10,000 employees (median).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, get_type_hints

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from connectors.datasets import airline_tweets  # noqa: E402
from routing.models import (  # noqa: E402
    Classification,
    Employee,
    Mention,
    Sentiment,
    Taxonomy,
    Urgency,
)
from routing.optimal import optimal  # noqa: E402
from routing.plan import DayPlan  # noqa: E402
from routing.policies import POLICIES  # noqa: E402
from routing.router import Router, RouterOptions  # noqa: E402
from routing.simulator import Report, final_outcomes, simulate  # noqa: E402

AIRLINE = REPO.parent / "shared" / "data" / "airline_sentiment" / "Tweets.csv"
HANDLING = {
    "positive": 2, "neutral": 3, "customer_service_issue": 12, "late_flight": 8,
    "cancelled_flight": 10, "lost_luggage": 10, "bad_flight": 6, "cant_tell": 5,
    "flight_booking_problems": 10, "flight_attendant_complaints": 8, "longlines": 5,
    "damaged_luggage": 10, "unknown": 8,
}  # fmt: skip
CRITICAL = {"cancelled_flight", "lost_luggage"}
HIGH = {"late_flight", "damaged_luggage", "flight_booking_problems"}
TAXONOMY = Taxonomy.model_validate(
    {
        "topics": {t: {"handling_minutes": m} for t, m in HANDLING.items()},
        "urgency": {
            "low": {"sla_minutes": 1440, "weight": 1},
            "normal": {"sla_minutes": 240, "weight": 2},
            "high": {"sla_minutes": 60, "weight": 4},
            "critical": {"sla_minutes": 15, "weight": 8},
        },
    }
)
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
SHIFTS = ["mon-fri 07:00-15:00", "mon-fri 11:00-19:00", "mon-sun 08:00-20:00",
          "sat-sun 09:00-17:00; mon-fri 15:00-23:00", "mon-sun 06:00-14:00"]  # fmt: skip
STAFFING = {"under-staffed": 0.3, "balanced": 1.0, "over-staffed": 3.0}


def urgency_of(labels: dict[str, str]) -> Urgency:
    topic = labels.get("topic", "")
    if labels.get("sentiment") != "negative":
        return Urgency.LOW
    if topic in CRITICAL:
        return Urgency.CRITICAL
    return Urgency.HIGH if topic in HIGH else Urgency.NORMAL


def labeled(mentions: Sequence[Mention]) -> list[tuple[Mention, Classification]]:
    return [
        (
            m,
            Classification(
                mention_id=m.id,
                topic=m.labels["topic"] if m.labels["topic"] in HANDLING else "unknown",
                urgency=urgency_of(m.labels),
                language="en",
                sentiment=Sentiment(m.labels["sentiment"]),
                model_version="labels",
            ),
        )
        for m in mentions
    ]


def roster(size: int, daily_budget: float, seed: int = 11) -> list[Employee]:
    rng = random.Random(seed)
    topics = sorted(HANDLING)
    weights = [rng.uniform(0.5, 1.5) for _ in range(size)]
    people = []
    for i in range(size):
        skills = {t: round(rng.uniform(0.2, 1.0), 2) for t in rng.sample(topics, 6)}
        budget = daily_budget * weights[i] / sum(weights)
        people.append(
            Employee.model_validate(
                {
                    "id": f"agent{i:05d}", "name": f"Agent {i}", "team": f"team{i % 4}",
                    "languages": ["en"], "accounts": {"x": f"@agent{i:05d}"}, "skills": skills,
                    "budget_minutes_per_day": round(min(max(budget, 5), 24 * 60), 1),
                    "timezone": ZONES[i % len(ZONES)], "hours": SHIFTS[rng.randrange(len(SHIFTS))],
                }
            )
        )  # fmt: skip
    return people


def traffic(first_day: date | None, days: int) -> tuple[str, list[tuple[Mention, Classification]]]:
    """The scenarios' stream: ``days`` of airline tweets from ``first_day`` (UTC), by default
    from the first whole day of the stream; and the first day, as an ISO date."""
    mentions = list(airline_tweets(AIRLINE))
    start = min(m.created_at for m in mentions).replace(hour=0, minute=0, second=0) + timedelta(
        days=1
    )
    if first_day is not None:
        start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    window = [m for m in mentions if start <= m.created_at < start + timedelta(days=days)]
    return start.date().isoformat(), labeled(window)


def staffed(items: list[tuple[Mention, Classification]], days: int) -> dict[str, list[Employee]]:
    """The roster of each staffing level: its daily budget a multiple of the traffic's minutes."""
    demand = sum(HANDLING[c.topic] for _, c in items) / days
    return {name: roster(40, demand * factor) for name, factor in STAFFING.items()}


def scenario_report(
    items: list[tuple[Mention, Classification]],
    people: list[Employee],
    router: Mapping[str, Any] | None = None,
    optimal_seconds: float = 300.0,
) -> dict[str, Any]:
    """Every policy (and ``foresight``) against the optimum; ``router`` sets RouterOptions
    for every policy's run (the optimum has none to set)."""
    best = optimal(items, people, TAXONOMY, time_limit=optimal_seconds)
    rows: dict[str, Any] = {
        "optimal": Report.of(best.outcomes, people, "optimal", TAXONOMY).data
        | {"upper_bound": round(best.upper_bound, 4), "proven_optimal": best.proven_optimal}
    }
    # ``foresight``: adaptive with its plan told the traffic ahead instead of forecasting it
    # (for comparison only): what is left between it and the optimum is not the forecast's.
    runs = [(policy, policy, False) for policy in POLICIES] + [("foresight", "adaptive", True)]
    for row_name, policy, foresight in runs:
        started = time.perf_counter()
        options = RouterOptions(policy=policy, **(router or {}))
        decisions = simulate(items, people, TAXONOMY, options, foresight=foresight)
        report = Report.of(final_outcomes(decisions).values(), people, policy, TAXONOMY).data
        report["seconds"] = round(time.perf_counter() - started, 2)
        rows[row_name] = report
    for row in rows.values():
        row["value_vs_optimal"] = round(row["total_value"] / best.value, 4) if best.value else None
        row["waits"] = "/".join(
            "-" if minutes is None else f"{minutes:.0f}"
            for minutes in row["minutes_to_assignment"].values()
        )
    return rows


def decision_time(size: int, count: int = 3000, rounds: int = 3) -> dict[str, Any]:
    """Median microseconds per routing decision with a roster of ``size`` employees.

    The first ``count`` tweets arrive one after another, evenly spread over six US working
    hours of a Monday, and each is routed at its own arrival, as the pipeline does: every call
    is a real decision (assign or wait), none a mention already past its SLA. Each round
    routes the same mentions with a fresh router; the figure is the median of the rounds'
    medians, and ``rounds`` lists them all (the spread is the machine's noise). Medians per
    outcome (assigned, backlogged, escalated) come from the last round.
    """
    people = roster(size, daily_budget=size * 60.0)
    base = datetime(2015, 2, 16, 14, tzinfo=UTC)  # a Monday, 9:00 in New York
    step = timedelta(hours=6) / count
    mentions = [
        (m.model_copy(update={"created_at": base + i * step}), c)
        for i, (m, c) in enumerate(labeled(list(airline_tweets(AIRLINE))[:count]))
    ]
    results: dict[str, Any] = {}
    for policy in ("adaptive", "greedy"):
        medians = []
        by_outcome: dict[str, list[int]] = {}
        for _ in range(rounds):
            router = Router(people, TAXONOMY, RouterOptions(policy=policy))
            timings = []
            by_outcome = {}
            for mention, classification in mentions:
                started = time.perf_counter_ns()
                decisions = router.route(mention, classification, mention.created_at)
                took = time.perf_counter_ns() - started
                timings.append(took)
                status = decisions[-1].outcome.status if decisions[-1].outcome else "feedback"
                by_outcome.setdefault(status, []).append(took)
            medians.append(round(statistics.median(timings) / 1000, 1))
        results[policy] = statistics.median(medians)
        results[f"{policy}_rounds"] = medians
        results[f"{policy}_by_outcome"] = {
            status: {"calls": len(t), "median": round(statistics.median(t) / 1000, 1)}
            for status, t in sorted(by_outcome.items())
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=2, help="days of traffic per scenario")
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-employee timing")
    parser.add_argument(
        "--first-day",
        type=date.fromisoformat,
        help="the first day of traffic (UTC), e.g. 2015-02-19 for the tuning days; "
        "default: the first whole day of the stream (2015-02-17)",
    )
    parser.add_argument(
        "--only",
        choices=("value", "decision-time"),
        help="run one part: the policies against the optimum, or the decision time",
    )
    parser.add_argument(
        "--plan",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a study of the day plan's parameters: run adaptive (and foresight) with "
        "DayPlan's NAME (epoch, options, forecast_discount, ...; durations in minutes) set "
        "to VALUE; repeatable; the results go to a file of their own",
    )
    parser.add_argument(
        "--router",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a study of the router's options: run every policy with RouterOptions' NAME "
        "(stickiness_minutes, plan_hold_minutes, wind_down_minutes, escalation_lead, ...) "
        "set to VALUE; repeatable; the results go to a file of their own",
    )
    parser.add_argument(
        "--optimal-seconds",
        type=float,
        default=300.0,
        help="time limit of the optimum's integer program per scenario; the report says "
        "whether each optimum was proven (default 300: the under-staffed ones take about two "
        "minutes on a quiet machine)",
    )
    args = parser.parse_args()
    study = [plan_parameter(setting) for setting in args.plan]
    router = dict(router_option(setting) for setting in args.router)
    if not AIRLINE.exists():
        sys.exit(f"the routing report needs {AIRLINE} (the public datasets beside the repository)")
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    if args.only == "decision-time":  # its own file: the full report stays as it was
        timing = report_decision_time(args.quick)
        (out / "routing-decision-time.json").write_text(json.dumps(timing, indent=2))
        return
    first, items = traffic(args.first_day, args.days)
    report: dict[str, Any] = {
        "mentions": len(items),
        "days": args.days,
        "first_day": first,
        "scenarios": {},
    }
    for name, people in staffed(items, args.days).items():
        report["scenarios"][name] = scenario_report(items, people, router, args.optimal_seconds)
        print_table(name, report["scenarios"][name])
    if args.only != "value":
        report["decision_microseconds_median"] = report_decision_time(args.quick)
    name = "routing.json" if args.first_day is None else f"routing-{first}.json"
    if study:
        report["plan"] = args.plan
        name = name.replace(".json", "-plan-" + "-".join(sorted(args.plan)) + ".json")
    if router:
        report["router"] = args.router
        name = name.replace(".json", "-router-" + "-".join(sorted(args.router)) + ".json")
    (out / name).write_text(json.dumps(report, indent=2))


def plan_parameter(setting: str) -> str:
    """Set one of ``DayPlan``'s keyword defaults (``NAME=VALUE``) for this run."""
    defaults = DayPlan.__init__.__kwdefaults__ or {}
    settable = {k: v for k, v in defaults.items() if k != "hold_slack"}  # the router sets it
    name, value = _setting(
        "--plan", setting, settable,
        f"not a day plan parameter this can set ({', '.join(settable)}; the hold is "
        "routing.plan_hold_minutes)",
    )  # fmt: skip
    defaults[name] = value
    return setting


def router_option(setting: str) -> tuple[str, float | int]:
    """One of ``RouterOptions``' numeric options (``NAME=VALUE``) for every policy's run, of
    its declared type (``stickiness_minutes`` is a float, though its default is written 1440)."""
    defaults, declared = RouterOptions(), get_type_hints(RouterOptions)
    numeric = {
        f.name: declared[f.name](getattr(defaults, f.name))
        for f in fields(RouterOptions)
        if declared[f.name] in (float, int)
    }
    return _setting(
        "--router", setting, numeric, f"not a numeric router option ({', '.join(numeric)})"
    )


def _setting(flag: str, setting: str, current: Mapping[str, Any], unknown: str) -> tuple[str, Any]:
    """``NAME=VALUE`` for one of ``current``'s names, VALUE of the type of its current value
    (minutes for a duration); a clear exit for an unknown name or a value that is no number."""
    name, _, value = setting.partition("=")
    if name not in current:
        sys.exit(f"{flag} {setting}: {unknown}")
    duration = isinstance(current[name], timedelta)
    kind = float if duration else type(current[name])
    try:
        number = kind(value)
    except ValueError:
        wanted = "minutes" if duration else kind.__name__
        sys.exit(f"{flag} {setting}: {value!r} is not a number ({wanted})")
    return name, timedelta(minutes=number) if duration else number


def report_decision_time(quick: bool) -> dict[str, Any]:
    sizes = (1000,) if quick else (1000, 10_000)
    timing = {str(n): decision_time(n) for n in sizes}
    print("\ndecision time, median µs per mention:", json.dumps(timing))
    return timing


COLUMNS = (
    ("value", "total_value", "{:>9.1f}"),
    ("vs opt", "value_vs_optimal", "{:>7.1%}"),
    ("assigned", "assigned", "{:>8}"),
    ("escalated", "escalated", "{:>9}"),
    ("SLA met", "sla_attainment_overall", "{:>8.1%}"),
    ("weighted", "sla_attainment_weighted", "{:>8.1%}"),
    ("overruns", "budget_overruns", "{:>8}"),
    ("gini", "fairness_gini", "{:>6.3f}"),
    ("minutes l/n/h/c", "waits", "{:>15}"),
)


def print_table(name: str, rows: dict[str, Any]) -> None:
    print(f"\n{name}: {rows['optimal']['mentions']} mentions")
    widths = [
        len(fmt.format(0)) if "%" not in fmt else len(fmt.format(0.0)) for _, _, fmt in COLUMNS
    ]
    print(
        f"{'policy':<14}"
        + "".join(f" {t:>{w}}" for (t, _, _), w in zip(COLUMNS, widths, strict=True))
    )
    for policy, row in rows.items():
        print(f"{policy:<14}" + "".join(" " + fmt.format(row[key]) for _, key, fmt in COLUMNS))


if __name__ == "__main__":
    main()
