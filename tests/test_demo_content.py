"""The shipped demo content: taxonomy, roster, seed set and stream are valid and agree."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from routing.models import UNKNOWN_TOPIC, Employee, Mention, Sentiment, Taxonomy, Urgency

CONFIG = Path(__file__).resolve().parents[1] / "config"
DEMO = CONFIG / "demo"
TOPICS = {"billing", "outage", "account", "delivery", "product", "complaint", "praise"}
PLATFORMS = {"x", "facebook", "instagram"}
URGENCIES = {u.value for u in Urgency}
SENTIMENTS = {s.value for s in Sentiment}
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _yaml(name: str) -> Any:
    return yaml.safe_load((CONFIG / name).read_text(encoding="utf-8"))


@cache
def taxonomy() -> Taxonomy:
    return Taxonomy.model_validate(_yaml("taxonomy.yaml"))


@cache
def roster() -> tuple[Employee, ...]:
    return tuple(Employee.model_validate(entry) for entry in _yaml("roster.yaml")["employees"])


@cache
def seed_rows() -> tuple[dict[str, str], ...]:
    with (DEMO / "seed_mentions.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["text", "lang", "topic", "urgency", "sentiment"]
        return tuple(reader)


@cache
def stream() -> tuple[Mention, ...]:
    lines = (DEMO / "stream.jsonl").read_text(encoding="utf-8").splitlines()
    return tuple(Mention.model_validate_json(line) for line in lines)


def test_taxonomy_has_the_demo_topics_and_every_urgency_level() -> None:
    # Given the shipped taxonomy / When it is validated
    topics = taxonomy().topics
    # Then it lists the seven demo topics plus the generalists' fallback
    assert set(topics) == TOPICS | {UNKNOWN_TOPIC}
    assert taxonomy().handling_minutes("praise") == 3
    longest = max(spec.handling_minutes for spec in topics.values())
    assert taxonomy().handling_minutes("complaint") == longest
    weights = [taxonomy().weight(u) for u in Urgency]
    assert weights == sorted(weights), "a more urgent level must weigh more"
    slas = [taxonomy().sla_minutes(u) for u in Urgency]
    assert slas == sorted(slas, reverse=True), "a more urgent level must promise a faster answer"


def test_roster_employees_are_valid_and_use_known_topics_and_platforms() -> None:
    employees = roster()
    assert 10 <= len(employees) <= 12
    assert len({e.id for e in employees}) == len(employees)
    for employee in employees:
        assert set(employee.skills) <= set(taxonomy().topics), employee.id
        assert set(employee.accounts) <= PLATFORMS, employee.id
        assert employee.team in {"care-nl", "care-en", "tech"}, employee.id
        assert 20 <= employee.budget_minutes_per_day <= 90, employee.id
    assert any(UNKNOWN_TOPIC in e.skills for e in employees), "someone must take unsure mentions"


def test_roster_leaves_dutch_outages_uncovered_in_the_evening() -> None:
    # Given a Monday evening in Amsterdam, when the demo stream's outage mentions keep coming
    evening = datetime(2026, 3, 2, 20, 30, tzinfo=AMSTERDAM)
    # When we look for a Dutch speaker with outage skill who is at work
    on_duty = [
        e.id
        for e in roster()
        if "nl" in e.languages
        and e.skills.get("outage", 0) > 0
        and e.hours.is_open(evening.astimezone(e.zone))
    ]
    # Then there is nobody: the demo shows these mentions backlogged or escalated
    assert on_duty == []


def test_seed_set_is_large_balanced_and_labelled_with_known_values() -> None:
    rows = seed_rows()
    assert 420 <= len(rows) <= 520
    assert {r["topic"] for r in rows} == TOPICS
    assert {r["urgency"] for r in rows} == URGENCIES
    assert {r["sentiment"] for r in rows} == SENTIMENTS
    langs = Counter(r["lang"] for r in rows)
    assert set(langs) == {"en", "nl"}
    assert 0.50 <= langs["en"] / len(rows) <= 0.60
    per_topic_and_lang = Counter((r["topic"], r["lang"]) for r in rows)
    assert min(per_topic_and_lang[(t, lang)] for t in TOPICS for lang in langs) >= 25
    texts = [r["text"].strip().lower() for r in rows]
    assert all(texts)
    assert len(set(texts)) == len(texts)


def test_stream_lines_are_valid_unique_and_in_time_order() -> None:
    mentions = stream()
    assert 300 <= len(mentions) <= 400
    assert len({m.id for m in mentions}) == len(mentions)
    times = [m.created_at for m in mentions]
    assert times == sorted(times)
    assert {m.platform for m in mentions} == PLATFORMS
    with_lang = [m for m in mentions if m.lang is not None]
    assert {m.lang for m in with_lang} == {"en", "nl"}
    assert 0.6 <= len(with_lang) / len(mentions) <= 0.8


def test_stream_labels_use_taxonomy_values() -> None:
    for mention in stream():
        assert set(mention.labels) == {"topic", "urgency", "sentiment"}, mention.id
        assert mention.labels["topic"] in taxonomy().topics, mention.id
        assert mention.labels["urgency"] in URGENCIES, mention.id
        assert mention.labels["sentiment"] in SENTIMENTS, mention.id


def test_stream_replies_follow_an_earlier_mention_in_the_same_conversation() -> None:
    seen: dict[str, Mention] = {}
    replies = 0
    for mention in stream():
        if mention.in_reply_to is not None:
            parent = seen[mention.in_reply_to]
            assert mention.conversation_id == parent.conversation_id
            assert mention.platform == parent.platform
            replies += 1
        else:
            assert mention.conversation_id == mention.id
        seen[mention.id] = mention
    assert replies >= 3


def test_stream_has_a_monday_morning_outage_burst() -> None:
    start = datetime(2026, 3, 2, 10, 0, tzinfo=AMSTERDAM)
    end = datetime(2026, 3, 2, 10, 30, tzinfo=AMSTERDAM)
    burst = [m for m in stream() if start <= m.created_at < end]
    outages = [m for m in burst if m.labels["topic"] == "outage"]
    assert 20 <= len(outages) <= 30


def test_stream_texts_are_not_in_the_seed_set() -> None:
    seed = {r["text"].strip().lower() for r in seed_rows()}
    assert not [m.id for m in stream() if m.text.strip().lower() in seed]


def test_daily_budgets_fall_short_of_the_streams_handling_time() -> None:
    # Why: the demo should show a backlog, so two days of budget must not cover everything
    demand = sum(taxonomy().handling_minutes(m.labels["topic"]) for m in stream())
    two_days = 2 * sum(e.budget_minutes_per_day for e in roster())
    assert 0.4 * demand <= two_days < demand


@pytest.mark.parametrize("name", ["seed_mentions.csv", "stream.jsonl", "README.md"])
def test_demo_files_are_utf8_text_ending_in_a_newline(name: str) -> None:
    text = (DEMO / name).read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert "\r" not in text
