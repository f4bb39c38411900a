"""Text features for the classifier: normalization, the n-gram vectorizers, a fast transform."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from routing.ngrams import TOKEN_PATTERN, Counts, term_counts

__all__ = ["TOKEN_PATTERN", "normalize", "tfidf", "vectorizers"]

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

    sklearn's per-call validation costs more than the arithmetic for small batches. ``counts``
    counts the terms (``term_counts(vectorizer)`` when not given; keep one to reuse its memory).
    """
    matrix = (counts if counts is not None else term_counts(vectorizer))(texts)
    data = matrix.data
    np.log(data, out=data)
    data += 1.0
    data *= vectorizer.idf_[matrix.indices]
    lengths = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(len(texts)), lengths)
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(texts)))
    norms[norms == 0.0] = 1.0
    data /= np.repeat(norms, lengths)
    return matrix
