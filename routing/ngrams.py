"""Term counts against a fitted vocabulary, as ``CountVectorizer.transform`` gives them, faster.

sklearn's analyzers build every n-gram of every text one by one in Python. Here each
whitespace-separated chunk of text is analyzed once and its terms remembered as numbers
(posts repeat words a lot), and a batch's counts are assembled from them with numpy. That
is exact because neither a ``char_wb`` n-gram nor a token of ``TOKEN_PATTERN`` spans
whitespace: same terms, same counts, indices sorted within each row.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import NamedTuple, cast

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

__all__ = [
    "TOKEN_PATTERN",
    "CharWbCounts",
    "ChunkCounts",
    "Chunks",
    "Counts",
    "WordCounts",
    "char_wb_ngrams",
    "chunks_of",
    "ends",
    "term_counts",
]

# Placeholders survive as single tokens; hashtags keep their "#"; "!" and "?" and emoji carry tone.
# A regex (not a tokenizer function) keeps code references out of the model file.
TOKEN_PATTERN = r"<url>|<user>|#?\w+|[!?]|[\U0001F300-\U0001FAFF\u2600-\u27BF]"
_TOKENS = re.compile(TOKEN_PATTERN)

Counts = Callable[[Sequence[str]], sp.csr_matrix]

# About 0.2 kB a chunk (key, numbers, table slot): ~15 MB at most, then the memory starts afresh.
MAX_CHUNKS = 65_536
_ID = np.dtype(np.int32)


def term_counts(vectorizer: TfidfVectorizer) -> Counts:
    """The fastest exact way to count ``vectorizer``'s terms; sklearn's own for other settings."""
    low, high = vectorizer.ngram_range
    if vectorizer.analyzer == "char_wb":
        return CharWbCounts(vectorizer.vocabulary_, low, high)
    ours = vectorizer.analyzer == "word" and vectorizer.token_pattern == TOKEN_PATTERN
    if ours and low == 1 and high <= 2:
        return WordCounts(vectorizer.vocabulary_, bigrams=high == 2)
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


class Chunks(NamedTuple):
    """A batch's whitespace-separated chunks in order, and how many of them each text has."""

    flat: list[str]
    per_text: list[int]


def chunks_of(texts: Sequence[str]) -> Chunks:
    """The whitespace-separated chunks of ``texts``, as ``str.split()`` gives them."""
    split = [text.split() for text in texts]
    return Chunks(list(itertools.chain.from_iterable(split)), [len(s) for s in split])


def ends(sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """0 and the running totals of ``sizes``: where each part starts, and the last one ends."""
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])


class ChunkCounts:
    """Counts terms chunk by chunk, remembering each chunk's term numbers (as int32 bytes).

    The memory holds up to ``max_chunks`` chunks, then starts afresh: counts never depend on it.
    """

    def __init__(self, numbering: Mapping[str, int], *, known_only: bool, max_chunks: int) -> None:
        self._lookup = numbering.get
        self._known_only = known_only  # else an unknown term is kept, as -1
        self._max_chunks = max_chunks
        self._packed: dict[str, bytes] = {}

    def terms(self, chunk: str) -> Iterable[str]:
        raise NotImplementedError

    def __call__(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.count(chunks_of(texts))

    def count(self, chunks: Chunks) -> sp.csr_matrix:
        """The counts of a batch given as its chunks."""
        raise NotImplementedError

    def numbers(self, chunks: Chunks) -> tuple[np.ndarray, np.ndarray]:
        """The term numbers of a batch, in text order, and where each text's start and end."""
        found = list(map(self._packed.get, chunks.flat))
        packed = self._learn(chunks.flat, found) if None in found else cast("list[bytes]", found)
        numbers = np.frombuffer(b"".join(packed), dtype=_ID).astype(np.int64)
        per_chunk = np.fromiter(map(len, packed), np.int64, len(packed)) // _ID.itemsize
        return numbers, ends(per_chunk)[ends(chunks.per_text)]

    def _learn(self, chunks: list[str], found: list[bytes | None]) -> list[bytes]:
        """``found`` completed by the chunks not remembered yet, looked up in one pass."""
        new = list(dict.fromkeys(c for c, b in zip(chunks, found, strict=True) if b is None))
        terms = [list(self.terms(chunk)) for chunk in new]
        flat = list(itertools.chain.from_iterable(terms))
        numbers = np.fromiter(map(self._lookup, flat, itertools.repeat(-1)), _ID, len(flat))
        kept = numbers >= 0 if self._known_only else np.ones(len(numbers), dtype=bool)
        offsets = ends(kept) * _ID.itemsize  # byte offsets of the kept numbers
        bounds = ends([len(t) for t in terms])
        data = numbers[kept].tobytes()
        starts, stops = offsets[bounds[:-1]].tolist(), offsets[bounds[1:]].tolist()
        learned = {c: data[a:b] for c, a, b in zip(new, starts, stops, strict=True)}
        if len(self._packed) + len(learned) > self._max_chunks:
            self._packed.clear()
        self._packed.update(learned)
        return [learned[c] if b is None else b for c, b in zip(chunks, found, strict=True)]


def _csr(rows: np.ndarray, ids: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    known = ids >= 0
    ones = np.ones(int(known.sum()), dtype=np.float64)
    counts = sp.coo_matrix((ones, (rows[known], ids[known])), shape=shape)
    return counts.tocsr()  # sums repeated terms into counts, indices sorted per row


class CharWbCounts(ChunkCounts):
    """``char_wb`` n-gram counts; each word's known n-gram ids are remembered."""

    def __init__(
        self, vocabulary: Mapping[str, int], low: int, high: int, *, max_chunks: int = MAX_CHUNKS
    ) -> None:
        super().__init__(vocabulary, known_only=True, max_chunks=max_chunks)
        self._width = len(vocabulary)
        self._sizes = range(low, high + 1)

    def terms(self, chunk: str) -> list[str]:
        return _padded_grams(f" {chunk} ", self._sizes)

    def count(self, chunks: Chunks) -> sp.csr_matrix:
        ids, bounds = self.numbers(chunks)  # all known, already grouped by text
        ones = np.ones(len(ids), dtype=np.float64)
        shape = (len(chunks.per_text), self._width)
        counts = sp.csr_matrix((ones, ids, bounds), shape=shape)
        counts.sum_duplicates()  # as tocsr() leaves them: repeats summed, indices sorted
        return counts


class WordCounts(ChunkCounts):
    """Counts of ``TOKEN_PATTERN`` tokens (and adjacent pairs), each chunk tokenized once.

    Every token of a term gets a number; a text's pairs of numbers are looked up among the
    bigram terms' pairs with numpy. Tokens hold no whitespace, so ``"a b"`` is the pair
    ``(a, b)`` and nothing else.
    """

    def __init__(
        self, vocabulary: Mapping[str, int], *, bigrams: bool, max_chunks: int = MAX_CHUNKS
    ) -> None:
        split = (term.split(" ") for term in vocabulary if " " in term) if bigrams else ()
        pairs = [pair for pair in split if len(pair) == 2]
        singles = [term for term in vocabulary if " " not in term]
        tokens = dict.fromkeys(itertools.chain(singles, *pairs))
        numbering = {token: n for n, token in enumerate(tokens)}
        super().__init__(numbering, known_only=False, max_chunks=max_chunks)
        self._width = len(vocabulary)
        # Token number -> unigram id; the extra last slot answers -1 for an unknown token.
        self._unigram = np.full(len(numbering) + 1, -1, dtype=np.int64)
        self._unigram[[numbering[t] for t in singles]] = [vocabulary[t] for t in singles]
        self._base = len(numbering)
        keys = np.array([numbering[a] * self._base + numbering[b] for a, b in pairs], np.int64)
        order = np.argsort(keys)
        self._pair_keys = keys[order]
        ids = np.array([vocabulary[f"{a} {b}"] for a, b in pairs], dtype=np.int64)
        self._pair_ids = ids[order]

    def terms(self, chunk: str) -> list[str]:
        tokens: list[str] = _TOKENS.findall(chunk)
        return tokens

    def count(self, chunks: Chunks) -> sp.csr_matrix:
        numbers, bounds = self.numbers(chunks)
        n = len(chunks.per_text)
        rows = np.repeat(np.arange(n), np.diff(bounds))
        ids = self._unigram[numbers]
        if len(self._pair_ids) and len(numbers) > 1:
            ids = np.concatenate([ids, self._pairs(numbers, bounds)])
            rows = np.concatenate([rows, rows[:-1]])
        return _csr(rows, ids, (n, self._width))

    def _pairs(self, numbers: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """The bigram id of each adjacent pair of tokens (-1: none, or across two texts)."""
        first, second = numbers[:-1], numbers[1:]
        keys = first * self._base + second
        at = np.minimum(np.searchsorted(self._pair_keys, keys), len(self._pair_keys) - 1)
        found = (first >= 0) & (second >= 0) & (self._pair_keys[at] == keys)
        starts = bounds[1:-1]
        found[starts[(starts > 0) & (starts < len(numbers))] - 1] = False
        return np.where(found, self._pair_ids[at], -1)
