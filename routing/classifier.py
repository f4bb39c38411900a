"""Multi-head mention classifier: shared TF-IDF features, one logistic regression per head.

Its file format (a manifest beside a skops payload, never pickle) is in ``routing.modelformat``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from routing.errors import ModelFormatError, TrainingDataError
from routing.modelformat import FORMAT_NAME, FORMAT_VERSION, library_versions, pack, unpack

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")
# Placeholders survive as single tokens; hashtags keep their "#"; "!" and "?" and emoji carry tone.
# A regex (not a tokenizer function) keeps code references out of the model file.
_TOKEN_PATTERN = r"<url>|<user>|#?\w+|[!?]|[\U0001F300-\U0001FAFF\u2600-\u27BF]"
# Above this size rare n-grams are noise that bloats the model; below it they may be all we have.
_MIN_DF_THRESHOLD = 500

PARAMS: dict[str, Any] = {
    "features": 1,
    "word_ngrams": [1, 2],
    "char_ngrams": [3, 5],
    "C": 5.0,
    "solver": "liblinear-ovr",
}


def normalize(text: str) -> str:
    """Lowercase, and fold URLs, @handles and digit runs so they generalize across tweets."""
    text = _URL.sub(" <url> ", text.lower())
    return _DIGITS.sub("0", _HANDLE.sub(" <user> ", text))


def _vectorizers(n_texts: int) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    min_df = 2 if n_texts >= _MIN_DF_THRESHOLD else 1
    common: dict[str, Any] = {"lowercase": False, "sublinear_tf": True, "min_df": min_df}
    word = TfidfVectorizer(
        token_pattern=_TOKEN_PATTERN, ngram_range=tuple(PARAMS["word_ngrams"]), **common
    )
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(PARAMS["char_ngrams"]), **common)
    return word, char


def _head_model(random_state: int) -> OneVsRestClassifier:
    # liblinear one-vs-rest fits 4-5x faster than lbfgs/saga multinomial on sparse tweets, same
    # accuracy; liblinear shuffles, so random_state makes it deterministic.
    base = LogisticRegression(
        C=PARAMS["C"], class_weight="balanced", solver="liblinear", random_state=random_state
    )
    return OneVsRestClassifier(base)


def _check_labels(n_texts: int, labels: Mapping[str, Sequence[str]]) -> None:
    if n_texts == 0:
        raise TrainingDataError("no training texts given")
    if not labels:
        raise TrainingDataError("no label heads given: need at least one, e.g. 'topic'")
    for head, values in labels.items():
        if len(values) != n_texts:
            raise TrainingDataError(f"head {head!r} has {len(values)} labels for {n_texts} texts")
        classes = sorted({str(v) for v in values})
        if len(classes) < 2:
            found = repr(classes[0]) if classes else "none"
            raise TrainingDataError(
                f"head {head!r} has a single class ({found}): it needs at least two to learn from"
            )


def content_hash(texts: Sequence[str], labels: Mapping[str, Sequence[str]]) -> str:
    """A sha256 over texts and labels, for models fitted without a data-file hash."""
    payload = {
        "texts": list(texts),
        "labels": {h: [str(v) for v in vs] for h, vs in labels.items()},
    }
    return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()


def model_version(heads: Mapping[str, Sequence[str]], data_hash: str, params: Any) -> str:
    """The short stable id of a model: same heads, data and parameters give the same id."""
    payload = {"heads": {h: list(c) for h, c in heads.items()}, "data": data_hash, "params": params}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:12]


class MentionClassifier:
    """Tags texts on several heads (topic, urgency, sentiment, ...) from one shared feature matrix.

    Build one with :meth:`fit` or :meth:`from_bytes`; the constructor takes fitted parts.
    """

    def __init__(
        self,
        word: TfidfVectorizer,
        char: TfidfVectorizer,
        models: Mapping[str, OneVsRestClassifier],
        *,
        data_hash: str,
        params: Mapping[str, Any],
    ) -> None:
        self._word = word
        self._char = char
        self._models = dict(models)
        self.heads: dict[str, list[str]] = {
            head: [str(c) for c in model.classes_] for head, model in self._models.items()
        }
        self.data_hash = data_hash
        self.params: dict[str, Any] = dict(params)
        self.version = model_version(self.heads, data_hash, self.params)
        weights, self._bias, self._slices = _stack_heads(self._models)
        split = len(word.idf_)
        self._word_weights = np.ascontiguousarray(weights[:split])
        self._char_weights = np.ascontiguousarray(weights[split:])

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Mapping[str, Sequence[str]],
        *,
        data_hash: str = "",
        random_state: int = 0,
    ) -> MentionClassifier:
        """Train one logistic regression per head on features shared by all heads.

        Without ``data_hash`` the model is identified by a hash of the texts and labels.
        """
        _check_labels(len(texts), labels)
        normalized = [normalize(t) for t in texts]
        word, char = _vectorizers(len(normalized))
        matrix = sp.hstack(
            [word.fit_transform(normalized), char.fit_transform(normalized)], format="csr"
        )
        models = {
            head: _head_model(random_state).fit(matrix, [str(v) for v in values])
            for head, values in labels.items()
        }
        params = {**PARAMS, "min_df": word.min_df, "random_state": random_state}
        data_hash = data_hash or content_hash(texts, labels)
        return cls(word, char, models, data_hash=data_hash, params=params)

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The shared feature matrix of a batch, one row per text."""
        normalized = [normalize(t) for t in texts]
        blocks = [_tfidf(self._word, normalized), _tfidf(self._char, normalized)]
        return sp.hstack(blocks, format="csr")

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Head -> probabilities (one row per text, columns in ``heads[head]`` order)."""
        normalized = [normalize(t) for t in texts]
        # Two products instead of one over a stacked matrix: hstack costs more than it saves.
        scores = _tfidf(self._word, normalized) @ self._word_weights
        scores += _tfidf(self._char, normalized) @ self._char_weights
        scores += self._bias
        return {head: _ovr_proba(scores[:, part]) for head, part in self._slices.items()}

    def classify_batch(self, texts: Sequence[str]) -> list[dict[str, tuple[str, float]]]:
        """Per text, head -> (label, probability of that label); vectorizes the batch once."""
        if not texts:
            return []
        results: list[dict[str, tuple[str, float]]] = [{} for _ in texts]
        rows = np.arange(len(texts))
        for head, proba in self.predict_proba(texts).items():
            best = proba.argmax(axis=1)
            labels = [self.heads[head][i] for i in best.tolist()]
            for result, label, p in zip(results, labels, proba[rows, best].tolist(), strict=True):
                result[head] = (label, p)
        return results

    def classify(self, text: str) -> dict[str, tuple[str, float]]:
        """Head -> (label, probability) for one text."""
        return self.classify_batch([text])[0]

    def estimator(self, head: str) -> OneVsRestClassifier:
        """The fitted scikit-learn estimator of one head."""
        return self._models[head]

    def to_bytes(self) -> bytes:
        """The model as a mention-router model file: a zip with a manifest and a skops payload."""
        payload = {
            "word": _without_vocabulary(self._word),
            "char": _without_vocabulary(self._char),
            "word_terms": "\n".join(self._word.get_feature_names_out().tolist()),
            "char_terms": "\n".join(self._char.get_feature_names_out().tolist()),
            "heads": self._models,
            "data_hash": self.data_hash,
            "params": json.dumps(self.params, sort_keys=True),
        }
        return pack(self.manifest(), payload)

    def manifest(self) -> dict[str, Any]:
        """What a model file says about itself, readable without loading the model."""
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "heads": self.heads,
            "version": self.version,
            "data_hash": self.data_hash,
            "libraries": library_versions(),
        }

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "data") -> MentionClassifier:
        """Load a model file written by :meth:`to_bytes`, refusing foreign or untrusted content.

        ``source`` names the data in error messages (a path, usually).
        """
        manifest, payload = unpack(data, source=source)
        word, char = payload["word"], payload["char"]
        word.vocabulary_ = _vocabulary(payload["word_terms"])
        char.vocabulary_ = _vocabulary(payload["char_terms"])
        params = json.loads(payload["params"])
        clf = cls(word, char, payload["heads"], data_hash=payload["data_hash"], params=params)
        if clf.heads != manifest["heads"] or clf.version != manifest["version"]:
            raise ModelFormatError(f"{source}: manifest and model payload disagree")
        return clf


def _stack_heads(
    models: Mapping[str, OneVsRestClassifier],
) -> tuple[np.ndarray, np.ndarray, dict[str, slice]]:
    # One sparse-dense product scores every head at once; the hot path skips sklearn's checks.
    columns: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    slices: dict[str, slice] = {}
    start = 0
    for head, model in models.items():
        coef = np.vstack([e.coef_ for e in model.estimators_])
        columns.append(coef.T)
        biases.append(np.concatenate([e.intercept_ for e in model.estimators_]))
        slices[head] = slice(start, start + coef.shape[0])
        start += coef.shape[0]
    weights = np.ascontiguousarray(np.hstack(columns), dtype=np.float64)
    return weights, np.concatenate(biases), slices


def _tfidf(vectorizer: TfidfVectorizer, texts: list[str]) -> sp.csr_matrix:
    """``vectorizer.transform(texts)`` for our settings (sublinear tf, idf, l2), minus its checks.

    sklearn's per-call validation costs more than the arithmetic for small batches.
    """
    matrix = CountVectorizer.transform(vectorizer, texts)
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


def _ovr_proba(scores: np.ndarray) -> np.ndarray:
    """Probabilities exactly as ``OneVsRestClassifier.predict_proba`` computes them."""
    positive: np.ndarray = expit(scores)
    if positive.shape[1] == 1:
        return np.hstack([1 - positive, positive])
    sums = positive.sum(axis=1, keepdims=True)
    np.divide(positive, sums, out=positive, where=sums != 0)
    return positive


def _without_vocabulary(vectorizer: TfidfVectorizer) -> TfidfVectorizer:
    # skops writes a dict entry as ~200 bytes of JSON; the terms travel as one string instead.
    clone = copy.copy(vectorizer)
    del clone.vocabulary_
    return clone


def _vocabulary(terms: str) -> dict[str, int]:
    return {term: index for index, term in enumerate(terms.split("\n"))} if terms else {}
