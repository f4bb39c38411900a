"""The plan's shortcuts (kept spans, the numpy program, HiGHS direct) change nothing."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix

from routing.backlog import Waiting
from routing.catalogue import Catalogue
from routing.eligibility import DutyRoster, Need
from routing.highs import solve_packing
from routing.ledger import BudgetLedger
from routing.models import Employee, Urgency
from routing.planlp import solve_plan
from routing.planning import DayBook, Item, Shifts, Span
from routing.winddown import WindDown
from tests.factories import T0, classification, employee, make_taxonomy, mention

TAXONOMY = make_taxonomy()
HOURS = ["mon-fri 08:00-16:00", "mon-sun 22:00-06:00", "sat-sun 09:00-17:00; mon 09:00-13:00",
         "mon-sun 06:00-23:00", "mon-fri 09:00-12:00; mon-fri 13:00-18:00"]  # fmt: skip
ZONES = ["UTC", "America/New_York", "Europe/Amsterdam", "Asia/Kolkata", "America/Los_Angeles"]


def people(count: int, seed: int = 3) -> list[Employee]:
    rng = random.Random(seed)
    return [
        employee(
            f"p{i:02d}",
            hours=HOURS[i % len(HOURS)],
            timezone=ZONES[(i // 2) % len(ZONES)],
            budget_minutes_per_day=rng.choice([20, 45, 90]),
            skills={t: round(rng.uniform(0.2, 1.0), 2) for t in ("billing", "outage", "praise")},
        )
        for i in range(count)
    ]


def spans_built_plainly(now: datetime, horizon: float, person: Employee) -> tuple[Span, ...]:
    """Each local day from today to a day past the horizon, converted afresh."""
    ts, until, spans = now.timestamp(), now.timestamp() + horizon + 86_400.0, []
    day = now.astimezone(person.zone).replace(hour=0, minute=0, second=0, microsecond=0)
    while day.timestamp() < until:
        for a, b in person.hours.day_spans(day):
            start = max(a.timestamp(), ts)
            if start < b.timestamp() and start < until:
                spans.append((start, b.timestamp(), day.date(), max(a, now)))
        day = (day + timedelta(days=1, hours=2)).replace(hour=0)
    return tuple(spans)


def test_spans_read_from_a_kept_day_book_equal_spans_built_afresh() -> None:
    # Given one book kept across epochs over a week that crosses the US and EU clock changes
    roster, book = people(10), DayBook()
    start = datetime(2026, 3, 6, 23, 50, tzinfo=UTC)
    for step in range(0, 7 * 96, 7):
        now = start + step * timedelta(minutes=15)
        shifts = Shifts(now, 24 * 3600.0, book)
        # Then every person's spans are exactly the ones built from their hours afresh
        for person in roster:
            assert shifts.spans(person) == spans_built_plainly(now, 24 * 3600.0, person)


def test_a_full_day_book_starts_over_and_still_answers_the_same() -> None:
    # Given a book with room for two days, asked about five
    small, person = DayBook(limit=2), people(1)[0]
    for days in range(5):
        now = T0 + timedelta(days=days, hours=3)
        assert Shifts(now, 24 * 3600.0, small).spans(person) == spans_built_plainly(
            now, 24 * 3600.0, person
        )
    # Then it never holds more than two
    assert len(small._days) <= 2


def random_items(catalogue: Catalogue, rng: random.Random, ts: float) -> list[Item]:
    needs = [catalogue.need(mention(), classification(topic=t)) for t in ("billing", "outage")]
    items = []
    for k in range(40):
        need, urgency = rng.choice(needs), rng.choice(list(Urgency))
        start = ts if k % 2 else ts + rng.uniform(0, 20 * 3600)
        end = start + rng.uniform(600, 30 * 3600)
        ids = tuple(f"m{k}-{j}" for j in range(rng.randint(1, 3))) if k % 2 else ()
        excluded = frozenset(rng.sample([f"p{i:02d}" for i in range(12)], 2) if k % 5 == 1 else [])
        count = float(len(ids)) if ids else float(rng.randint(1, 4))
        items.append(Item(count, need, urgency, start, end, ids, excluded))
    return items


def plan_built_plainly(
    items: list[Item], shifts: Shifts, catalogue: Catalogue, ledger: BudgetLedger, options: int
) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """The plan by one loop over items, candidates and spans, solved by the same solver."""
    rows: dict[tuple[str, date], int] = {}
    caps: list[float] = []
    first_row: dict[str, int] = {}
    columns: list[tuple[int, int, float, bool, str]] = []
    for i, item in enumerate(items):
        weight, taken = TAXONOMY.weight(item.urgency), 0
        for person in catalogue.candidates_for(item.need):
            if person.id in item.excluded:
                continue
            found = False
            for start, end, day, _ in shifts.spans(person):
                if start > item.end:
                    break
                if end <= item.start:
                    continue
                if (person.id, day) not in rows:
                    rows[(person.id, day)] = len(caps)
                    caps.append(shifts.capacity(person, day, ledger))
                    first_row.setdefault(person.id, rows[(person.id, day)])
                value = person.skills[item.need.topic] * weight
                value *= 1.0 if item.ids else 1.0 - 0.05
                at_work = start <= shifts.ts < end
                columns.append((i, rows[(person.id, day)], value, at_work, person.id))
                found = True
            taken += found
            if taken == options:
                break
    n, r, c, data = len(items), [], [], []
    for var, (i, row, _, _, _) in enumerate(columns):
        r, c, data = [*r, i, n + row], [*c, var, var], [*data, 1.0, items[i].need.minutes]
    matrix = coo_matrix((data, (r, c)), shape=(n + len(caps), len(columns))).tocsr()
    bounds = np.concatenate([[item.mentions for item in items], caps])
    values = np.array([col[2] for col in columns])
    solved = solve_packing(values, matrix, bounds)
    assert solved is not None
    x, duals = solved[0], solved[1][n:]
    prices = {e: max(0.0, float(duals[row])) for e, row in first_row.items()}
    shares: dict[int, list[tuple[float, str]]] = {}
    for var, (i, _, _, at_work, person_id) in enumerate(columns):
        if at_work and items[i].ids and x[var] > 1e-6:
            shares.setdefault(i, []).append((-float(x[var]), person_id))
    picks = []
    for i, share in sorted(shares.items()):
        members = iter(items[i].ids)
        for minus_x, person_id in sorted(share):
            for _ in range(int(-minus_x + 0.5)):
                if (mention_id := next(members, None)) is not None:
                    picks.append((mention_id, person_id))
    return prices, picks


def test_the_numpy_program_gives_the_plan_of_the_plain_loop() -> None:
    for seed in range(6):
        # Given a roster across time zones, some budget spent, and items of both kinds
        rng = random.Random(seed)
        roster = people(12, seed)
        catalogue, ledger = Catalogue(tuple(roster), TAXONOMY, 0.1), BudgetLedger(roster)
        now = T0 + timedelta(hours=rng.randint(0, 47), minutes=15 * rng.randint(0, 3))
        for person in roster[::3]:
            ledger.spend(person.id, now, 10)
        items = random_items(catalogue, rng, now.timestamp())
        options = rng.choice([2, 4, 16])
        shifts = Shifts(now, 24 * 3600.0)
        # Then the prices and the picks are exactly those of the plain loop
        expected = plan_built_plainly(items, Shifts(now, 24 * 3600.0), catalogue, ledger, options)
        assert solve_plan(items, shifts, catalogue, ledger, options, 0.05) == expected


def test_direct_highs_gives_an_optimum_and_optimal_duals() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        # Given a random packing program
        dense = (rng.random((30, 80)) < 0.15) * rng.uniform(1, 10, (30, 80))
        dense[0] = 1.0  # every column in a row: bounded
        matrix, bounds = csr_matrix(dense), rng.uniform(1, 20, 30)
        values = rng.uniform(0, 5, 80)
        solved = solve_packing(values, matrix, bounds)
        result = linprog(
            -values, A_ub=matrix, b_ub=bounds, bounds=(0, None), method="highs",
            options={"presolve": False},
        )  # fmt: skip
        assert result.status == 0
        assert solved is not None
        x, duals = solved
        # Then x is feasible and as valuable as linprog's optimum
        assert (x >= -1e-9).all()
        assert (dense @ x <= bounds + 1e-7).all()
        assert values @ x == pytest.approx(values @ result.x, rel=1e-9)
        # And the duals are optimal: nonnegative, every column priced at least at its value,
        # zero on slack rows, and worth the optimum (strong duality)
        assert (duals >= -1e-9).all()
        assert (dense.T @ duals >= values - 1e-7).all()
        assert np.allclose(duals[dense @ x < bounds - 1e-7], 0.0, atol=1e-9)
        assert bounds @ duals == pytest.approx(values @ x, rel=1e-9)


def test_each_solve_starts_afresh() -> None:
    # Given two programs solved in turn by the thread's one HiGHS instance
    rng = np.random.default_rng(8)
    programs = []
    for _ in range(4):
        dense = (rng.random((12, 40)) < 0.3) * rng.uniform(1, 5, (12, 40))
        dense[0] = 1.0
        programs.append((rng.uniform(0, 5, 40), csr_matrix(dense), rng.uniform(1, 9, 12)))
    first = [solve_packing(*program) for program in programs]
    again = [solve_packing(*program) for program in reversed(programs)][::-1]
    # Then each answer is the same whatever was solved before it (no basis carried over)
    for one, other in zip(first, again, strict=True):
        assert one is not None
        assert other is not None
        assert np.array_equal(one[0], other[0])
        assert np.array_equal(one[1], other[1])


def test_the_wind_down_remembers_colleagues_but_picks_as_if_it_asked_each_time() -> None:
    # Given a winding-down person, more proficient colleagues at work later or already out of
    # budget, and a backlog of mentions with different last chances
    roster = people(8, 1)
    catalogue, ledger = Catalogue(tuple(roster), TAXONOMY, 0.1), BudgetLedger(roster)
    now = datetime(2026, 3, 2, 15, 50, tzinfo=UTC)
    for person in roster[1::2]:
        ledger.spend(person.id, now, person.budget_minutes_per_day)
    backlog = []
    for k in range(30):
        at = now - timedelta(minutes=7 * k)
        labels = classification(
            f"w{k}", topic=("billing", "outage")[k % 2], urgency=list(Urgency)[k % 4]
        )
        found = mention(f"w{k}", at)
        need = catalogue.need(found, labels)
        backlog.append(Waiting(found, labels, need, catalogue.due(found, labels)))
    winddown = WindDown(catalogue, ledger, DutyRoster())
    for person in roster:
        # Then each pick is one no more proficient colleague could take before its last chance
        picked = [w.mention.id for w in winddown.picks(person, backlog, now)]
        assert picked == [
            w.mention.id for w in backlog_by_definition(winddown, person, backlog, now)
        ]


def backlog_by_definition(
    winddown: WindDown, person: Employee, backlog: list[Waiting], now: datetime
) -> list[Waiting]:
    chosen = []
    for waiting in winddown._ranked(person, backlog):
        need: Need = waiting.need
        if not winddown.ledger.can_spend(person.id, now, need.minutes):
            continue
        if not person.hours.is_open(now.astimezone(person.zone)):
            continue
        deadline = winddown.catalogue.last_chance(waiting.due_at, waiting.classification)
        better = False
        for other in winddown.catalogue.candidates_for(need):
            if other.skills[need.topic] <= person.skills[need.topic]:
                break
            opens = other.hours.next_open(now.astimezone(other.zone))
            if other.id not in waiting.excluded and opens < deadline:
                better = better or winddown.ledger.can_spend(other.id, opens, need.minutes)
        if not better:
            chosen.append(waiting)
    return chosen


def test_without_an_optimum_the_direct_call_answers_none_as_linprog_fails() -> None:
    # Given a program unbounded above (a column in no row)
    matrix = csr_matrix(np.array([[1.0, 0.0]]))
    # Then there is no plan, as linprog reports a failure
    assert solve_packing(np.array([1.0, 1.0]), matrix, np.array([3.0])) is None
    assert linprog([-1.0, -1.0], A_ub=matrix, b_ub=[3.0], method="highs").status != 0
