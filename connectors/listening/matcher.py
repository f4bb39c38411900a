"""Which brands a text mentions, by the listening rules: compiled once, pure and fast."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from connectors.listening.rules import BrandRules, ListeningRules

__all__ = ["RuleMatcher"]

# A term starts where no word character (nor @ or #, which would make it another token) precedes.
_START = r"(?<![\w@#])"
_END = r"(?!\w)"


def _term(term: str) -> str:
    """A handle, hashtag or phrase as a pattern; a space matches any run of whitespace."""
    words = (re.escape(w) for w in term.split())
    return _START + r"\s+".join(words) + _END


def _alternation(terms: Iterable[str]) -> re.Pattern[str] | None:
    # Longest first, so "contoso fiber" is preferred over "contoso" (only matters for spans).
    parts = sorted({_term(t) for t in terms}, key=len, reverse=True)
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


@dataclass(frozen=True, slots=True)
class _Brand:
    name: str
    include: re.Pattern[str] | None
    exclude: re.Pattern[str] | None
    languages: frozenset[str]


def _compile(name: str, rules: BrandRules) -> _Brand:
    include = _alternation([*rules.handles, *rules.hashtags, *rules.keywords])
    return _Brand(name, include, _alternation(rules.exclude), frozenset(rules.languages))


class RuleMatcher:
    """Matches texts against every brand's rules; ``brands`` gives the names, in config order."""

    def __init__(self, rules: ListeningRules) -> None:
        self._brands = tuple(_compile(name, r) for name, r in rules.brands.items())

    def brands(self, text: str, lang: str | None = None) -> tuple[str, ...]:
        """The brands ``text`` (of language ``lang``, None when unknown) is a mention of."""
        return tuple(b.name for b in self._brands if _matches(b, text, lang))

    def matches(self, text: str, lang: str | None = None) -> bool:
        return any(_matches(b, text, lang) for b in self._brands)


def _matches(brand: _Brand, text: str, lang: str | None) -> bool:
    if brand.languages and lang is not None and lang not in brand.languages:
        return False
    if brand.include is None or brand.include.search(text) is None:
        return False
    return brand.exclude is None or brand.exclude.search(text) is None
