"""The urgency policy: the model's urgency, raised by signals a support lead would expect.

Signals, applied in this order to the urgency the model (or the default) gave:

- ``topic:<name>``          the topic has a floor (an outage is at least ``normal``);
- ``safety:<word>``, ``security:<word>``, ``legal:<word>``, ``press:<word>``
                            a word of that kind in the text lifts to its floor;
- ``negative_sentiment``    the mention is negative (with enough confidence): raise by a step;
- ``reach:<followers>``     the author has many followers (and is not praising): raise a step;
- ``repeat_complaint:<n>``  the author complained ``n`` times already within the window.

Floors set "at least this level"; raises add steps but never lift above their own ``max``.
A classification's reasons name every signal that fired and would on its own have raised
the model's urgency. The policy is pure: the repeat-complaint memory is keyed on the mentions'
own timestamps, so a replay gives the same result every time, and it is bounded in size.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from routing.models import Mention, Sentiment, Urgency

Word = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Raise(_Frozen):
    """Add ``steps`` urgency levels, never going above ``max``."""

    steps: Annotated[int, Field(ge=0, le=3)] = 1
    max: Urgency = Urgency.CRITICAL


class SentimentRule(Raise):
    """A negative mention: by default never left at ``low`` (the model's urgency head has
    usually learned from sentiment already, so a larger raise would count it twice)."""

    min_confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 0.6
    max: Urgency = Urgency.NORMAL


class ReachRule(Raise):
    """An author with at least ``followers`` followers, unless the mention is positive."""

    followers: Annotated[int, Field(ge=0)] = 10_000


class RepeatRule(Raise):
    """A complaint (negative mention) from an author with ``previous`` complaints in the window."""

    window_minutes: Annotated[float, Field(gt=0, le=60 * 24 * 31)] = 24 * 60
    previous: Annotated[int, Field(ge=1, le=100)] = 1
    max_authors: Annotated[int, Field(ge=1)] = 100_000


class KeywordRule(_Frozen):
    """Words (a trailing ``*`` matches any ending; spaces match any run of spaces) and a floor."""

    at_least: Urgency
    words: list[Word] = Field(min_length=1)

    @field_validator("words")
    @classmethod
    def _plain_words(cls, words: list[str]) -> list[str]:
        for word in words:
            if not re.fullmatch(r"[^\W\d_][\w' -]*\*?", word):
                raise ValueError(f"{word!r}: use letters, spaces, ' and - (and a final *)")
        return words


def _default_keywords() -> dict[str, KeywordRule]:
    def rule(level: Urgency, words: str) -> KeywordRule:
        return KeywordRule(at_least=level, words=[w.replace("_", " ") for w in words.split()])

    return {
        "safety": rule(
            Urgency.CRITICAL,
            "caught_fire on_fire fire_hazard smoke smoking overheat* explod* burnt burned "
            "burning melt* sparks electrocut* injur* hospital ambulance unsafe dangerous "
            "in_brand rook oververhit* ontplof* gewond* ziekenhuis gevaarlijk* care_alarm "
            "alarmnummer noodnummer",
        ),
        "security": rule(
            Urgency.HIGH,
            "hacked hack hacker* fraud* scam* phishing stolen identity_theft breach data_leak "
            "compromised gehackt fraude oplicht* gestolen datalek",
        ),
        "legal": rule(
            Urgency.HIGH,
            "lawyer* attorney* lawsuit* sue suing court legal_action ombudsman regulator "
            "advocaat rechtszaak rechter juridisch* consumentenbond geschillencommissie",
        ),
        "press": rule(
            Urgency.HIGH,
            "journalist* reporter* newspaper* the_press the_media news_desk "
            "de_pers de_media krant* redactie* verslaggever*",
        ),
    }


class UrgencyPolicy(_Frozen):
    """What raises a mention's urgency; every part can be switched off with ``null``."""

    topics: dict[str, Urgency] = Field(default_factory=lambda: {"outage": Urgency.NORMAL})
    keywords: dict[str, KeywordRule] = Field(default_factory=_default_keywords)
    negative_sentiment: SentimentRule | None = SentimentRule()
    reach: ReachRule | None = ReachRule()
    repeat_complaint: RepeatRule | None = RepeatRule()


def _atoms(word: str) -> tuple[str, ...]:
    """A keyword as regex atoms: escaped letters, ``\\s+`` between words, ``\\w*`` for a ``*``."""
    atoms: list[str] = []
    for i, part in enumerate(word.rstrip("*").split()):
        atoms += ([r"\s+"] if i else []) + [re.escape(c) for c in part]
    return (*atoms, r"\w*") if word.endswith("*") else tuple(atoms)


def _trie(alternatives: Iterable[tuple[str, ...]]) -> str:
    """One regex for many keywords, factored by common prefixes.

    Python's ``re`` tries the branches of an alternation one by one at every position; a
    prefix tree lets it reject a position after one character instead of after every word.
    """
    root: dict[str, Any] = {}
    for atoms in alternatives:
        node = root
        for atom in atoms:
            node = node.setdefault(atom, {})
        node[""] = {}  # the end of a keyword

    def render(node: dict[str, Any]) -> str:
        branches = [atom + render(child) for atom, child in sorted(node.items()) if atom]
        if "" in node:
            branches.append("")
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return render(root)


def _whole_words(body: str) -> re.Pattern[str]:
    # Whole words only, and never inside a @handle (a #hashtag does count).
    return re.compile(r"(?<![\w@])" + body + r"(?!\w)")


_LEVELS = tuple(Urgency)
_UNIX = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Chunks of text remembered as holding a keyword or not, before the memory starts afresh.
_MAX_CHUNKS = 65_536


def _steps(rule: Raise) -> tuple[Urgency, ...]:
    """Rank -> the level ``rule`` raises it to: ``steps`` more, never above ``max``, never down."""
    return tuple(
        _LEVELS[max(level.rank, min(level.rank + rule.steps, rule.max.rank))] for level in _LEVELS
    )


def _candidates(rules: dict[str, KeywordRule]) -> re.Pattern[str] | None:
    """What a chunk of text (no whitespace) holds when a keyword match may touch it.

    A one-word keyword lies inside a chunk; a keyword of several words ends at the start of
    a chunk with its last word. A text with no such chunk holds no keyword at all.
    """
    single = [_atoms(w) for rule in rules.values() for w in rule.words if " " not in w]
    last = [_atoms(w.split()[-1]) for rule in rules.values() for w in rule.words if " " in w]
    parts = ([r"(?<![\w@])" + _trie(single)] if single else []) + (
        [r"\A" + _trie(last)] if last else []
    )
    return re.compile("(?:" + "|".join(parts) + r")(?!\w)") if parts else None


class _Levels:
    """The urgency as signals apply, and which of them would alone have raised the base."""

    def __init__(self, base: Urgency) -> None:
        self.base = self.level = base
        self.reasons: list[str] = []

    def floor(self, reason: str, at_least: Urgency) -> None:
        self.level = _LEVELS[max(self.level.rank, at_least.rank)]
        if at_least.rank > self.base.rank:
            self.reasons.append(reason)

    def lift(self, reason: str, steps: tuple[Urgency, ...]) -> None:
        self.level = steps[self.level.rank]
        if steps[self.base.rank] is not self.base:
            self.reasons.append(reason)


@dataclass(frozen=True)
class Assessment:
    urgency: Urgency
    reasons: tuple[str, ...]


class UrgencyAssessor:
    """Applies an :class:`UrgencyPolicy` to classified mentions, remembering recent complaints."""

    def __init__(self, policy: UrgencyPolicy | None = None) -> None:
        self.policy = policy if policy is not None else UrgencyPolicy()
        rules = self.policy.keywords
        words = [_atoms(w) for rule in rules.values() for w in rule.words]
        self._keywords = _whole_words(_trie(words)) if words else None
        self._kinds = [
            (name, re.compile(_trie(_atoms(w) for w in rule.words) + r"\Z"))
            for name, rule in rules.items()
        ]
        self._candidates = _candidates(rules)
        self._chunks: dict[str, bool] = {}  # chunk -> may a keyword match touch it
        # author -> their recent complaints, as whole microseconds since 1970 (exact, and cheap
        # to compare: datetimes parsed from a stream each carry their own tzinfo)
        self._history: OrderedDict[tuple[str, str], deque[int]] = OrderedDict()
        # The rules as tables, looked up once rather than per mention.
        mood, reach, repeat = (
            self.policy.negative_sentiment,
            self.policy.reach,
            self.policy.repeat_complaint,
        )
        self._mood = (mood.min_confidence, _steps(mood)) if mood is not None else None
        self._reach = (reach.followers, _steps(reach)) if reach is not None else None
        self._repeat = (repeat, _steps(repeat)) if repeat is not None else None
        window = timedelta(minutes=repeat.window_minutes if repeat is not None else 0)
        self._window = window // _MICROSECOND

    def assess(
        self,
        mention: Mention,
        urgency: Urgency,
        *,
        topic: str,
        sentiment: Sentiment,
        sentiment_confidence: float = 1.0,
    ) -> Assessment:
        """The urgency after the policy, and the signals that raised it."""
        policy, levels = self.policy, _Levels(urgency)
        if topic in policy.topics:
            levels.floor(f"topic:{topic}", policy.topics[topic])
        for kind, word in self._keywords_in(mention.text):
            levels.floor(f"{kind}:{word}", policy.keywords[kind].at_least)
        negative = sentiment is Sentiment.NEGATIVE
        if self._mood is not None and negative and sentiment_confidence >= self._mood[0]:
            levels.lift("negative_sentiment", self._mood[1])
        followers = mention.author.followers
        reach = self._reach
        if reach is not None and followers >= reach[0] and sentiment != Sentiment.POSITIVE:
            levels.lift(f"reach:{followers}", reach[1])
        if self._repeat is not None and negative:
            repeat, steps = self._repeat
            earlier = self._remember(mention, repeat)
            if earlier >= repeat.previous:
                levels.lift(f"repeat_complaint:{earlier}", steps)
        return Assessment(levels.level, tuple(levels.reasons))

    def _keywords_in(self, text: str) -> list[tuple[str, str]]:
        """The first word found of each kind, in the order the policy lists the kinds."""
        if self._keywords is None:
            return []
        lowered = text.lower()
        if not self._may_hold_keyword(lowered):
            return []
        first: dict[str, str] = {}
        for found in self._keywords.finditer(lowered):
            for name, pattern in self._kinds:  # which kind: only on a hit, which is rare
                if name not in first and pattern.match(found.group()):
                    first[name] = " ".join(found.group().split())
        return [(name, first[name]) for name, _ in self._kinds if name in first]

    def _may_hold_keyword(self, lowered: str) -> bool:
        # Most posts hold no keyword; each chunk is checked once, and remembered.
        chunks = lowered.split()
        found = list(map(self._chunks.get, chunks))
        if None not in found:
            return True in found
        assert self._candidates is not None  # there are keywords
        if len(self._chunks) + len(chunks) > _MAX_CHUNKS:
            self._chunks.clear()
        search = self._candidates.search
        flags = [
            search(c) is not None if f is None else f for c, f in zip(chunks, found, strict=True)
        ]
        self._chunks.update(zip(chunks, flags, strict=True))
        return True in flags

    def _remember(self, mention: Mention, rule: RepeatRule) -> int:
        """Earlier complaints of this author within the window; records this one."""
        key = (mention.platform, mention.author.id)
        at = (mention.created_at - _UNIX) // _MICROSECOND
        history = self._history
        seen = history.get(key)
        if seen is None:
            seen = history[key] = deque(maxlen=rule.previous + 1)
        else:
            history.move_to_end(key)  # most recently active author last
        window = self._window
        earlier = sum(1 for t in seen if 0 <= at - t <= window)
        seen.append(at)
        while len(self._history) > rule.max_authors:
            self._history.popitem(last=False)
        return earlier

    @property
    def remembered_authors(self) -> int:
        return len(self._history)
