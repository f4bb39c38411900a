"""Listening rules: the schema refuses bad files, the matcher finds brands, X queries follow."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.listening import load_listening_rules
from connectors.listening import ListeningRules, RuleMatcher
from connectors.x import TAG_PREFIX, brand_query, plan_rules, stream_rules
from routing.errors import ConfigError
from tests.listening_fixtures import RULES

REPO = Path(__file__).resolve().parents[1]
MATCHER = RuleMatcher(RULES)


def test_the_example_file_loads() -> None:
    rules = load_listening_rules(REPO / "config" / "listening.yaml")
    assert set(rules.brands) == {"contoso", "fabrikam"}
    assert rules.brands["contoso"].handles == ["@contoso", "@contoso_care"]


@pytest.mark.parametrize(
    ("yaml", "field", "reason"),
    [
        ("brands: {}", "brands", "at least 1"),
        ("brands: {acme: {languages: [en]}}", "brands.acme", "at least one handle"),
        ("brands: {acme: {handles: ['@two words']}}", "brands.acme.handles", "one word"),
        ("brands: {acme: {keywords: [acme], languages: [english]}}", "languages.0", "pattern"),
        ("brands: {acme: {keywords: [acme], typo: 1}}", "brands.acme.typo", "not permitted"),
    ],
)
def test_a_bad_rules_file_names_the_file_field_and_reason(
    tmp_path: Path, yaml: str, field: str, reason: str
) -> None:
    path = tmp_path / "listening.yaml"
    path.write_text(yaml)
    with pytest.raises(ConfigError) as caught:
        load_listening_rules(path)
    assert caught.value.source == str(path)
    assert field in caught.value.field
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("text", "lang", "brands"),
    [
        ("@contoso my bill is wrong", "en", ("contoso",)),
        ("@CONTOSO help", None, ("contoso",)),  # case-insensitive; unknown language passes
        ("love my Contoso   Fiber line", "en", ("contoso",)),
        ("#contoso is down", "nl", ("contoso",)),
        ("@contosofan said hi", "en", ()),  # another handle, not ours
        ("#contosojobs hiring", "en", ()),
        ("tickets for the Contoso Arena", "en", ()),  # excluded phrase
        ("@contoso hallo", "de", ()),  # not a language contoso listens to
        ("@fabrikam and @contoso", "en", ("contoso", "fabrikam")),
        ("fabrikam hola", "es", ("fabrikam",)),
    ],
)
def test_matcher(text: str, lang: str | None, brands: tuple[str, ...]) -> None:
    assert MATCHER.brands(text, lang) == brands
    assert MATCHER.matches(text, lang) == bool(brands)


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
padding = st.text(alphabet=" .,!?\n", min_size=1, max_size=3)


@given(before=st.lists(words, max_size=5), after=st.lists(words, max_size=5), pad=padding)
def test_a_handle_between_any_words_matches(before: list[str], after: list[str], pad: str) -> None:
    text = pad.join([*before, "@contoso", *after])
    assert "contoso" in MATCHER.brands(text, "en")


@given(text=st.text(max_size=200), lang=st.none() | st.sampled_from(["en", "nl", "de"]))
def test_an_excluded_phrase_always_wins(text: str, lang: str | None) -> None:
    assert "contoso" not in MATCHER.brands(f"@contoso {text} contoso arena", lang)


def test_brand_query_for_x() -> None:
    query = brand_query(RULES.brands["contoso"])
    assert query == (
        '(@contoso OR #contoso OR contoso OR "contoso fiber") -"contoso arena" '
        "(lang:en OR lang:nl) -is:retweet"
    )
    assert brand_query(RULES.brands["fabrikam"]) == "(@fabrikam OR fabrikam) -is:retweet"


def test_a_query_too_long_for_x_is_refused() -> None:
    rules = ListeningRules.model_validate(
        {"brands": {"big": {"keywords": [f"word{i}" for i in range(100)]}}}
    )
    with pytest.raises(ConfigError) as caught:
        stream_rules(rules, "config/listening.yaml")
    assert (caught.value.source, caught.value.field) == ("config/listening.yaml", "brands.big")
    assert "more than X accepts (512)" in caught.value.reason


rule_values = st.sampled_from(["a", "b", "(a OR b)", "c -d"])
tags = st.sampled_from([TAG_PREFIX + "x", TAG_PREFIX + "y", TAG_PREFIX + "z", "other", ""])


@given(
    existing=st.lists(st.tuples(tags, rule_values), max_size=8),
    desired=st.dictionaries(st.sampled_from([TAG_PREFIX + t for t in "xyz"]), rule_values),
)
def test_applying_a_rule_plan_gives_exactly_the_desired_rules(
    existing: list[tuple[str, str]], desired: dict[str, str]
) -> None:
    rules = [{"id": str(i), "tag": t, "value": v} for i, (t, v) in enumerate(existing)]
    plan = plan_rules(rules, desired)
    after = [r for r in rules if r["id"] not in plan.delete]
    after += [{"id": "new", "tag": t, "value": v} for v, t in plan.add]
    ours = [(r["tag"], r["value"]) for r in after if r["tag"].startswith(TAG_PREFIX)]
    assert sorted(ours) == sorted(desired.items())  # each desired rule once, nothing else
    foreign = [r for r in rules if not r["tag"].startswith(TAG_PREFIX)]
    assert all(r in after for r in foreign)
    assert plan_rules(after, desired).empty  # applying it again changes nothing
