"""Labeled data files, and the training and evaluation behind `mention-router train/evaluate`.

Data files are CSV (``.csv``, ``.tsv``) or JSON lines (``.jsonl``, ``.ndjson``, ``.json-lines``).
In JSON lines a column may be a dotted path (``labels.topic``) into nested objects, so recorded
mention streams train directly. A row whose text or any requested label is missing or empty is
dropped, and the count of dropped rows is reported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score

from routing.classifier import MentionClassifier
from routing.errors import TrainingDataError
from workers.classifying import Correction, latest_labels, read_corrections
from workers.modelfile import load_model, save_model

log = logging.getLogger(__name__)

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json-lines"})
CSV_DELIMITERS = {".csv": ",", ".tsv": "\t"}
_HEAD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_BATCH = 1024

Progress = Callable[[str], None]
# Reads one column of one row: the stripped value, or None when it is missing or empty.
_Getter = Callable[[str], str | None]


@dataclass(frozen=True)
class LabeledTable:
    """Texts with one label list per head, from one data file."""

    texts: list[str]
    labels: dict[str, list[str]]
    data_hash: str
    dropped: int = 0


@dataclass(frozen=True)
class TrainReport:
    """What `mention-router train` did: rows used, classes learned, where the model went."""

    out: Path
    model_version: str
    data_hash: str
    rows: int
    dropped: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    corrections: int = 0
    selection: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "model_version": self.model_version,
            "data_hash": self.data_hash,
            "rows": self.rows,
            "dropped": self.dropped,
            "counts": self.counts,
            "seconds": round(self.seconds, 3),
            "corrections": self.corrections,
            "selection": self.selection,
        }


def parse_label_specs(specs: Sequence[str]) -> dict[str, str]:
    """``["topic=negativereason"]`` -> ``{"topic": "negativereason"}``."""
    if not specs:
        raise TrainingDataError("give at least one --label HEAD=COLUMN, e.g. topic=negativereason")
    heads: dict[str, str] = {}
    for spec in specs:
        head, sep, column = (part.strip() for part in spec.partition("="))
        if not sep or not column or not _HEAD_NAME.match(head):
            raise TrainingDataError(
                f"bad --label {spec!r}: expected HEAD=COLUMN with HEAD like 'topic' "
                "(lowercase letters, digits, _)"
            )
        if head in heads:
            raise TrainingDataError(f"bad --label {spec!r}: head {head!r} is given twice")
        heads[head] = column
    return heads


def load_table(path: Path, text_column: str, label_columns: Mapping[str, str]) -> LabeledTable:
    """Read texts and labels from a CSV or JSON-lines file, dropping rows with gaps."""
    suffix = path.suffix.lower()
    if suffix not in JSONL_SUFFIXES and suffix not in CSV_DELIMITERS:
        known = ", ".join(sorted({*JSONL_SUFFIXES, *CSV_DELIMITERS}))
        raise TrainingDataError(f"{path}: unsupported data file type {suffix!r} (use {known})")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TrainingDataError(f"cannot read data file {path}: {exc.strerror or exc}") from exc
    text = raw.decode("utf-8-sig", errors="replace")
    columns = [text_column, *label_columns.values()]
    rows = (
        _jsonl_rows(path, text, columns)
        if suffix in JSONL_SUFFIXES
        else _csv_rows(path, text, columns, CSV_DELIMITERS[suffix])
    )
    table = _collect(rows, text_column, label_columns, hashlib.sha256(raw).hexdigest())
    if table.dropped:
        log.info("%s: dropped %d rows with an empty text or label", path, table.dropped)
    if not table.texts:
        raise TrainingDataError(f"{path}: no row has a text and every requested label")
    return table


def _collect(
    rows: Iterator[_Getter],
    text_column: str,
    label_columns: Mapping[str, str],
    data_hash: str,
) -> LabeledTable:
    texts: list[str] = []
    labels: dict[str, list[str]] = {head: [] for head in label_columns}
    dropped = 0
    for get in rows:
        values = [get(column) for column in label_columns.values()]
        body = get(text_column)
        if not body or not all(values):
            dropped += 1
            continue
        texts.append(body)
        for head, value in zip(label_columns, values, strict=True):
            labels[head].append(str(value))
    return LabeledTable(texts, labels, data_hash, dropped)


def _csv_rows(path: Path, text: str, columns: Sequence[str], delimiter: str) -> Iterator[_Getter]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    _require_columns(path, columns, reader.fieldnames or [])
    for row in reader:
        yield partial(_csv_value, row)


def _csv_value(row: Mapping[str, str | None], column: str) -> str | None:
    return (row.get(column) or "").strip() or None


def _jsonl_rows(path: Path, text: str, columns: Sequence[str]) -> Iterator[_Getter]:
    records = list(_json_records(path, text))
    # A column is missing only if no row has it: stream records may leave out empty fields.
    absent = [c for c in columns if all(_lookup(record, c) is None for _, record in records)]
    if absent:
        available = sorted({p for _, record in records[:100] for p in _paths(record)})
        _require_columns(path, absent, available)
    for line, record in records:
        yield partial(_json_value, path, line, record)


def _json_records(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            record = json.loads(content)
        except ValueError as exc:
            raise TrainingDataError(f"{path}:{line}: not valid JSON: {exc}") from exc
        if not isinstance(record, dict):
            raise TrainingDataError(f"{path}:{line}: expected a JSON object per line")
        yield line, record


def _lookup(record: Mapping[str, Any], column: str) -> Any:
    """``record[column]``, or else the nested value the dotted path ``column`` reaches."""
    if column in record:
        return record[column]
    node: Any = record
    for key in column.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _json_value(path: Path, line: int, record: Mapping[str, Any], column: str) -> str | None:
    value = _lookup(record, column)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise TrainingDataError(f"{path}:{line}: column {column!r} holds an object, not a value")
    return str(value).strip() or None


def _paths(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in node.items():
        yield prefix + key
        if isinstance(value, dict):
            yield from _paths(value, f"{prefix}{key}.")


def _require_columns(path: Path, columns: Sequence[str], available: Sequence[str]) -> None:
    for column in columns:
        if column not in available:
            raise TrainingDataError(
                f"{path}: no column {column!r}; available columns: {', '.join(available) or 'none'}"
            )


def train(
    path: Path,
    text_column: str,
    label_columns: Mapping[str, str],
    out: Path,
    *,
    corrections: Sequence[Path] = (),
    progress: Progress | None = None,
) -> TrainReport:
    """Fit a model on a data file, plus any corrections files, and save it to ``out``."""
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    table = load_table(path, text_column, label_columns)
    say(
        f"loaded {len(table.texts)} rows from {path} ({table.dropped} dropped: empty text or label)"
    )
    data = TrainingSet.of(table)
    if corrections:
        data = data.corrected(read_corrections(corrections), corrections)
        say(f"applied {data.corrections} corrections from {', '.join(map(str, corrections))}")
    say(f"fitting heads: {', '.join(label_columns)}")
    clf = _fit(data, table.dropped, path)
    save_model(clf, out)
    say(f"saved model {clf.version} to {out}")
    counts = {
        head: dict(sorted(Counter(v for v in values if v is not None).items()))
        for head, values in data.labels.items()
    }
    return TrainReport(
        out=out,
        model_version=clf.version,
        data_hash=data.data_hash,
        rows=len(data.texts),
        dropped=table.dropped,
        counts=counts,
        seconds=time.perf_counter() - started,
        corrections=data.corrections,
        selection=clf.params.get("heads", {}),
    )


@dataclass(frozen=True)
class TrainingSet:
    """What a model is fitted on: texts, labels per head (None: no label), and their hash."""

    texts: list[str]
    labels: dict[str, list[str | None]]
    data_hash: str
    corrections: int = 0

    @classmethod
    def of(cls, table: LabeledTable) -> TrainingSet:
        labels: dict[str, list[str | None]] = {h: list(v) for h, v in table.labels.items()}
        return cls(list(table.texts), labels, table.data_hash)

    def corrected(self, corrections: Sequence[Correction], files: Sequence[Path]) -> TrainingSet:
        """This set with people's corrections: a corrected text is relabeled, a new one added.

        A correction labels only the heads it names; other heads of a new row have no label.
        Corrections of heads this model does not learn are ignored.
        """
        texts = list(self.texts)
        labels = {head: list(values) for head, values in self.labels.items()}
        row_of = {text: i for i, text in reversed(list(enumerate(texts)))}
        applied = 0
        for text, fixed in latest_labels(corrections).values():
            heads = {h: v for h, v in fixed.items() if h in labels}
            if not heads:
                continue
            applied += 1
            row = row_of.get(text)
            if row is None:
                row = row_of[text] = len(texts)
                texts.append(text)
                for values in labels.values():
                    values.append(None)
            for head, value in heads.items():
                labels[head][row] = value
        digest = hashlib.sha256(self.data_hash.encode())
        for file in files:
            digest.update(hashlib.sha256(file.read_bytes()).digest())
        return TrainingSet(texts, labels, digest.hexdigest(), self.corrections + applied)


def _fit(data: TrainingSet, dropped: int, path: Path) -> MentionClassifier:
    try:
        return MentionClassifier.fit(data.texts, data.labels, data_hash=data.data_hash)
    except TrainingDataError as exc:
        if not dropped:
            raise
        # Dropping rows with any empty label can leave a head with one class: say so.
        raise TrainingDataError(
            f"{exc} (after dropping {dropped} rows of {path} with an empty text or label;"
            " a head whose column has gaps may need training on its own)"
        ) from exc


def evaluate(
    model_path: Path, path: Path, text_column: str, label_columns: Mapping[str, str]
) -> dict[str, Any]:
    """Score a saved model on a labeled data file, head by head.

    Returns ``{"model_version", "rows", "dropped", "heads": {head: {"accuracy", "macro_f1",
    "support", "n_classes", "unseen_labels"}}}``; a label the model never saw counts as an error.
    """
    clf = load_model(model_path)
    missing = [head for head in label_columns if head not in clf.heads]
    if missing:
        raise TrainingDataError(
            f"model {clf.version} has no head {', '.join(map(repr, missing))}; "
            f"its heads are: {', '.join(clf.heads)}"
        )
    table = load_table(path, text_column, label_columns)
    predicted: list[dict[str, tuple[str, float]]] = []
    for start in range(0, len(table.texts), _BATCH):
        predicted.extend(clf.classify_batch(table.texts[start : start + _BATCH]))
    heads = {
        head: _head_metrics([p[head][0] for p in predicted], truth, clf.heads[head])
        for head, truth in table.labels.items()
    }
    return {
        "model_version": clf.version,
        "rows": len(table.texts),
        "dropped": table.dropped,
        "heads": heads,
    }


def _head_metrics(predicted: list[str], truth: list[str], classes: list[str]) -> dict[str, Any]:
    correct = sum(p == t for p, t in zip(predicted, truth, strict=True))
    return {
        "accuracy": correct / len(truth),
        "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0.0)),
        "support": len(truth),
        "n_classes": len(classes),
        "unseen_labels": sorted(set(truth) - set(classes)),
    }
