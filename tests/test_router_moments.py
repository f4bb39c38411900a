"""Moments compared as timestamps change no decision: the router against the plain way."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from routing.availability import Availability
from routing.backlog import Backlog, Waiting, next_capacity_event
from routing.catalogue import Catalogue
from routing.decisions import Decision
from routing.ledger import BudgetLedger
from routing.models import Employee, Urgency
from routing.policies import AdaptivePolicy, Offer
from routing.router import Router, RouterOptions
from routing.winddown import WindDown
from tests.factories import T0, classification, employee, mention
from tests.test_router_properties import SETTINGS, TAXONOMY, rosters, streams

OFFSETS = [-8, -5, 0, 1, 5.5, 9]  # hours: parsed mentions carry one tzinfo object each


def moment(minutes: int, offset: float) -> datetime:
    """``T0 + minutes`` written with ``offset``, in a tzinfo object of its own."""
    return (T0 + timedelta(minutes=minutes)).astimezone(timezone(timedelta(hours=offset)))


class PlainBacklog(Backlog):
    """The backlog ordered by comparing the datetimes themselves."""

    def __init__(self) -> None:
        super().__init__()
        self._plain: list[tuple[datetime, int, str]] = []

    def add(self, waiting: Waiting, last_chance: datetime, at: float | None = None) -> None:
        super().add(waiting, last_chance)  # its own timestamp, not the caller's
        heapq.heappush(self._plain, (last_chance, self._seq, waiting.mention.id))

    def next_last_chance(self) -> datetime | None:
        while self._plain and self._plain[0][2] not in self._items:
            heapq.heappop(self._plain)
        return self._plain[0][0] if self._plain else None

    def pop_last_chances(self, now: datetime) -> Iterator[Waiting]:
        while (at := self.next_last_chance()) is not None and at <= now:
            _, _, mention_id = heapq.heappop(self._plain)
            del self._lasts[mention_id]
            yield self._items.pop(mention_id)

    def in_order(self) -> list[Waiting]:
        return [self._items[m] for _, _, m in sorted(self._plain) if m in self._items]


class PlainWindDown(WindDown):
    def _ranked(self, employee: Employee, backlog: object) -> list[Waiting]:
        options = []
        for waiting in backlog:  # type: ignore[attr-defined]
            need = waiting.need
            if employee.id in waiting.excluded or employee.id not in self.catalogue.ids_for(need):
                continue
            weight = self.catalogue.taxonomy.weight(waiting.classification.urgency)
            value = employee.skills[need.topic] * weight
            options.append((-value / need.minutes, waiting.due_at, waiting.mention.id, waiting))
        return [option[3] for option in sorted(options, key=lambda o: o[:3])]


class PlainAdaptive(AdaptivePolicy):
    def __init__(self, router: Router) -> None:
        super().__init__(router.plan)
        self.duty = router._duty

    def _still_there(
        self,
        at_work: Sequence[Employee],
        offer: Offer,
        ledger: BudgetLedger,
        planned: tuple[datetime, float],
        kept: bool,
    ) -> bool:
        available = Availability(ledger, offer.need, offer.now, self.duty)
        for person in at_work:  # everyone asked in turn, nobody left out
            if available(person):
                return person.hours.is_open(planned[0].astimezone(person.zone))
        return True


class PlainRouter(Router):
    """The router asking its questions the plain way: datetimes compared as they are, and
    everyone on the candidate list asked whether they are available."""

    def __init__(self, roster: Sequence[Employee], options: RouterOptions) -> None:
        super().__init__(roster, TAXONOMY, options)
        self._backlog = self.plan.backlog = PlainBacklog()
        self._wind_down_picks = PlainWindDown(self._catalogue, self.ledger, self._duty)
        if options.policy == "adaptive":
            self.policy = PlainAdaptive(self)

    def tick(self, now: datetime) -> list[Decision]:
        if self._clock is not None and now < self._clock:
            now = self._clock
        decisions: list[Decision] = []
        while self._backlog:
            last_chance = self._backlog.next_last_chance()
            events = (last_chance, self._next_capacity, self._next_plan)
            moments = [t for t in events if t is not None]
            if not moments or min(moments) > now:
                break
            at = max(min(moments), self._clock) if self._clock is not None else min(moments)
            self._clock = at
            if self._next_plan is not None and self._next_plan <= at:
                decisions += self._follow_plan(at)
            if last_chance is not None and last_chance <= at:
                decisions += self._expire(at)
            if self._next_capacity is not None and self._next_capacity <= at:
                decisions += self._wind_down(at)
                decisions += self._drain(at)
                self._next_capacity = self._capacity_event_after(at)
        self._clock = now
        decisions += self._timeouts_until(now)
        if (due := self._backlog.next_last_chance()) is not None and due <= now:
            decisions += self._expire(now)
        self._prune(now)
        return decisions

    def _nobody_available(
        self, waiting: Waiting, now: datetime, nobody: set[tuple[str, str, str, float]]
    ) -> bool:
        available = Availability(self.ledger, waiting.need, now, self._duty)
        candidates = self._catalogue.candidates_for(waiting.need)
        return not any(available(e) for e in candidates if e.id not in waiting.excluded)


def route_all(router: Router, stream: list, offsets: list[float]) -> list[str]:  # type: ignore[type-arg]
    decisions: list[Decision] = []
    ordered = sorted(stream, key=lambda a: a[0])
    for i, (offset, topic, urgency, platform, language) in enumerate(ordered):
        at = moment(offset, offsets[i % len(offsets)])
        decisions += router.route(
            mention(f"m{i}", at, platform=platform, handle=f"@c{i % 7}"),
            classification(f"m{i}", topic, urgency, language),
            at,
        )
    decisions += router.tick(moment(4 * 24 * 60, offsets[0]))
    # repr shows each moment's offset too, which the decision log's JSON would as well
    return [repr(d) for d in decisions]


@SETTINGS
@given(
    rosters,
    streams,
    st.lists(st.sampled_from(OFFSETS), min_size=1, max_size=4),
    st.sampled_from(["adaptive", "greedy", "balance", "round-robin", "least-loaded"]),
)
def test_the_router_decides_as_it_would_comparing_datetimes(
    roster: tuple[Employee, ...],
    stream: list,  # type: ignore[type-arg]
    offsets: list[float],
    policy: str,
) -> None:
    # Given mentions written in various offsets (equal instants among them), each its own tzinfo
    options = RouterOptions(policy=policy)
    # When the router and the plain one route them
    fast = route_all(Router(roster, TAXONOMY, options), stream, offsets)
    plain = route_all(PlainRouter(roster, options), stream, offsets)
    # Then every decision, with its moments and their offsets, and their order are the same
    assert fast == plain


@given(st.lists(st.tuples(st.integers(0, 600), st.sampled_from(OFFSETS), st.booleans())))
def test_the_backlog_keeps_the_order_of_the_datetimes(
    entries: list[tuple[int, float, bool]],
) -> None:
    # Given mentions waiting with last chances in various offsets, some taken meanwhile
    fast, plain = Backlog(), PlainBacklog()
    for i, (minutes, offset, taken) in enumerate(entries):
        waiting = Waiting(mention(f"m{i}"), classification(f"m{i}"), None, T0)  # type: ignore[arg-type]
        last_chance = moment(minutes, offset)
        fast.add(waiting, last_chance)
        plain.add(waiting, last_chance)
        if taken:
            fast.take(f"m{i - 1}")
            plain.take(f"m{i - 1}")
    # Then the next last chance is the same object, the order is the same, and so are the
    # mentions whose last chance has come by any moment
    assert fast.next_last_chance() is plain.next_last_chance()
    assert fast.in_order() == plain.in_order()
    for minutes in (0, 150, 300, 601):
        now = moment(minutes, 3)
        assert list(fast.pop_last_chances(now)) == list(plain.pop_last_chances(now))
        assert fast.next_last_chance() is plain.next_last_chance()


ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"]
HOURS = ["mon-fri 08:00-16:00", "mon-sun 06:00-23:00", "sat-sun 09:00-17:00; mon 09:00-13:00"]


@given(
    st.lists(st.tuples(st.sampled_from(ZONES), st.sampled_from(HOURS)), min_size=1, max_size=8),
    st.integers(0, 14 * 24 * 60),
    st.sampled_from([None, 45]),
)
def test_the_next_capacity_event_is_each_employees_own(
    people: list[tuple[str, str]], minutes: int, wind_down: int | None
) -> None:
    # Given people sharing zones and hours, and any moment
    roster = [employee(f"e{i}", timezone=z, hours=h) for i, (z, h) in enumerate(people)]
    now = moment(minutes, -5)
    # When the next capacity event is worked out once per zone and hours
    first, winding = next_capacity_event(roster, now, wind_down)
    # Then it is what asking everyone in turn gives
    events: list[tuple[datetime, str | None]] = []
    for person in roster:
        local = now.astimezone(person.zone)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        events.append((min(person.hours.next_start(local), midnight), None))
        if wind_down is not None:
            events.append((person.hours.next_wind_down(local, wind_down), person.id))
    plain = min(at for at, _ in events)
    assert repr(first) == repr(plain)
    assert winding == {e for at, e in events if at == plain and e is not None}


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3 * 24 * 60), st.sampled_from([2.0, 5.0, 10.0, 12.5]), st.booleans()
        )
    ),
    st.sampled_from(ZONES),
)
def test_can_spend_is_the_budget_left_against_the_minutes(
    spends: list[tuple[int, float, bool]], zone: str
) -> None:
    # Given a ledger spending and giving back minutes at moments across local days
    ledger = BudgetLedger([employee("anna", timezone=zone, budget_minutes_per_day=30)])
    for minutes, amount, give_back in spends:
        at = moment(minutes, 1)
        for asked in (amount, 30.0, 30.000000001, 0.1):
            # Then its inlined answer is the plain one: budget left (with the tolerance)
            assert ledger.can_spend("anna", at, asked) == (
                ledger.remaining("anna", at) + 1e-9 >= asked
            )
        if ledger.can_spend("anna", at, amount):
            ledger.adjust("anna", at, -amount if give_back else amount)


@given(st.floats(0.0, 0.5), st.sampled_from(OFFSETS), st.integers(0, 10_000))
def test_slas_worked_out_up_front_are_the_taxonomys(
    lead: float, offset: float, minutes: int
) -> None:
    # Given a catalogue whose SLAs and leads are worked out when it is built
    catalogue = Catalogue((), TAXONOMY, lead)
    due = moment(minutes, offset)
    for urgency in Urgency:
        # Then each is the taxonomy's, and a last chance is that lead before the due moment
        sla = TAXONOMY.sla_minutes(urgency)
        assert catalogue.sla(urgency) == (timedelta(minutes=sla), timedelta(minutes=sla * lead))
        expected = due - timedelta(minutes=sla * lead)
        last = catalogue.last_chance(due, classification(urgency=urgency))
        assert (last, repr(last)) == (expected, repr(expected))
