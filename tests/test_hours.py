"""Working hours: parsing the roster's form and answering 'is this person working now?'."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.eligibility import DutyRoster
from routing.hours import WorkingHours
from tests.factories import employee

AMS = ZoneInfo("Europe/Amsterdam")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    # 2026-03-02 is a Monday; ``day`` 0..6 counts from it.
    return datetime(2026, 3, 2 + day, hour, minute, tzinfo=AMS)


def test_weekday_range_is_open_inside_and_closed_outside() -> None:
    hours = WorkingHours.parse("mon-fri 09:00-17:00")
    assert hours.is_open(at(0, 9))
    assert hours.is_open(at(4, 16, 59))
    assert not hours.is_open(at(4, 17))
    assert not hours.is_open(at(0, 8, 59))
    assert not hours.is_open(at(5, 12))


def test_several_ranges_separated_by_semicolons() -> None:
    hours = WorkingHours.parse("mon-thu 09:00-17:00; fri 09:00-12:00")
    assert hours.is_open(at(3, 16))
    assert hours.is_open(at(4, 11))
    assert not hours.is_open(at(4, 13))


def test_range_past_midnight_continues_next_day() -> None:
    hours = WorkingHours.parse("sun 22:00-02:00")
    assert hours.is_open(at(6, 23))
    assert hours.is_open(at(7, 1, 30))  # the next Monday
    assert not hours.is_open(at(7, 2))


def test_day_range_wrapping_over_the_weekend() -> None:
    hours = WorkingHours.parse("sat-mon 10:00-12:00")
    assert hours.is_open(at(5, 10))
    assert hours.is_open(at(6, 11))
    assert hours.is_open(at(0, 11))
    assert not hours.is_open(at(1, 11))


def test_next_open_and_next_start() -> None:
    hours = WorkingHours.parse("mon-fri 09:00-17:00")
    friday_evening = at(4, 18, 30)
    assert hours.next_open(friday_evening) == at(7, 9)
    assert hours.next_open(at(1, 10)) == at(1, 10)
    assert hours.next_start(at(1, 9)) == at(2, 9)
    assert hours.next_start(at(1, 8, 59)) == at(1, 9)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "empty"),
        ("monday 09:00-17:00", "cannot read"),
        ("mon-fry 09:00-17:00", "unknown day 'fry'"),
        ("mon 09:00-25:00", "invalid time"),
        ("mon 09:70-10:00", "invalid time"),
        ("mon 09:00-09:00", "empty time range"),
    ],
)
def test_bad_specs_name_the_problem(spec: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        WorkingHours.parse(spec)


@given(
    st.sampled_from(
        ["mon-fri 09:00-17:00", "sun 22:00-02:00; wed 10:00-11:30", "mon-sun 00:00-24:00"]
    ),
    st.lists(st.integers(0, 14 * 24 * 60), min_size=1, max_size=40),
)
def test_the_duty_roster_always_agrees_with_the_hours(spec: str, offsets: list[int]) -> None:
    # Given moments visited in time order, as the router visits them
    person = employee("p", hours=spec, timezone="Europe/Amsterdam")
    duty = DutyRoster()
    start = datetime(2026, 3, 1, tzinfo=AMS)
    for offset in sorted(offsets):
        at = start + timedelta(minutes=offset, seconds=offset % 60)
        # Then the remembered answer is the answer
        assert duty.on_duty(person, at) == person.hours.is_open(at.astimezone(person.zone))


def test_a_remembered_answer_ends_with_the_shift_to_the_microsecond() -> None:
    # Given someone asked about half a second before their shift ends
    person = employee("p", hours="mon-fri 09:00-17:00", timezone="Europe/Amsterdam")
    duty = DutyRoster()
    assert duty.on_duty(person, at(0, 16, 59) + timedelta(seconds=59, microseconds=500_000))
    # When asked again a fifth of a second after the end
    after = at(0, 17) + timedelta(microseconds=200_000)
    # Then the answer is the hours' answer, not the one remembered from before the end
    assert not duty.on_duty(person, after)
    assert duty.on_duty(person, after) == person.hours.is_open(after)


@given(st.lists(st.tuples(st.sampled_from([9, 17]), st.integers(-50, 50)), min_size=1, max_size=40))
def test_the_duty_roster_agrees_with_the_hours_around_shift_edges(
    moments: list[tuple[int, int]],
) -> None:
    # Given moments within five seconds of a shift's start or end, a tenth of a second apart,
    # visited in time order
    person = employee("p", hours="mon-fri 09:00-17:00", timezone="Europe/Amsterdam")
    duty = DutyRoster()
    for moment in sorted(at(0, hour) + timedelta(microseconds=k * 100_000) for hour, k in moments):
        # Then the remembered answer is the answer, whatever was asked before
        assert duty.on_duty(person, moment) == person.hours.is_open(moment)


SPECS = [
    "mon-fri 09:00-17:00",
    "sun 22:00-02:00; wed 10:00-11:30",
    "mon-sun 00:00-24:00",
    "mon-fri 09:00-17:00; mon 12:00-20:00",  # overlapping ranges
]


@given(
    st.lists(st.sampled_from(SPECS), min_size=1, max_size=5),
    st.lists(st.integers(0, 14 * 24 * 60), min_size=1, max_size=40),
)
def test_who_is_at_work_and_who_comes_when_in_any_order(
    specs: list[str], offsets: list[int]
) -> None:
    # Given candidates with various hours, asked about moments out of order
    people = tuple(
        employee(f"p{i}", hours=spec, timezone="Europe/Amsterdam") for i, spec in enumerate(specs)
    )
    duty = DutyRoster()
    start = datetime(2026, 3, 1, tzinfo=AMS)
    for offset in offsets:
        at = start + timedelta(minutes=offset, seconds=offset % 60)
        local = [p.hours.is_open(at.astimezone(p.zone)) for p in people]
        at_work, coming = duty.among(people, at)
        # Then the remembered lists are the lists
        assert list(at_work) == [p for p, open_ in zip(people, local, strict=True) if open_]
        assert [(p, starts) for p, starts in coming] == [
            (p, p.hours.next_open(at.astimezone(p.zone)))
            for p, open_ in zip(people, local, strict=True)
            if not open_
        ]
        # And who can be at work within two hours is who is at work or starts by then
        horizon = 2 * 3600.0
        expected = [
            p
            for p in people
            if p.hours.next_open(at.astimezone(p.zone)).timestamp() <= at.timestamp() + horizon
        ]
        assert list(duty.reachable(people, at, horizon, 3)) == expected[:3]


def test_day_progress_counts_working_time_of_the_local_day() -> None:
    person = employee("p", hours="mon-fri 09:00-17:00", timezone="Europe/Amsterdam")
    duty = DutyRoster()
    assert duty.day_progress(person, at(0, 8)) == 0.0
    assert duty.day_progress(person, at(0, 13)) == 0.5
    assert duty.day_progress(person, at(0, 18)) == 1.0
    assert duty.day_progress(person, at(5, 12)) == 1.0  # no work on Saturday: nothing to pace
    assert WorkingHours.parse("sun 22:00-02:00").day_spans(at(0, 1)) == [(at(0, 0), at(0, 2))]
