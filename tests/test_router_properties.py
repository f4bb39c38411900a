"""Properties of the router over generated rosters and streams (hypothesis)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.eligibility import Need, structural_gap
from routing.models import Assignment, Employee, Urgency
from routing.router import Decision, Router
from tests.factories import T0, classification, employee, make_taxonomy, mention

TAXONOMY = make_taxonomy()
TOPICS = ["billing", "outage", "praise", "unknown"]
PLATFORMS = ["x", "facebook"]
LANGUAGES = ["en", "nl", "de"]
HOURS = ["mon-sun 00:00-24:00", "mon-fri 09:00-17:00", "mon-fri 08:00-12:00; sat 10:00-14:00"]
ZONES = ["UTC", "Europe/Amsterdam", "America/New_York"]


@st.composite
def employees(draw: st.DrawFn, index: int) -> Employee:
    platforms = draw(st.lists(st.sampled_from(PLATFORMS), min_size=1, unique=True))
    skills = draw(
        st.dictionaries(
            st.sampled_from(TOPICS), st.floats(0.05, 1.0).map(lambda f: round(f, 2)), min_size=1
        )
    )
    return employee(
        f"e{index}",
        languages=draw(st.lists(st.sampled_from(LANGUAGES[:2]), min_size=1, unique=True)),
        accounts={p: f"@e{index}_{p}" for p in platforms},
        skills=skills,
        budget_minutes_per_day=draw(st.sampled_from([10, 15, 30, 60])),
        timezone=draw(st.sampled_from(ZONES)),
        hours=draw(st.sampled_from(HOURS)),
    )


rosters = st.integers(1, 6).flatmap(lambda n: st.tuples(*[employees(i) for i in range(n)]))
arrival = st.tuples(
    st.integers(0, 3 * 24 * 60),  # minutes after T0, over three days
    st.sampled_from(TOPICS),
    st.sampled_from(list(Urgency)),
    st.sampled_from(PLATFORMS),
    st.sampled_from(LANGUAGES),
)
streams = st.lists(arrival, max_size=60)


def run(
    roster: tuple[Employee, ...], stream: list[tuple[int, str, Urgency, str, str]]
) -> list[Decision]:
    router = Router(roster, TAXONOMY)
    decisions: list[Decision] = []
    for i, (offset, topic, urgency, platform, language) in enumerate(
        sorted(stream, key=lambda a: a[0])
    ):
        at = T0 + timedelta(minutes=offset)
        decisions += router.route(
            mention(f"m{i}", at, platform=platform),
            classification(f"m{i}", topic, urgency, language),
            at,
        )
    decisions += router.tick(T0 + timedelta(days=4))
    return decisions


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(rosters, streams)
def test_no_budget_overrun_on_any_local_day(roster: tuple[Employee, ...], stream: list) -> None:  # type: ignore[type-arg]
    by_id = {e.id: e for e in roster}
    used: dict[tuple[str, date], float] = defaultdict(float)
    for decision in run(roster, stream):
        if isinstance(a := decision.outcome, Assignment):
            zone = by_id[a.employee_id].zone
            used[(a.employee_id, a.assigned_at.astimezone(zone).date())] += a.estimated_minutes
    for (employee_id, _), minutes in used.items():
        assert minutes <= by_id[employee_id].budget_minutes_per_day + 1e-9


@SETTINGS
@given(rosters, streams)
def test_only_eligible_employees_get_assignments(
    roster: tuple[Employee, ...], stream: list
) -> None:  # type: ignore[type-arg]
    by_id = {e.id: e for e in roster}
    for decision in run(roster, stream):
        if not isinstance(a := decision.outcome, Assignment):
            continue
        chosen = by_id[a.employee_id]
        need = Need(a.platform, a.language, a.topic, a.estimated_minutes)
        assert structural_gap(chosen, need) is None
        assert chosen.hours.is_open(a.assigned_at.astimezone(chosen.zone))
        assert a.assigned_at <= a.due_at
        assert a.account == chosen.accounts[a.platform]


@SETTINGS
@given(rosters, streams)
def test_every_mention_ends_in_exactly_one_state(
    roster: tuple[Employee, ...], stream: list
) -> None:  # type: ignore[type-arg]
    decisions = run(roster, stream)
    finals = Counter(d.outcome.mention_id for d in decisions if d.outcome.status != "backlogged")
    backlogged = {d.outcome.mention_id for d in decisions if d.outcome.status == "backlogged"}
    decided = {d.outcome.mention_id for d in decisions}
    # After four days every SLA has passed: nothing may still be waiting.
    assert decided == {f"m{i}" for i in range(len(stream))}
    assert all(n == 1 for n in finals.values())
    assert backlogged <= set(finals)


@SETTINGS
@given(rosters, streams)
def test_same_input_same_output(roster: tuple[Employee, ...], stream: list) -> None:  # type: ignore[type-arg]
    assert run(roster, stream) == run(roster, stream)


@SETTINGS
@given(rosters, streams, st.integers(0, 60))
def test_a_rebuilt_router_continues_exactly_like_the_original(
    roster: tuple[Employee, ...],
    stream: list,
    cut: int,  # type: ignore[type-arg]
) -> None:
    ordered = sorted(stream, key=lambda a: a[0])
    cut = min(cut, len(ordered))
    original = Router(roster, TAXONOMY)
    log: list[Decision] = []
    restarted: Router | None = None
    for i, (offset, topic, urgency, platform, language) in enumerate(ordered):
        if i == cut:
            restarted = Router(roster, TAXONOMY)
            restarted.rebuild(log)
        at = T0 + timedelta(minutes=offset)
        args = (
            mention(f"m{i}", at, platform=platform),
            classification(f"m{i}", topic, urgency, language),
            at,
        )
        produced = original.route(*args)
        if restarted is None:
            log.extend(produced)
        else:
            assert restarted.route(*args) == produced
    if restarted is None:  # the cut fell after the last mention: restart now
        restarted = Router(roster, TAXONOMY)
        restarted.rebuild(log)
    end = T0 + timedelta(days=4)
    assert restarted.tick(end) == original.tick(end)
    for e in roster:
        assert restarted.ledger.days(e.id) == original.ledger.days(e.id)
