"""What the plan keeps from one epoch to the next (spans as arrays, waiting mentions' groups,
items as arrays) gives every epoch exactly what building it afresh gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np

from routing.backlog import Backlog, Waiting
from routing.catalogue import Catalogue
from routing.eligibility import Need
from routing.ledger import BudgetLedger
from routing.models import Urgency
from routing.plan import DayPlan
from routing.planlp import solve_plan
from routing.planning import DayBook, Item, Items, Shifts
from routing.timetable import Timetable
from tests.factories import T0, classification, mention
from tests.test_plan_cost import TAXONOMY, people, plan_built_plainly, random_items

TOPICS = ("billing", "outage", "praise")


def as_items(items: Items) -> list[Item]:
    """The arrays as one item each, to compare with items built one by one."""
    return [
        Item(
            float(items.mentions[i]),
            *items.kinds[int(items.kind[i])],
            float(items.start[i]),
            float(items.end[i]),
            tuple(items.ids[i]),
            items.excluded.get(i, frozenset()),
        )
        for i in range(len(items))
    ]


def test_a_kept_timetable_plans_every_epoch_as_the_plain_loop_does() -> None:
    # Given one timetable kept over nine days of epochs, across the US and EU clock changes,
    # with budget spent as the days go
    rng = random.Random(7)
    roster = people(12, 4)
    catalogue, ledger = Catalogue(tuple(roster), TAXONOMY, 0.1), BudgetLedger(roster)
    book = DayBook()
    timetable = Timetable(book)
    now = datetime(2026, 3, 6, 23, 40, tzinfo=UTC)
    end = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    solved = 0
    while now < end and solved < 200:
        if rng.random() < 0.3:
            person = rng.choice(roster)
            if ledger.can_spend(person.id, now, 5):
                ledger.spend(person.id, now, 5)
        items = random_items(catalogue, rng, now.timestamp())
        options = rng.choice([2, 4, 16])
        # Then each epoch's plan is exactly that of the plain loop over fresh spans
        planned = solve_plan(
            items, Shifts(now, 24 * 3600.0, book), catalogue, ledger, options, 0.05, timetable
        )
        assert planned == plan_built_plainly(
            items, Shifts(now, 24 * 3600.0), catalogue, ledger, options
        )
        solved += 1
        # an epoch later, or a jump of a few days (past what the timetable keeps)
        step = timedelta(minutes=30) if rng.random() < 0.9 else timedelta(days=rng.randint(1, 4))
        now += step + timedelta(seconds=rng.randint(0, 1799))
    assert solved > 100


def test_a_kept_timetable_selects_the_spans_and_capacities_of_fresh_shifts() -> None:
    # Given a timetable kept across epochs over a day around the EU clock change, asked about
    # windows of different lengths
    rng = random.Random(2)
    roster = people(10, 2)
    catalogue, ledger = Catalogue(tuple(roster), TAXONOMY, 0.1), BudgetLedger(roster)
    needs = [catalogue.need(mention(), classification(topic=t)) for t in TOPICS]
    timetable = Timetable()
    for step in range(60):
        now = datetime(2026, 3, 28, 12, 5, tzinfo=UTC) + step * timedelta(minutes=31)
        shifts = Shifts(now, rng.choice([1, 24, 72]) * 3600.0)
        epoch = timetable.epoch(shifts, needs, catalogue)
        for need in needs:
            # Then each kind's pairs are every candidate's spans in the window, in order
            pairs = epoch.pairs(need)
            expected = [
                (person.id, start, stop)
                for person in catalogue.candidates_for(need)
                for start, stop, _, _ in shifts.spans(person)
            ]
            found = (
                [] if pairs is None else list(zip(pairs.ids, pairs.start, pairs.end, strict=True))
            )
            assert found == expected
        # And every budget's capacity is the one fresh shifts give
        rows = np.arange(epoch.budgets)
        budgets = [epoch._table.rows[row] for row in rows]
        met = [bool(epoch._mask[epoch._table.row == row].any()) for row in rows]
        rows = rows[np.array(met, dtype=bool)]
        assert epoch.capacities(rows, ledger) == [
            shifts.capacity(*budgets[row], ledger) for row in rows.tolist()
        ]


def plain_waiting_items(plan: DayPlan, ts: float) -> list[Item]:
    """The backlog grouped one mention at a time."""
    groups: dict[tuple[Need, Urgency, float, frozenset[str]], list[tuple[float, str]]] = {}
    for w in plan.backlog.values():
        last = plan.backlog.last_chance_at(w.mention.id)
        step = plan._group if last - ts <= plan._near else plan._far_group  # an hour when far
        slot = ts + (last - ts) // step * step
        key = (w.need, w.classification.urgency, max(slot, ts), w.excluded)
        groups.setdefault(key, []).append((last, w.mention.id))
    return [
        Item(float(len(members)), need, urgency, ts, end, tuple(m for _, m in sorted(members)),
             excluded)
        for (need, urgency, end, excluded), members in groups.items()
    ]  # fmt: skip


def test_waiting_mentions_are_grouped_as_one_at_a_time() -> None:
    # Given a backlog that changes between epochs: mentions added, taken, and put back with
    # someone excluded, some sharing a last chance
    rng = random.Random(11)
    roster = people(6)
    catalogue, backlog = Catalogue(tuple(roster), TAXONOMY, 0.1), Backlog()
    plan = DayPlan(catalogue, BudgetLedger(roster), backlog)
    names = [f"m{k:04d}" for k in range(2000)]
    rng.shuffle(names)  # ids in no particular order: ties in last chance go by id
    count = 0
    for epoch in range(40):
        now = T0 + epoch * timedelta(minutes=30) + timedelta(seconds=rng.randint(0, 1799))
        for _ in range(rng.randint(0, 25)):
            count += 1
            at = now - timedelta(minutes=rng.choice([0, 3, 3, 10, 45]))
            name = names[count]
            labels = classification(
                name, topic=rng.choice(TOPICS), urgency=rng.choice(list(Urgency))
            )
            found = mention(name, at)
            due = catalogue.due(found, labels)
            excluded = frozenset(rng.sample(["p00", "p01", "p02"], rng.randint(0, 2)))
            waiting = Waiting(found, labels, catalogue.need(found, labels), due, excluded)
            backlog.add(waiting, catalogue.last_chance(due, labels))
        for w in list(backlog.values()):
            if rng.random() < 0.15:
                backlog.take(w.mention.id)
            elif rng.random() < 0.1:  # declined: back with one more excluded
                backlog.take(w.mention.id)
                again = Waiting(w.mention, w.classification, w.need, w.due_at, w.excluded | {"p03"})
                backlog.add(again, catalogue.last_chance(w.due_at, w.classification))
        # Then the groups, their order and their members' order are those of the plain way
        ts = now.timestamp()
        assert as_items(plan._waiting_items(ts)) == plain_waiting_items(plan, ts)


def plain_expected_items(plan: DayPlan, ts: float) -> list[Item]:
    """The arrivals counted one at a time into (kind, slot) in the order first counted."""
    if plan._first is None or ts - plan._first < plan._min_history:
        return []
    horizon, slot, scale = plan._horizon, plan._slot, 1.0
    if ts - plan._first >= 86_400.0:
        shifts = [(86_400.0, ts - 86_400.0, ts - 86_400.0 + horizon)]
        scale = plan._level(ts, np.array(plan._seen_at))
    else:
        span = min(ts - plan._first, plan._level_window)  # the last hours seen, at most
        shifts = [(k * span, ts - span, ts) for k in range(1, int(horizon // span) + 2)]
    counts: dict[tuple[int, int], int] = {}
    for shift, since, until in shifts:
        for at, kind in zip(plan._seen_at, plan._seen_kind, strict=True):
            ahead = at + shift - ts
            if since <= at < until and 0 <= ahead < horizon:
                key = (kind, int(ahead // slot))
                counts[key] = counts.get(key, 0) + 1
    kinds = list(plan._kinds)
    items = []
    for (kind, index), n in counts.items():
        need, urgency = kinds[kind]
        middle = ts + (index + 0.5) * slot
        items.append(Item(n * scale, need, urgency, middle, middle + plan._window(urgency), (),
                          frozenset()))  # fmt: skip
    return items


def test_expected_traffic_is_counted_as_one_arrival_at_a_time() -> None:
    # Given two days of arrivals of several kinds, the plan solved now and then (which
    # forgets the arrivals older than a day and its level window)
    rng = random.Random(5)
    roster = people(6)
    catalogue = Catalogue(tuple(roster), TAXONOMY, 0.1)
    plan = DayPlan(catalogue, BudgetLedger(roster), Backlog())
    at = T0
    for k in range(3000):
        at += timedelta(seconds=rng.expovariate(1 / 60))
        labels = classification(
            f"m{k}", topic=rng.choice(TOPICS), urgency=rng.choice(list(Urgency))
        )
        plan.observe(at, catalogue.need(mention(f"m{k}", at), labels), labels.urgency)
        if k % 97 == 0:
            later = at + timedelta(seconds=rng.randint(0, 600))
            plan.solve(later)
            # Then the arrays kept are the arrivals remembered, and the expected items are
            # those counted one arrival at a time
            if plan.forecasting(later):
                assert plan._arrived[0].tolist() == list(plan._seen_at)
                assert plan._arrived[1].tolist() == list(plan._seen_kind)
            ts = later.timestamp()
            assert as_items(plan._forecast_items(ts)) == plain_expected_items(plan, ts)
    assert plan._seen_at[0] > T0.timestamp()  # some were forgotten
    # And arrivals changed behind the plan's back are converted afresh
    plan._seen_at.popleft()
    plan._seen_kind.popleft()
    ts = at.timestamp()
    assert as_items(plan._forecast_items(ts)) == plain_expected_items(plan, ts)
