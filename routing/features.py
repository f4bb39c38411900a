"""Text features for the classifier: normalization, the n-gram vectorizers, a fast transform."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from routing.ngrams import (
    MAX_CHUNKS,
    TOKEN_PATTERN,
    Chunks,
    Counts,
    chunks_of,
    ends,
    term_counts,
)

__all__ = ["TOKEN_PATTERN", "NormalizedChunks", "normalize", "tfidf", "vectorizers", "weigh"]

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")
# Above this size rare n-grams are noise that bloats the model; below it they may be all we have.
_MIN_DF_THRESHOLD = 500


def normalize(text: str) -> str:
    """Lowercase, and fold URLs, @handles and digit runs so they generalize across tweets."""
    text = _URL.sub(" <url> ", text.lower())
    return _DIGITS.sub("0", _HANDLE.sub(" <user> ", text))


def vectorizers(
    n_texts: int, word_ngrams: tuple[int, int], char_ngrams: tuple[int, int]
) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    """Word and character TF-IDF vectorizers; rare n-grams dropped once the set is large."""
    min_df = 2 if n_texts >= _MIN_DF_THRESHOLD else 1
    common: dict[str, Any] = {"lowercase": False, "sublinear_tf": True, "min_df": min_df}
    word = TfidfVectorizer(token_pattern=TOKEN_PATTERN, ngram_range=word_ngrams, **common)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=char_ngrams, **common)
    return word, char


def tfidf(
    vectorizer: TfidfVectorizer, texts: Sequence[str], counts: Counts | None = None
) -> sp.csr_matrix:
    """``vectorizer.transform(texts)`` for our settings (sublinear tf, idf, l2), minus its checks.

    ``counts`` counts the terms (``term_counts(vectorizer)`` when not given; keep one to reuse
    what it remembers).
    """
    return weigh(vectorizer, (counts if counts is not None else term_counts(vectorizer))(texts))


def weigh(vectorizer: TfidfVectorizer, matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Term counts (sorted indices) as ``vectorizer``'s TF-IDF rows, in place.

    sklearn's per-call validation costs more than the arithmetic for small batches.
    """
    n = matrix.shape[0]
    data = matrix.data
    np.log(data, out=data)
    data += 1.0
    data *= vectorizer.idf_[matrix.indices]
    lengths = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(n), lengths)
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=n))
    norms[norms == 0.0] = 1.0
    data /= np.repeat(norms, lengths)
    return matrix


Parts = tuple[str, ...]


class NormalizedChunks:
    """The chunks of each ``normalize(text)`` of a batch; each raw chunk is normalized once.

    Lowercasing and folding URLs, handles and digits never reach across whitespace, so the
    chunks of a normalized text are its raw chunks' normalized chunks, in turn.
    """

    def __init__(self, *, max_chunks: int = MAX_CHUNKS) -> None:
        self._max_chunks = max_chunks
        self._normalized: dict[str, Parts] = {}

    def __call__(self, texts: Sequence[str]) -> Chunks:
        raw = chunks_of(texts)
        found = list(map(self._normalized.get, raw.flat))
        parts = self._learn(raw.flat, found) if None in found else cast("list[Parts]", found)
        sizes = np.fromiter(map(len, parts), np.int64, len(parts))
        bounds = ends(sizes)[ends(raw.per_text)]  # where each text's normalized chunks end
        return Chunks(list(itertools.chain.from_iterable(parts)), np.diff(bounds).tolist())

    def _learn(self, chunks: list[str], found: list[Parts | None]) -> list[Parts]:
        missing = (c for c, f in zip(chunks, found, strict=True) if f is None)
        learned = {c: tuple(normalize(c).split()) for c in missing}
        if len(self._normalized) + len(learned) > self._max_chunks:
            self._normalized.clear()
        self._normalized.update(learned)
        return [learned[c] if f is None else f for c, f in zip(chunks, found, strict=True)]
