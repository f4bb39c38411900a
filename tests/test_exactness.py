"""The fast paths of classification compute exactly what the plain ways compute."""

from __future__ import annotations

import copy
import math
import re
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from connectors.datasets import airline_tweets
from routing import language
from routing.classifier import MentionClassifier
from routing.features import NormalizedChunks, normalize, vectorizers
from routing.models import Taxonomy, Urgency
from routing.ngrams import TOKEN_PATTERN, CharWbCounts, WordCounts, char_wb_ngrams, term_counts
from routing.tagger import Tagger
from routing.urgency import KeywordRule, UrgencyAssessor, UrgencyPolicy
from tests.factories import T0, mention, minutes, shared_data
from tests.test_classifier import synthetic_set

WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]
# Short words, repeated words, every kind of whitespace, accents, emoji and placeholders.
PIECES = ["a", "ab", "abc", "the", "late", "flight", "#fail", "<url>", "<user>", "0", "!", "?",
          "é", "ß", "İ", "ΑΣ", "😡", "👍🏽", "☀", "_", "-", "'", "über"]  # fmt: skip
TEXTS = st.lists(st.sampled_from(PIECES + WHITESPACE) | st.text(max_size=4), max_size=30).map(
    "".join
)
CORPUS = [
    "my flight is late again <user> #fail",
    "the flight was great, thanks <user> 😊",
    "lost my bag ! where is it ?",
    "über late, ab abc a 0 <url>",
    "ΑΣ é ß İ 👍🏽 ☀ the the the",
]


def same_csr(fast: sp.csr_matrix, reference: sp.csr_matrix) -> None:
    """Equal as stored: same rows, same sorted indices, same counts."""
    assert fast.shape == reference.shape
    np.testing.assert_array_equal(fast.indptr, reference.indptr)
    np.testing.assert_array_equal(fast.indices, reference.indices)
    np.testing.assert_array_equal(fast.data, reference.data)


def fitted(analyzer: str, ngrams: tuple[int, int], corpus: list[str]) -> TfidfVectorizer:
    word, char = vectorizers(len(corpus), (1, 2), ngrams)
    return (char if analyzer == "char_wb" else word).fit(corpus)


def test_regex_whitespace_is_str_whitespace() -> None:
    # sklearn folds r"\s\s+" runs before str.split(); the two agree on what whitespace is.
    regex = [chr(c) for c in range(0x110000) if re.fullmatch(r"\s", chr(c))]
    assert regex == WHITESPACE


def test_no_token_or_language_word_spans_whitespace() -> None:
    tokens, words = re.compile(TOKEN_PATTERN), language._WORD
    for space in WHITESPACE:
        text = f"a{space}#b{space}<url>{space}😡{space}www.x{space}¿y"
        assert tokens.findall(text) == ["a", "#b", "<url>", "😡", "www", "x", "y"]
        assert [w for w in words.findall(text) if w] == ["a", "url", "¿", "y"]


@given(text=TEXTS, low=st.integers(1, 4), extra=st.integers(0, 3))
def test_char_wb_ngrams_are_sklearns(text: str, low: int, extra: int) -> None:
    vectorizer = CountVectorizer(
        analyzer="char_wb", ngram_range=(low, low + extra), lowercase=False
    )
    assert char_wb_ngrams(text, low, low + extra) == vectorizer.build_analyzer()(text)


@pytest.mark.parametrize(
    ("analyzer", "ngrams"), [("char_wb", (3, 5)), ("char_wb", (1, 2)), ("word", (1, 2))]
)
@settings(max_examples=60)
@given(batches=st.lists(st.lists(TEXTS, max_size=6), min_size=1, max_size=4))
def test_counts_are_sklearns_batch_after_batch(
    analyzer: str, ngrams: tuple[int, int], batches: list[list[str]]
) -> None:
    # Given a vectorizer fitted on a small corpus, and its fast counter with a tiny memory
    vectorizer = fitted(analyzer, ngrams, CORPUS)
    counter = term_counts(vectorizer)
    assert isinstance(counter, CharWbCounts | WordCounts)
    counter._max_chunks = 4  # the memory starts afresh often
    # When batches are counted one after the other, reusing (and dropping) what it remembers
    for batch in [*batches, CORPUS]:
        # Then every batch's counts are sklearn's, stored the same way
        same_csr(counter(batch), CountVectorizer.transform(vectorizer, batch))


def test_counts_are_sklearns_on_airline_tweets() -> None:
    path = shared_data("airline_sentiment/Tweets.csv")
    texts = [normalize(m.text) for _, m in zip(range(3000), airline_tweets(path), strict=False)]
    # Given vectorizers fitted as training does (rare terms dropped: numpy ids in the vocabulary)
    word, char = vectorizers(1000, (1, 2), (3, 5))
    for vectorizer in (word.fit(texts[:1000]), char.fit(texts[:1000])):
        counter = term_counts(vectorizer)
        # Then counts of unseen tweets, batch after batch, are sklearn's
        for start in range(1000, 3000, 512):
            batch = texts[start : start + 512]
            same_csr(counter(batch), CountVectorizer.transform(vectorizer, batch))


def test_other_token_patterns_count_the_sklearn_way() -> None:
    vectorizer = TfidfVectorizer(token_pattern=r"\S+ \S+|\w+", lowercase=False).fit(CORPUS)
    counter = term_counts(vectorizer)
    assert not isinstance(counter, WordCounts)
    same_csr(counter(CORPUS), CountVectorizer.transform(vectorizer, CORPUS))


# URLs, handles, digits (any script) and letters whose lowercase depends on their neighbours.
NORMALIZE_PIECES = ["https://t.co/x1", "http://a.b/@c", "www.x.nl/ab", "@United", "@a@b",
                    "#Ab12", "Flight 123", "٣٤", "ΟΔΟΣ", "ΑΣ.", "Σ", "İstanbul", "ǅ", "ẞ", "ﬃ",
                    "<url>"]  # fmt: skip


def test_lowercasing_keeps_whitespace_where_it_was() -> None:
    for c in map(chr, range(0x110000)):
        lowered = c.lower()
        if c.isspace():
            assert lowered.isspace()
        else:
            assert not any(x.isspace() for x in lowered)


@given(
    batches=st.lists(
        st.lists(
            st.lists(st.sampled_from(NORMALIZE_PIECES + WHITESPACE[:10]) | st.text(max_size=4)).map(
                "".join
            ),
            max_size=6,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_normalized_chunks_are_those_of_the_normalized_texts(batches: list[list[str]]) -> None:
    chunker = NormalizedChunks(max_chunks=5)  # the memory starts afresh often
    for texts in batches:
        chunks = chunker(texts)
        split = [normalize(t).split() for t in texts]
        assert chunks.per_text == [len(s) for s in split]
        assert chunks.flat == [chunk for s in split for chunk in s]


def reference_scores(text: str) -> list[float]:
    """Language evidence the plain way: every word of the text, then every pattern in turn."""
    words = language._WORD.findall(text.lower())
    scores = [0.0] * len(language.LANGUAGES)
    for word in words:
        for position in language._WORD_LANGUAGES.get(word, ()):
            scores[position] += 1.0
    for pattern in language._PATTERN.findall(" ".join(words)):
        for position, weight in language._PATTERN_VOTES[pattern]:
            scores[position] += weight
    return scores


LANGUAGE_PIECES = ["the", "de", "het", "der", "le", "el", "thing", "schön", "lijk", "heid",
                   "ción", "eau", "tje", "sch", "aa", "ij", "@de", "#het", "https://x.nl/de",
                   "¿", "¡", "Ñ", "É"]  # fmt: skip


@given(st.lists(st.sampled_from(LANGUAGE_PIECES + WHITESPACE) | st.text(max_size=5), max_size=40))
def test_language_evidence_is_the_plain_sum(pieces: list[str]) -> None:
    text = "".join(pieces)
    scores = reference_scores(text)
    # The same floats, bit for bit: ties and confidences depend on them
    assert language._scores(text) == scores
    assert language._scores(text) == scores  # and again, from the memory
    best = max(scores)
    if best >= 1.0 and scores.count(best) == 1:
        total = sum(math.exp(1.5 * (s - best)) for s in scores)
        assert language.detect_language(text) == (language.LANGUAGES[scores.index(best)], 1 / total)


def test_tags_are_those_of_the_sklearn_counting_path() -> None:
    # Given a classifier, and a copy of it that counts terms with sklearn's own transform
    texts, labels = synthetic_set()
    fast = MentionClassifier.fit(texts, labels)
    plain = copy.copy(fast)
    plain._word_counts = partial(CountVectorizer.transform, fast._word)
    plain._char_counts = partial(CountVectorizer.transform, fast._char)
    taxonomy = Taxonomy.model_validate(
        {
            "topics": {t: {"handling_minutes": 5} for t in [*set(labels["topic"]), "unknown"]},
            "urgency": {u.value: {"sla_minutes": 60, "weight": 1} for u in Urgency},
        }
    )
    posts = [*texts, "where is my parcel?? @shop", "charged twice!! 😡 fraud", "", "😊😊", "ok"]
    mentions = [mention(f"m{i}", T0 + minutes(i), text=t) for i, t in enumerate(posts)]
    # When both tag the same mentions in batches
    tagged = [Tagger(m, taxonomy, policy=UrgencyPolicy()).tag(mentions[:7]) for m in (fast, plain)]
    tagged += [Tagger(m, taxonomy, policy=UrgencyPolicy()).tag(mentions[7:]) for m in (fast, plain)]
    # Then every classification is the same, confidences included
    assert tagged[0] == tagged[1]
    assert tagged[2] == tagged[3]


KEYWORD_PIECES = ["caught fire", "on  fire", "on\tfire", "fire", "hacked", "the press", "@fraud",
                  "#scam", "injured", "lawyers", "in brand", "de pers", "smoke", "legal action now",
                  "legal action nowhere", "x-ray", "o'neil", "gehackt", "sue", "pursue",
                  "court!"]  # fmt: skip
POLICIES = [
    UrgencyPolicy(),
    UrgencyPolicy(
        keywords={
            "legal": KeywordRule(at_least=Urgency.HIGH, words=["legal action now*", "x-ray"]),
            "press": KeywordRule(at_least=Urgency.CRITICAL, words=["o'neil", "the   press"]),
        }
    ),
]


def plain_keywords(assessor: UrgencyAssessor, text: str) -> list[tuple[str, str]]:
    """The first keyword of each kind the plain way: the whole-text pattern over every text."""
    assert assessor._keywords is not None
    first: dict[str, str] = {}
    for found in assessor._keywords.finditer(text.lower()):
        for name, pattern in assessor._kinds:
            if name not in first and pattern.match(found.group()):
                first[name] = " ".join(found.group().split())
    return [(name, first[name]) for name, _ in assessor._kinds if name in first]


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=150)
@given(
    texts=st.lists(
        st.lists(st.sampled_from(KEYWORD_PIECES + WHITESPACE[:8]) | st.text(max_size=4)).map(
            "".join
        ),
        max_size=8,
    )
)
def test_keywords_found_are_those_of_the_whole_text_pattern(
    policy: UrgencyPolicy, texts: list[str]
) -> None:
    assessor = UrgencyAssessor(policy)
    for text in [*texts, *texts]:  # the second time from the memory of chunks
        assert assessor._keywords_in(text) == plain_keywords(assessor, text)
