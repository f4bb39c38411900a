"""Multi-head mention classifier: shared word and character n-grams, one linear model per head.

Each head is a one-vs-rest linear SVM whose regularization is chosen by stratified
cross-validation on the training data (best macro-F1), and whose scores become calibrated
probabilities through a softmax with a temperature fitted on the out-of-fold scores.
The file format (a manifest beside a skops payload, never pickle) is in ``routing.modelformat``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from routing.errors import ModelFormatError, TrainingDataError
from routing.features import NormalizedChunks, normalize, tfidf, vectorizers, weigh
from routing.modelformat import FORMAT_NAME, FORMAT_VERSION, library_versions, pack, unpack
from routing.ngrams import ChunkCounts, term_counts

# A temperature outside these bounds means the scores carry no usable signal either way.
_LOG_T_BOUNDS = (float(np.log(1e-3)), float(np.log(1e2)))

PARAMS: dict[str, Any] = {
    "features": 2,
    "word_ngrams": [1, 2],
    "char_ngrams": [3, 5],
    "model": "linear-svc-ovr",
    "class_weight": "balanced",
    "C_grid": [0.1, 0.3, 1.0],
    "cv_folds": 3,
    "selection": "macro_f1",
    "calibration": "temperature",
}

# A label list entry of None means "no label for this head in this row" (e.g. a correction
# that fixed only the topic); the head then learns from the rows that have one.
Labels = Mapping[str, Sequence[str | None]]


def _check_labels(n_texts: int, labels: Labels) -> None:
    if n_texts == 0:
        raise TrainingDataError("no training texts given")
    if not labels:
        raise TrainingDataError("no label heads given: need at least one, e.g. 'topic'")
    for head, values in labels.items():
        if len(values) != n_texts:
            raise TrainingDataError(f"head {head!r} has {len(values)} labels for {n_texts} texts")
        classes = sorted({str(v) for v in values if v is not None})
        if len(classes) < 2:
            found = repr(classes[0]) if classes else "none"
            raise TrainingDataError(
                f"head {head!r} has a single class ({found}): it needs at least two to learn from"
            )


def content_hash(texts: Sequence[str], labels: Labels) -> str:
    """A sha256 over texts and labels, for models fitted without a data-file hash."""
    payload = {
        "texts": list(texts),
        "labels": {h: [None if v is None else str(v) for v in vs] for h, vs in labels.items()},
    }
    return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()


def model_version(heads: Mapping[str, Sequence[str]], data_hash: str, params: Any) -> str:
    """The short stable id of a model: same heads, data and parameters give the same id."""
    payload = {"heads": {h: list(c) for h, c in heads.items()}, "data": data_hash, "params": params}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class HeadFit:
    """A fitted head and how it was chosen: C, out-of-fold macro-F1, softmax temperature."""

    model: LinearSVC
    C: float
    cv_macro_f1: float | None
    temperature: float

    def info(self) -> dict[str, Any]:
        f1 = None if self.cv_macro_f1 is None else round(self.cv_macro_f1, 4)
        return {"C": self.C, "cv_macro_f1": f1, "temperature": round(self.temperature, 6)}


def fit_head(
    matrix: sp.csr_matrix,
    y: Sequence[str],
    *,
    grid: Sequence[float],
    folds: int,
    random_state: int,
) -> HeadFit:
    """Choose C by stratified cross-validation (macro-F1), fit the temperature, refit on all."""
    target = np.asarray(y, dtype=object)
    k = min(folds, int(np.unique(target, return_counts=True)[1].min()))
    if k < 2:
        # Too few examples of some class to cross-validate: the middle of the grid, uncalibrated.
        c = sorted(grid)[len(grid) // 2]
        return HeadFit(_fit_quietly(_svm(c, random_state), matrix, target), c, None, 1.0)
    splits = list(StratifiedKFold(k, shuffle=True, random_state=random_state).split(matrix, target))
    best: tuple[float, float, np.ndarray] | None = None
    for c in sorted(grid):
        scores = _out_of_fold(matrix, target, splits, c, random_state)
        classes = np.unique(target)
        f1 = float(f1_score(target, classes[scores.argmax(axis=1)], average="macro"))
        if best is None or f1 > best[1]:
            best = (c, f1, scores)
    assert best is not None  # the grid is never empty (checked by the caller)
    c, f1, scores = best
    temperature = fit_temperature(scores, np.searchsorted(np.unique(target), target))
    return HeadFit(_fit_quietly(_svm(c, random_state), matrix, target), c, f1, temperature)


def _svm(c: float, random_state: int) -> LinearSVC:
    # Balanced class weights: a rare topic matters as much to routing as a common one.
    return LinearSVC(C=c, class_weight="balanced", max_iter=5000, random_state=random_state)


def _fit_quietly(model: LinearSVC, x: sp.csr_matrix, y: np.ndarray) -> LinearSVC:
    with warnings.catch_warnings():
        # A few more iterations would not change the ranking of classes; don't alarm anyone.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x, y)


def _out_of_fold(
    matrix: sp.csr_matrix,
    target: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    c: float,
    random_state: int,
) -> np.ndarray:
    n_classes = len(np.unique(target))
    scores = np.zeros((len(target), n_classes))
    for train, test in splits:
        model = _fit_quietly(_svm(c, random_state), matrix[train], target[train])
        scores[test] = _columns(model.decision_function(matrix[test]), n_classes)
    return scores


def _columns(decision: np.ndarray, n_classes: int) -> np.ndarray:
    """One score column per class; a binary SVM's single score becomes ``[-s, s]``."""
    if n_classes == 2 and decision.ndim == 1:
        return np.column_stack([-decision, decision])
    return decision


def fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature that minimizes the log-loss of ``scores`` against ``truth``.

    The targets are smoothed as by add-one (Laplace) counts, so a small training set that
    cross-validates perfectly still gets probabilities short of certainty.
    """
    rows = np.arange(len(truth))
    n_classes = scores.shape[1]
    smoothing = n_classes / (len(truth) + n_classes)

    def loss(log_t: float) -> float:
        z = scores / np.exp(log_t)
        z -= z.max(axis=1, keepdims=True)
        target = (1.0 - smoothing) * z[rows, truth] + smoothing * z.mean(axis=1)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - target))

    found = minimize_scalar(loss, bounds=_LOG_T_BOUNDS, method="bounded")
    return float(np.exp(found.x))


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


class MentionClassifier:
    """Tags texts on several heads (topic, urgency, sentiment, ...) from one shared feature matrix.

    Build one with :meth:`fit` or :meth:`from_bytes`; the constructor takes fitted parts.
    """

    def __init__(
        self,
        word: TfidfVectorizer,
        char: TfidfVectorizer,
        models: Mapping[str, LinearSVC],
        *,
        data_hash: str,
        params: Mapping[str, Any],
    ) -> None:
        self._word = word
        self._char = char
        # The counters remember each word's n-grams: one pair per classifier, reused per batch.
        self._word_counts = term_counts(word)
        self._char_counts = term_counts(char)
        self._chunks = NormalizedChunks()
        self._models = dict(models)
        self.heads: dict[str, list[str]] = {
            head: [str(c) for c in model.classes_] for head, model in self._models.items()
        }
        self.data_hash = data_hash
        self.params: dict[str, Any] = dict(params)
        self.version = model_version(self.heads, data_hash, self.params)
        head_info = self.params.get("heads", {})
        self.temperatures = {
            head: float(head_info.get(head, {}).get("temperature", 1.0)) for head in self.heads
        }
        weights, self._bias, self._slices = _stack_heads(self._models)
        split = len(word.idf_)
        self._word_weights = np.ascontiguousarray(weights[:split])
        self._char_weights = np.ascontiguousarray(weights[split:])

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Labels,
        *,
        data_hash: str = "",
        random_state: int = 0,
        grid: Sequence[float] | None = None,
    ) -> MentionClassifier:
        """Train one calibrated linear model per head on features shared by all heads.

        ``labels`` may hold None where a row has no label for a head. Without ``data_hash``
        the model is identified by a hash of the texts and labels. ``grid`` overrides the
        values of C that cross-validation chooses from.
        """
        _check_labels(len(texts), labels)
        c_grid = [float(c) for c in (grid if grid is not None else PARAMS["C_grid"])]
        if not c_grid or min(c_grid) <= 0:
            raise TrainingDataError("the grid of C values must hold positive numbers")
        normalized = [normalize(t) for t in texts]
        word, char = vectorizers(
            len(normalized), tuple(PARAMS["word_ngrams"]), tuple(PARAMS["char_ngrams"])
        )
        matrix = sp.hstack(
            [word.fit_transform(normalized), char.fit_transform(normalized)], format="csr"
        )
        fits: dict[str, HeadFit] = {}
        for head, values in labels.items():
            rows = [i for i, v in enumerate(values) if v is not None]
            fits[head] = fit_head(
                matrix[rows],
                [str(values[i]) for i in rows],
                grid=c_grid,
                folds=int(PARAMS["cv_folds"]),
                random_state=random_state,
            )
        params = {
            **PARAMS,
            "C_grid": c_grid,
            "min_df": word.min_df,
            "random_state": random_state,
            "heads": {head: fit.info() for head, fit in fits.items()},
        }
        data_hash = data_hash or content_hash(texts, labels)
        models = {head: fit.model for head, fit in fits.items()}
        return cls(word, char, models, data_hash=data_hash, params=params)

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The shared feature matrix of a batch, one row per text."""
        return sp.hstack(self._blocks(texts), format="csr")

    def _blocks(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The word and the character TF-IDF rows of a batch."""
        word, char = self._word_counts, self._char_counts
        if isinstance(word, ChunkCounts) and isinstance(char, ChunkCounts):
            chunks = self._chunks(texts)  # both count from the same normalized chunks
            return weigh(self._word, word.count(chunks)), weigh(self._char, char.count(chunks))
        normalized = [normalize(t) for t in texts]
        return tfidf(self._word, normalized, word), tfidf(self._char, normalized, char)

    def scores(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Head -> raw linear scores, one column per class (as the SVMs' decision_function)."""
        word, char = self._blocks(texts)
        # Two products instead of one over a stacked matrix: hstack costs more than it saves.
        scores = word @ self._word_weights
        scores += char @ self._char_weights
        scores += self._bias
        return {head: scores[:, part] for head, part in self._slices.items()}

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Head -> calibrated probabilities (one row per text, columns in ``heads[head]`` order)."""
        return {
            head: softmax(scores, self.temperatures[head])
            for head, scores in self.scores(texts).items()
        }

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

    def estimator(self, head: str) -> LinearSVC:
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
            "selection": self.params.get("heads", {}),
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
        try:
            params = json.loads(payload["params"])
            clf = cls(word, char, payload["heads"], data_hash=payload["data_hash"], params=params)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise ModelFormatError(f"{source}: model payload is inconsistent: {exc}") from exc
        if clf.heads != manifest["heads"] or clf.version != manifest["version"]:
            raise ModelFormatError(f"{source}: manifest and model payload disagree")
        return clf


def _stack_heads(
    models: Mapping[str, LinearSVC],
) -> tuple[np.ndarray, np.ndarray, dict[str, slice]]:
    # One sparse-dense product scores every head at once; the hot path skips sklearn's checks.
    columns: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    slices: dict[str, slice] = {}
    start = 0
    for head, model in models.items():
        coef = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if len(model.classes_) == 2 and coef.shape[0] == 1:
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        columns.append(coef.T)
        biases.append(intercept)
        slices[head] = slice(start, start + coef.shape[0])
        start += coef.shape[0]
    weights = np.ascontiguousarray(np.hstack(columns), dtype=np.float64)
    return weights, np.concatenate(biases), slices


def _without_vocabulary(vectorizer: TfidfVectorizer) -> TfidfVectorizer:
    # skops writes a dict entry as ~200 bytes of JSON; the terms travel as one string instead.
    clone = copy.copy(vectorizer)
    del clone.vocabulary_
    return clone


def _vocabulary(terms: str) -> dict[str, int]:
    return {term: index for index, term in enumerate(terms.split("\n"))} if terms else {}
