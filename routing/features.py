"""Text features for the classifier: normalization, the n-gram vectorizers, a fast transform."""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

__all__ = ["TOKEN_PATTERN", "normalize", "tfidf", "vectorizers"]

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")
# Placeholders survive as single tokens; hashtags keep their "#"; "!" and "?" and emoji carry tone.
# A regex (not a tokenizer function) keeps code references out of the model file.
TOKEN_PATTERN = r"<url>|<user>|#?\w+|[!?]|[\U0001F300-\U0001FAFF\u2600-\u27BF]"
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
    vectorizer: TfidfVectorizer, texts: list[str], tokens: re.Pattern[str] | None = None
) -> sp.csr_matrix:
    """``vectorizer.transform(texts)`` for our settings (sublinear tf, idf, l2), minus its checks.

    sklearn's per-call validation costs more than the arithmetic for small batches.
    """
    matrix = _counts(vectorizer, texts, tokens)
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


def _counts(
    vectorizer: TfidfVectorizer, texts: list[str], tokens: re.Pattern[str] | None
) -> sp.csr_matrix:
    """The term counts of ``texts``, as ``CountVectorizer.transform`` gives them, but faster.

    sklearn's analyzers append n-grams one by one; list comprehensions and one lookup pass
    over the whole batch do the same work in about half the time.
    """
    low, high = vectorizer.ngram_range
    if vectorizer.analyzer == "char_wb":
        grams = [_char_wb_grams(text, low, high) for text in texts]
    elif vectorizer.analyzer == "word" and tokens is not None and high <= 2:
        grams = [_word_grams(tokens, text, high) for text in texts]
    else:
        return CountVectorizer.transform(vectorizer, texts)
    # One lookup pass over the whole batch; -1 marks a term outside the vocabulary.
    flat = list(itertools.chain.from_iterable(grams))
    misses = itertools.repeat(-1, len(flat))
    lookup = vectorizer.vocabulary_.get
    ids = np.fromiter(map(lookup, flat, misses), np.int64, len(flat))
    rows = np.repeat(np.arange(len(texts)), [len(doc) for doc in grams])
    known = ids >= 0
    ones = np.ones(int(known.sum()), dtype=np.float64)
    shape = (len(texts), len(vectorizer.vocabulary_))
    matrix = sp.coo_matrix((ones, (rows[known], ids[known])), shape=shape)
    return matrix.tocsr()  # sums repeated terms into counts, indices sorted per row


def _char_wb_grams(text: str, low: int, high: int) -> list[str]:
    padded = [f" {word} " for word in text.split()]
    sizes = range(low, high + 1)
    # A word longer than every n-gram gives all its n-grams; one comprehension does them all.
    grams = [
        p[i : i + n] for p in padded if len(p) > high for n in sizes for i in range(len(p) - n + 1)
    ]
    for p in padded:
        if len(p) <= high:
            for n in sizes:
                if len(p) <= n:  # a short word counts once, whole
                    grams.append(p)
                    break
                grams.extend([p[i : i + n] for i in range(len(p) - n + 1)])
    return grams


def _word_grams(pattern: re.Pattern[str], text: str, high: int) -> list[str]:
    tokens: list[str] = pattern.findall(text)
    if high == 2:
        return [*tokens, *[f"{a} {b}" for a, b in itertools.pairwise(tokens)]]
    return tokens
