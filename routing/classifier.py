"""Multi-head mention classifier: shared TF-IDF features, one logistic regression per head."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from routing.errors import TrainingDataError

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")
# Placeholders survive as single tokens; hashtags keep their "#"; "!" and "?" and emoji carry tone.
_TOKEN_PATTERN = r"<url>|<user>|#?\w+|[!?]|[\U0001F300-\U0001FAFF\u2600-\u27BF]"
# Above this size rare n-grams are noise and bloat the model; below it they may be all we have.
_MIN_DF_THRESHOLD = 500

PARAMS: dict[str, Any] = {
    "features": 1,
    "word_ngrams": [1, 2],
    "char_ngrams": [2, 5],
    "C": 5.0,
    "solver": "lbfgs",
    "max_iter": 2000,
}


def normalize(text: str) -> str:
    """Lowercase, and fold URLs, @handles and digit runs so they generalize across tweets."""
    text = _URL.sub(" <url> ", text.lower())
    return _DIGITS.sub("0", _HANDLE.sub(" <user> ", text))


def _vectorizers(n_texts: int) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    min_df = 2 if n_texts >= _MIN_DF_THRESHOLD else 1
    word = TfidfVectorizer(
        lowercase=False,
        token_pattern=_TOKEN_PATTERN,
        ngram_range=tuple(PARAMS["word_ngrams"]),
        sublinear_tf=True,
        min_df=min_df,
        dtype=np.float64,
    )
    char = TfidfVectorizer(
        lowercase=False,
        analyzer="char_wb",
        ngram_range=tuple(PARAMS["char_ngrams"]),
        sublinear_tf=True,
        min_df=min_df,
        dtype=np.float64,
    )
    return word, char


def _check_labels(n_texts: int, labels: Mapping[str, Sequence[str]]) -> None:
    if n_texts == 0:
        raise TrainingDataError("no training texts given")
    if not labels:
        raise TrainingDataError("no label heads given: need at least one, e.g. 'topic'")
    for head, values in labels.items():
        if len(values) != n_texts:
            raise TrainingDataError(f"head {head!r} has {len(values)} labels for {n_texts} texts")
        classes = sorted(set(values))
        if len(classes) < 2:
            found = repr(classes[0]) if classes else "none"
            raise TrainingDataError(
                f"head {head!r} has a single class ({found}): it needs at least two to learn from"
            )


def content_hash(texts: Sequence[str], labels: Mapping[str, Sequence[str]]) -> str:
    """A sha256 over texts and labels, for models fitted without a data-file hash."""
    payload = json.dumps({"texts": list(texts), "labels": {h: list(v) for h, v in labels.items()}})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def model_version(heads: Mapping[str, Sequence[str]], data_hash: str, params: Any) -> str:
    """The short stable id of a model: same heads, data and parameters give the same id."""
    payload = json.dumps(
        {"heads": {h: list(c) for h, c in heads.items()}, "data": data_hash, "params": params},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


class MentionClassifier:
    """Tags texts on several heads (topic, urgency, sentiment, ...) from one shared feature matrix.

    Build one with :meth:`fit` or :meth:`from_bytes`; the constructor takes fitted parts.
    """

    def __init__(
        self,
        word: TfidfVectorizer,
        char: TfidfVectorizer,
        models: Mapping[str, LogisticRegression],
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
        features = sp.hstack(
            [word.fit_transform(normalized), char.fit_transform(normalized)], format="csr"
        )
        models = {}
        for head, values in labels.items():
            model = LogisticRegression(
                C=PARAMS["C"],
                class_weight="balanced",
                solver=PARAMS["solver"],
                max_iter=PARAMS["max_iter"],
                random_state=random_state,
            )
            models[head] = model.fit(features, [str(v) for v in values])
        params = {**PARAMS, "min_df": word.min_df, "random_state": random_state}
        return cls(
            word,
            char,
            models,
            data_hash=data_hash or content_hash(texts, labels),
            params=params,
        )

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The shared feature matrix of a batch, one row per text."""
        normalized = [normalize(t) for t in texts]
        return sp.hstack(
            [self._word.transform(normalized), self._char.transform(normalized)], format="csr"
        )

    def classify_batch(self, texts: Sequence[str]) -> list[dict[str, tuple[str, float]]]:
        """Per text, head -> (label, probability of that label); vectorizes the batch once."""
        if not texts:
            return []
        matrix = self.features(texts)
        results: list[dict[str, tuple[str, float]]] = [{} for _ in texts]
        rows = np.arange(len(texts))
        for head, model in self._models.items():
            proba = model.predict_proba(matrix)
            best = proba.argmax(axis=1)
            classes = self.heads[head]
            for result, index, p in zip(results, best.tolist(), proba[rows, best].tolist()):
                result[head] = (classes[index], p)
        return results

    def classify(self, text: str) -> dict[str, tuple[str, float]]:
        """Head -> (label, probability) for one text."""
        return self.classify_batch([text])[0]

    def to_bytes(self) -> bytes:
        """The model as a mention-router model file (a zip with a manifest and a skops payload)."""
        from routing.modelformat import dump_model

        return dump_model(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> MentionClassifier:
        """Load a model file written by :meth:`to_bytes`, refusing untrusted or foreign files."""
        from routing.modelformat import load_model

        return load_model(data)

    def parts(self) -> tuple[TfidfVectorizer, TfidfVectorizer, dict[str, LogisticRegression]]:
        """The fitted parts, for serialization."""
        return self._word, self._char, dict(self._models)
