"""The day plan: waiting mentions and expected traffic against remaining budgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.backlog import Backlog, Waiting
from routing.catalogue import Catalogue
from routing.ledger import BudgetLedger
from routing.models import Assignment, Classification, Employee, Urgency
from routing.plan import DayPlan
from routing.planning import Shifts
from routing.router import Router
from routing.simulator import final_outcomes, simulate
from tests.factories import T0, classification, employee, make_taxonomy, mention

TAXONOMY = make_taxonomy()


def plan_for(roster: list[Employee]) -> tuple[DayPlan, Backlog, BudgetLedger, Catalogue]:
    catalogue = Catalogue(tuple(roster), TAXONOMY, 0.1)
    ledger = BudgetLedger(roster)
    backlog = Backlog()
    return DayPlan(catalogue, ledger, backlog), backlog, ledger, catalogue


def wait(
    backlog: Backlog, catalogue: Catalogue, mention_id: str, urgency: Urgency, at: datetime
) -> None:
    found = mention(mention_id, at)
    labels: Classification = classification(mention_id, urgency=urgency)
    need = catalogue.need(found, labels)
    due = catalogue.due(found, labels)
    backlog.add(Waiting(found, labels, need, due), catalogue.last_chance(due, labels))


def test_the_plan_gives_the_person_at_work_the_most_valuable_waiting_mention() -> None:
    # Given one person at work with budget for one billing mention, and two waiting
    anna = employee("anna", budget_minutes_per_day=10)
    plan, backlog, _, catalogue = plan_for([anna])
    wait(backlog, catalogue, "low", Urgency.LOW, T0)
    wait(backlog, catalogue, "high", Urgency.HIGH, T0)
    # When the epoch's plan is solved
    plan.solve(T0)
    # Then the high one goes to her now, the low one waits, and her time has a price
    assert plan.picks() == [("high", "anna")]
    assert plan.table(T0)["anna"] > 0


def test_minutes_are_kept_for_the_critical_mentions_expected_later() -> None:
    # Given a person at work all day with budget for one billing mention, and yesterday a
    # critical billing mention at 10:00
    anna = employee("anna", budget_minutes_per_day=10, hours="mon-sun 08:00-18:00")
    router = Router([anna], TAXONOMY)
    yesterday = T0 + timedelta(hours=1) - timedelta(days=1)  # Sunday 10:00
    router.route(
        mention("y1", yesterday), classification("y1", urgency=Urgency.CRITICAL), yesterday
    )
    # When a low mention arrives today at 09:00 and time passes to 09:45
    morning = T0
    decisions = router.route(
        mention("low", morning), classification("low", urgency=Urgency.LOW), morning
    )
    decisions += router.tick(morning + timedelta(minutes=45))
    # Then it waits: her minutes are planned for the critical mention expected at 10:00
    assert not any(isinstance(d.outcome, Assignment) for d in decisions)
    # And when that critical mention arrives, she answers it
    ten = T0 + timedelta(hours=1)
    [*_, last] = router.route(
        mention("c1", ten), classification("c1", urgency=Urgency.CRITICAL), ten
    )
    assert isinstance(last.outcome, Assignment)
    assert last.outcome.mention_id == "c1"


def test_a_planned_mention_that_can_wait_is_held_while_its_person_is_at_work_next_plan() -> None:
    # Given a person at work all day with budget for both, a low mention waiting (last chance
    # in about 21.6 hours) and a high one (in 54 minutes)
    anna = employee("anna", budget_minutes_per_day=60)
    plan, backlog, _, catalogue = plan_for([anna])
    wait(backlog, catalogue, "low", Urgency.LOW, T0)
    wait(backlog, catalogue, "high", Urgency.HIGH, T0)
    # When the epoch's plan is solved
    plan.solve(T0)
    # Then she takes the high one now; the low one waits for a later plan, which knows more
    assert plan.picks() == [("high", "anna")]


def test_nothing_is_held_when_its_person_is_gone_by_the_next_plan() -> None:
    # Given a person whose shift ends with this epoch, and a low mention waiting
    anna = employee("anna", hours="mon-sun 09:00-09:30")
    plan, backlog, _, catalogue = plan_for([anna])
    wait(backlog, catalogue, "low", Urgency.LOW, T0)
    # When the epoch's plan is solved, she takes it now: no later plan has her
    plan.solve(T0)
    assert plan.picks() == [("low", "anna")]


def test_holding_can_be_turned_off() -> None:
    anna = employee("anna")
    catalogue = Catalogue((anna,), TAXONOMY, 0.1)
    backlog = Backlog()
    plan = DayPlan(catalogue, BudgetLedger([anna]), backlog, hold_slack=timedelta(0))
    wait(backlog, catalogue, "low", Urgency.LOW, T0)
    plan.solve(T0)
    assert plan.picks() == [("low", "anna")]


def test_the_same_state_gives_the_same_plan() -> None:
    # Given two identical planners with the same waiting mentions
    people = [employee(f"e{i}", budget_minutes_per_day=10 + 5 * i) for i in range(4)]
    results = []
    for _ in range(2):
        plan, backlog, _, catalogue = plan_for(people)
        for i, urgency in enumerate([Urgency.LOW, Urgency.NORMAL, Urgency.HIGH] * 3):
            wait(backlog, catalogue, f"m{i}", urgency, T0)
        plan.solve(T0)
        results.append((plan.picks(), plan.table(T0)))
    # Then they plan the same
    assert results[0] == results[1]


def test_the_plan_is_solved_once_per_epoch() -> None:
    # Given a solved plan
    anna = employee("anna", budget_minutes_per_day=10)
    plan, backlog, _, catalogue = plan_for([anna])
    wait(backlog, catalogue, "m1", Urgency.HIGH, T0)
    plan.solve(T0)
    # When another mention waits within the same epoch
    wait(backlog, catalogue, "m2", Urgency.CRITICAL, T0 + timedelta(minutes=5))
    plan.solve(T0 + timedelta(minutes=5))
    # Then the plan stays the epoch's; the next epoch sees the new mention
    assert plan.picks() == [("m1", "anna")]
    plan.solve(plan.next_epoch(T0))
    assert ("m2", "anna") in plan.picks()


def test_later_days_count_pro_rata_for_the_part_inside_the_horizon() -> None:
    # Given a person working 08:00-18:00 UTC and a horizon of 12 hours from 09:00
    anna = employee("anna", budget_minutes_per_day=100, hours="mon-sun 08:00-18:00")
    ledger = BudgetLedger([anna])
    ledger.spend("anna", T0, 40)
    shifts = Shifts(T0, 12 * 3600.0)
    today, tomorrow = T0.date(), (T0 + timedelta(days=1)).date()
    # Then today offers what is left, and tomorrow none of its working time (it starts at
    # 08:00, after the horizon's end at 21:00)
    assert shifts.capacity(anna, today, ledger) == 60
    assert shifts.capacity(anna, tomorrow, ledger) == 0
    later = Shifts(datetime(2026, 3, 2, 21, 0, tzinfo=UTC), 12 * 3600.0)
    # And from 21:00, one hour of tomorrow's ten is inside the horizon
    assert later.capacity(anna, tomorrow, ledger) == 10


def expected_ahead(lately: int) -> float:
    """The traffic a plan expects in the next hour after yesterday's 06:00-10:00 (three
    mentions before 09:00, four in the hour after) and ``lately`` mentions between 06:00 and
    09:00 today (which it expects again tomorrow, outside that hour)."""
    plan, _, _, catalogue = plan_for([employee("anna")])
    need = catalogue.need(mention("m", T0), classification("m"))
    yesterday = T0 - timedelta(days=1)
    for minutes in (-170, -110, -50, 5, 20, 35, 50):
        plan.observe(yesterday + timedelta(minutes=minutes), need, Urgency.NORMAL)
    for k in range(lately):
        plan.observe(T0 - timedelta(minutes=175 - 5 * k), need, Urgency.NORMAL)
    hour = (T0 + timedelta(hours=1)).timestamp()
    expected = plan._forecast_items(T0.timestamp())
    return sum(expected.mentions[expected.start < hour].tolist())


def test_yesterdays_traffic_is_scaled_by_the_level_of_the_last_hours() -> None:
    # Given yesterday's hours ahead held four mentions, after three in the three hours before
    # When today's last three hours were as busy, busier, far busier or quiet
    same, busier, flood, quiet = (expected_ahead(n) for n in (3, 9, 30, 0))
    # Then the plan expects yesterday's four, scaled by (today + 10) / (yesterday + 10),
    # never beyond half to double
    assert same == 4.0
    assert busier == pytest.approx(4.0 * 19 / 13)
    assert flood == 8.0
    assert quiet == pytest.approx(4.0 * 10 / 13)


def test_before_a_whole_day_the_plan_expects_the_rate_of_the_last_hours() -> None:
    # Given a first day: one mention an hour through the night, then twelve an hour from
    # 06:00 to 09:00 (T0)
    plan, _, _, catalogue = plan_for([employee("anna")])
    need = catalogue.need(mention("m", T0), classification("m"))
    midnight = T0 - timedelta(hours=9)
    for hour in range(6):
        plan.observe(midnight + timedelta(hours=hour, minutes=30), need, Urgency.NORMAL)
    for k in range(36):
        plan.observe(T0 - timedelta(hours=3) + timedelta(minutes=5 * k), need, Urgency.NORMAL)
    # When it plans at 09:00
    expected = plan._forecast_items(T0.timestamp())
    hour = (T0 + timedelta(hours=1)).timestamp()
    # Then it expects the last three hours' twelve an hour, not the night's average of 4.7
    assert sum(expected.mentions[expected.start < hour].tolist()) == 12.0
    assert sum(expected.mentions.tolist()) == 12 * 24


def test_far_last_chances_are_grouped_by_the_hour_near_ones_by_five_minutes() -> None:
    # Given two low mentions (last chance in about 21.6 hours) and two high ones (in 54
    # minutes), each pair arriving 20 minutes apart
    plan, backlog, _, catalogue = plan_for([employee("anna")])
    for name, urgency in (("low", Urgency.LOW), ("high", Urgency.HIGH)):
        wait(backlog, catalogue, f"{name}1", urgency, T0 - timedelta(minutes=20))
        wait(backlog, catalogue, f"{name}2", urgency, T0)
    # When the plan groups the backlog at 09:00
    items = plan._waiting_items(T0.timestamp())
    # Then the low ones share a group (their windows cut to the hour); the high ones do not
    assert sorted(items.ids) == [("high1",), ("high2",), ("low1", "low2")]
    # And no group's window ends after any of its mentions' last chance
    for end, ids in zip(items.end.tolist(), items.ids, strict=True):
        assert end <= min(backlog.last_chance_at(i) for i in ids)


def test_a_plan_told_the_traffic_ahead_expects_exactly_it() -> None:
    # Given a plan told of three mentions to come: two at 10:00, one the next day at 10:00
    plan, _, _, catalogue = plan_for([employee("anna")])
    need = catalogue.need(mention("m", T0), classification("m"))
    ten = T0 + timedelta(hours=1)
    plan.foresee(
        [(ten, need, Urgency.HIGH), (ten, need, Urgency.HIGH), (ten + timedelta(days=1), need,
         Urgency.HIGH)]
    )  # fmt: skip
    # When it plans at 09:00, with nothing seen yet
    expected = plan._forecast_items(T0.timestamp())
    # Then it plans at once, and expects the two at 10:00 (the third is past its horizon),
    # each within the high urgency's window
    assert plan.forecasting(T0)
    assert expected.mentions.tolist() == [2.0]
    assert expected.start.tolist() == [ten.timestamp()]
    sla, lead = catalogue.sla(Urgency.HIGH)
    assert expected.end.tolist() == [(ten + sla - lead).timestamp()]


def test_a_router_told_the_traffic_ahead_keeps_time_for_the_critical_mention_to_come() -> None:
    # Given a person at work all day with budget for one billing mention, a low mention at
    # 09:00 and a critical one at 12:00, and no traffic seen before
    anna = employee("anna", budget_minutes_per_day=10, hours="mon-sun 08:00-18:00")
    noon = T0 + timedelta(hours=3)
    items = [
        (mention("low", T0), classification("low", urgency=Urgency.LOW)),
        (mention("critical", noon), classification("critical", urgency=Urgency.CRITICAL)),
    ]
    # When the stream is simulated with and without the plan told of it in advance
    told = final_outcomes(simulate(items, [anna], TAXONOMY, foresight=True))
    forecast = final_outcomes(simulate(items, [anna], TAXONOMY))
    # Then, told, she answers the critical one and the low one is escalated; forecasting
    # from nothing, she takes the low one on arrival and the critical one finds her spent
    assert (told["critical"].status, told["low"].status) == ("assigned", "escalated")
    assert (forecast["low"].status, forecast["critical"].status) == ("assigned", "escalated")
