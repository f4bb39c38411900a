"""Listening rules as X search queries, and the plan that brings the stream's rules in line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from connectors.listening import BrandRules, ListeningRules
from routing.errors import ConfigError

__all__ = ["TAG_PREFIX", "RulePlan", "brand_query", "plan_rules", "stream_rules"]

TAG_PREFIX: Final = "mention-router:"
MAX_QUERY: Final = 512  # the longest stream rule the basic and pro access levels accept


def _term(term: str) -> str:
    return f'"{term}"' if " " in term else term


def _any_of(terms: Iterable[str]) -> str:
    parts = [_term(t) for t in terms]
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def brand_query(rules: BrandRules) -> str:
    """One X query for a brand: any of its terms, none of its exclusions, its languages."""
    parts = [_any_of([*rules.handles, *rules.hashtags, *rules.keywords])]
    parts += [f"-{_term(t)}" for t in rules.exclude]
    if rules.languages:
        parts.append(_any_of(f"lang:{lang}" for lang in rules.languages))
    parts.append("-is:retweet")  # a retweet repeats a mention someone already answers
    return " ".join(parts)


def stream_rules(rules: ListeningRules, source: str = "listening rules") -> dict[str, str]:
    """Tag -> query for every brand; ``ConfigError`` for a query X would refuse."""
    out = {}
    for name, brand in rules.brands.items():
        query = brand_query(brand)
        if len(query) > MAX_QUERY:
            reason = f"the X query is {len(query)} characters, more than X accepts ({MAX_QUERY})"
            raise ConfigError(source, f"brands.{name}", reason)
        out[TAG_PREFIX + name] = query
    return out


@dataclass(frozen=True, slots=True)
class RulePlan:
    add: tuple[tuple[str, str], ...]  # (value, tag)
    delete: tuple[str, ...]  # rule ids

    @property
    def empty(self) -> bool:
        return not (self.add or self.delete)


def plan_rules(existing: Iterable[Mapping[str, Any]], desired: Mapping[str, str]) -> RulePlan:
    """What to add and delete so that our rules (tagged ``TAG_PREFIX``) are ``desired``.

    A changed rule is deleted and added again (X cannot edit a rule). Rules with other tags
    belong to someone else and are left alone.
    """
    keep: set[tuple[str, str]] = set()
    delete = []
    for rule in existing:
        tag, value = str(rule.get("tag") or ""), str(rule.get("value") or "")
        if not tag.startswith(TAG_PREFIX):
            continue
        if desired.get(tag) == value and (tag, value) not in keep:
            keep.add((tag, value))
        else:
            delete.append(str(rule["id"]))
    add = tuple((v, t) for t, v in sorted(desired.items()) if (t, v) not in keep)
    return RulePlan(add, tuple(delete))
