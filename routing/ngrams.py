"""Term counts against a fitted vocabulary, as ``CountVectorizer.transform`` gives them, faster.

sklearn's analyzers build every n-gram of every text one by one in Python. Here a word's
``char_wb`` n-grams are looked up once and their vocabulary ids remembered (tweets repeat
words a lot), and word unigrams and bigrams are looked up in one pass over the whole batch.
The counts are exactly sklearn's: same terms, same counts, indices sorted within each row.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import cast

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

__all__ = ["CharWbCounts", "Counts", "WordCounts", "char_wb_ngrams", "term_counts"]

Counts = Callable[[Sequence[str]], sp.csr_matrix]

# About 0.2 kB a word (key, ids, table slot): at most ~15 MB, then the memory starts afresh.
MAX_WORDS = 65_536
_ID = np.dtype(np.int32)


def term_counts(vectorizer: TfidfVectorizer) -> Counts:
    """The fastest exact way to count ``vectorizer``'s terms; sklearn's own for other settings."""
    low, high = vectorizer.ngram_range
    if vectorizer.analyzer == "char_wb":
        return CharWbCounts(vectorizer.vocabulary_, low, high)
    if vectorizer.analyzer == "word" and low == 1 and high <= 2:
        pattern = re.compile(vectorizer.token_pattern)
        return WordCounts(vectorizer.vocabulary_, pattern, bigrams=high == 2)
    return partial(CountVectorizer.transform, vectorizer)


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """sklearn's ``char_wb`` analyzer: the n-grams of each whitespace-separated word, padded."""
    sizes = range(low, high + 1)
    return [gram for word in text.split() for gram in _padded_grams(f" {word} ", sizes)]


def _padded_grams(padded: str, sizes: range) -> list[str]:
    width = len(padded)
    if width > sizes.stop - 1:  # longer than every n-gram: all of them, in one comprehension
        return [padded[i : i + n] for n in sizes for i in range(width - n + 1)]
    grams: list[str] = []
    for n in sizes:
        if width <= n:  # a padded word no longer than n counts once, whole, and ends the word
            grams.append(padded)
            break
        grams.extend([padded[i : i + n] for i in range(width - n + 1)])
    return grams


def _csr(ids: np.ndarray, indptr: np.ndarray, width: int) -> sp.csr_matrix:
    """Rows of term ids (repeats allowed) as counts, indices sorted, as sklearn leaves them."""
    ones = np.ones(len(ids), dtype=np.float64)
    matrix = sp.csr_matrix((ones, ids, indptr), shape=(len(indptr) - 1, width))
    matrix.sum_duplicates()
    return matrix


class CharWbCounts:
    """``char_wb`` n-gram counts; each word's known n-gram ids are remembered (bounded)."""

    def __init__(
        self, vocabulary: Mapping[str, int], low: int, high: int, *, max_words: int = MAX_WORDS
    ) -> None:
        self._lookup = vocabulary.get
        self._width = len(vocabulary)
        self._sizes = range(low, high + 1)
        self._max_words = max_words
        self._ids: dict[str, bytes] = {}  # word -> its known n-gram ids, as int32 bytes

    def __call__(self, texts: Sequence[str]) -> sp.csr_matrix:
        split = [text.split() for text in texts]
        words = list(itertools.chain.from_iterable(split))
        found = list(map(self._ids.get, words))
        blobs = self._learn(words, found) if None in found else cast("list[bytes]", found)
        ids = np.frombuffer(b"".join(blobs), dtype=_ID).copy()  # writable: sorting is in place
        per_word = np.fromiter(map(len, blobs), np.int64, len(blobs)) // _ID.itemsize
        ends = np.concatenate([[0], np.cumsum(per_word)])
        word_ends = np.concatenate([[0], np.cumsum([len(s) for s in split], dtype=np.int64)])
        return _csr(ids, ends[word_ends], self._width)

    def _learn(self, words: list[str], blobs: list[bytes | None]) -> list[bytes]:
        """``blobs`` with the ids of the words not remembered yet, looked up in one pass."""
        new = list(dict.fromkeys(w for w, b in zip(words, blobs, strict=True) if b is None))
        grams = [_padded_grams(f" {word} ", self._sizes) for word in new]
        flat = list(itertools.chain.from_iterable(grams))
        ids = np.fromiter(map(self._lookup, flat, itertools.repeat(-1)), _ID, len(flat))
        known = ids >= 0
        seen = np.concatenate([[0], np.cumsum(known)]) * _ID.itemsize
        bounds = np.concatenate([[0], np.cumsum([len(g) for g in grams])])
        data = ids[known].tobytes()
        starts, ends = seen[bounds[:-1]].tolist(), seen[bounds[1:]].tolist()
        learned = {w: data[a:b] for w, a, b in zip(new, starts, ends, strict=True)}
        if len(self._ids) + len(learned) > self._max_words:
            self._ids.clear()
        self._ids.update(learned)
        return [learned[w] if b is None else b for w, b in zip(words, blobs, strict=True)]

    @property
    def remembered_words(self) -> int:
        return len(self._ids)


class WordCounts:
    """Token (and adjacent token pair) counts, every lookup of a batch in one pass.

    A bigram term ``"a b"`` is looked up as the pair ``("a", "b")``, which saves building its
    string; that is the same lookup as long as no token holds a space, which is checked.
    """

    def __init__(
        self, vocabulary: Mapping[str, int], pattern: re.Pattern[str], *, bigrams: bool
    ) -> None:
        self._lookup = vocabulary.get
        self._width = len(vocabulary)
        self._findall = pattern.findall
        self._bigrams = bigrams
        self._pairs: dict[tuple[str, ...], int] = {}
        if bigrams:
            terms = vocabulary.items()
            self._pairs = {tuple(term.split(" ", 1)): i for term, i in terms if " " in term}

    def __call__(self, texts: Sequence[str]) -> sp.csr_matrix:
        tokens: list[list[str]] = list(map(self._findall, texts))
        lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
        flat = list(itertools.chain.from_iterable(tokens))
        rows = np.repeat(np.arange(len(texts)), lengths)
        ids = np.fromiter(map(self._lookup, flat, itertools.repeat(-1)), np.int64, len(flat))
        if self._bigrams and len(flat) > 1:
            bigram_ids = self._bigram_ids(flat)
            starts = np.cumsum(lengths)[:-1]
            # The pair of a text's last token and the next text's first is no bigram.
            bigram_ids[starts[(starts > 0) & (starts < len(flat))] - 1] = -1
            ids = np.concatenate([ids, bigram_ids])
            rows = np.concatenate([rows, rows[:-1]])
        known = ids >= 0
        shape = (len(texts), self._width)
        counts = sp.coo_matrix((np.ones(int(known.sum())), (rows[known], ids[known])), shape)
        return counts.tocsr()  # sums repeated terms into counts, indices sorted per row

    def _bigram_ids(self, flat: list[str]) -> np.ndarray:
        n = len(flat) - 1
        if " " in "\n".join(flat):  # a token with a space: only the joined string is exact
            joined = map(" ".join, itertools.pairwise(flat))
            return np.fromiter(map(self._lookup, joined, itertools.repeat(-1)), np.int64, n)
        pairs = itertools.pairwise(flat)
        return np.fromiter(map(self._pairs.get, pairs, itertools.repeat(-1)), np.int64, n)
