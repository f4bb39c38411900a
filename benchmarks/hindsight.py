"""What an online policy told the hindsight optimum's linear program reaches: prices or quotas.

    python -m benchmarks.hindsight [--first-day 2015-02-17] [--days 2] [--optimal-seconds 300]

The routing report's scenarios (``benchmarks.routing``). With hindsight, the linear relaxation
of the optimum (``routing.optimal.relaxation``) gives each person's price of a minute per local
day and the share of each mention it plans for each person. Three online rules then replay
the stream in time order: each mention is offered at each moment someone able to take it comes
to work before its last chance (the optimum's moments), and taken there or left for the next:

- ``prices``: the best bid, value minus price x minutes, if it is at least 0 (Devanur and
  Hayes 2009, with the prices known exactly instead of learned);
- ``positive prices``: the same, bids above 0 only;
- ``hourly quotas``: the best bid among the people the relaxation has take at least half a
  mention of this topic and urgency in this hour of their day (one mention off per take).

Against the optimum's value: how far following prices can go, and following a plan of each
hour, if the traffic ahead were known. The default policy forecasts it; the gap between these
rows and the routing report's ``adaptive`` and ``foresight`` rows is the forecast's and the
plan's.
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.routing import AIRLINE, TAXONOMY, staffed, traffic  # noqa: E402
from routing.models import Classification, Employee, Mention  # noqa: E402
from routing.optimal import Option, Relaxation, optimal, relaxation  # noqa: E402

Items = Sequence[tuple[Mention, Classification]]
Rule = Callable[[Option, float], bool]  # whether an option may be taken, given its bid


def replay(items: Items, relaxed: Relaxation, rule: Rule, taken: Callable[[Option], None]) -> float:
    """The value of offering each mention at each of its moments in time order: at each, the
    best bid among those the rule allows and with budget left takes it (``taken`` is told)."""
    by_item: dict[int, list[Option]] = defaultdict(list)
    for option in relaxed.options:
        by_item[option.item].append(option)
    left = {(o.employee.id, o.day): o.employee.budget_minutes_per_day for o in relaxed.options}
    due: list[tuple[float, int, list[float]]] = []
    for item, options in by_item.items():
        moments = sorted({o.at.timestamp() for o in options})
        heapq.heappush(due, (moments[0], item, moments[1:]))
    value = 0.0
    while due:
        at, item, later = heapq.heappop(due)
        minutes = TAXONOMY.handling_minutes(items[item][1].topic)
        best: Option | None = None
        best_bid = -float("inf")
        for option in by_item[item]:
            key = (option.employee.id, option.day)
            if option.at.timestamp() != at or left[key] + 1e-9 < minutes:
                continue
            bid = option.value - relaxed.prices.get(key, 0.0) * minutes
            if bid > best_bid and rule(option, bid):
                best, best_bid = option, bid
        if best is not None:
            left[(best.employee.id, best.day)] -= minutes
            value += best.value
            taken(best)
        elif later:
            heapq.heappush(due, (later[0], item, later[1:]))
    return value


def hourly_quotas(items: Items, relaxed: Relaxation) -> tuple[Rule, Callable[[Option], None]]:
    """Each person's planned share per local day, hour, topic and urgency: a rule that takes
    only where at least half a mention is planned, and what books one off."""
    quota: dict[tuple[str, date, int, str, str], float] = defaultdict(float)

    def key(option: Option) -> tuple[str, date, int, str, str]:
        classification = items[option.item][1]
        hour = int(option.at.timestamp() // 3600)
        return (option.employee.id, option.day, hour, classification.topic, classification.urgency)

    for option, share in zip(relaxed.options, relaxed.shares.tolist(), strict=True):
        if share > 1e-9:
            quota[key(option)] += share

    def planned(option: Option, bid: float) -> bool:
        return quota.get(key(option), 0.0) >= 0.5

    def book(option: Option) -> None:
        quota[key(option)] -= 1.0

    return planned, book


def scenario(items: Items, people: list[Employee], seconds: float) -> dict[str, Any]:
    best = optimal(items, people, TAXONOMY, time_limit=seconds)
    relaxed = relaxation(items, people, TAXONOMY)
    rows: dict[str, Any] = {
        "optimal": {"value": round(best.value, 1), "proven_optimal": best.proven_optimal},
        "relaxation": {"value": round(relaxed.value, 1)},
    }

    def nothing(option: Option) -> None:
        return None

    rules: dict[str, tuple[Rule, Callable[[Option], None]]] = {
        "prices": (lambda option, bid: bid >= -1e-9, nothing),
        "positive prices": (lambda option, bid: bid > 1e-9, nothing),
        "hourly quotas": hourly_quotas(items, relaxed),
    }
    for name, (rule, taken) in rules.items():
        rows[name] = {"value": round(replay(items, relaxed, rule, taken), 1)}
    for row in rows.values():
        row["vs_optimal"] = round(row["value"] / best.value, 4) if best.value else None
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=2, help="days of traffic per scenario")
    parser.add_argument("--first-day", type=date.fromisoformat, help="as benchmarks.routing's")
    parser.add_argument("--optimal-seconds", type=float, default=300.0)
    args = parser.parse_args()
    if not AIRLINE.exists():
        sys.exit(f"the hindsight study needs {AIRLINE} (the public datasets beside the repository)")
    first, items = traffic(args.first_day, args.days)
    report: dict[str, Any] = {"mentions": len(items), "first_day": first, "scenarios": {}}
    print(f"{len(items)} mentions from {first}; value against the optimum")
    for name, people in staffed(items, args.days).items():
        rows = report["scenarios"][name] = scenario(items, people, args.optimal_seconds)
        print(f"{name:>14}: " + ", ".join(f"{k} {r['vs_optimal']:.1%}" for k, r in rows.items()))
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"hindsight-{first}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
