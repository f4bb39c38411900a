"""Training and evaluation from data files: label specs, CSV and JSON lines, reports, metrics."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from pathlib import Path

import pytest

from routing.errors import TrainingDataError
from tests.test_classifier import synthetic_set
from workers.modelfile import load_model
from workers.training import evaluate, load_table, parse_label_specs, train

SHARED = Path(__file__).resolve().parents[2] / "shared"
AIRLINE = SHARED / "data" / "airline_sentiment" / "Tweets.csv"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def synthetic_csv(tmp_path: Path) -> Path:
    texts, labels = synthetic_set()
    rows = [[t, labels["topic"][i], labels["urgency"][i]] for i, t in enumerate(texts)]
    return write_csv(tmp_path / "mentions.csv", ["body", "category", "prio"], rows)


def test_label_specs_parse() -> None:
    specs = ["topic=negativereason", "sentiment = airline_sentiment", "urgency=labels.urgency"]
    assert parse_label_specs(specs) == {
        "topic": "negativereason",
        "sentiment": "airline_sentiment",
        "urgency": "labels.urgency",
    }


@pytest.mark.parametrize("spec", ["topic", "=column", "topic=", "Topic=x", "two words=x"])
def test_bad_label_spec_is_named(spec: str) -> None:
    with pytest.raises(TrainingDataError, match=f"bad --label '{spec}'"):
        parse_label_specs([spec])


def test_label_specs_refuse_repeats_and_nothing() -> None:
    with pytest.raises(TrainingDataError, match="given twice"):
        parse_label_specs(["topic=a", "topic=b"])
    with pytest.raises(TrainingDataError, match="at least one --label"):
        parse_label_specs([])


def test_csv_loads_and_drops_rows_with_gaps(tmp_path: Path) -> None:
    # Given a CSV where one row lacks a label and one lacks text
    rows = [["late again", "delay"], ["lost bag", ""], ["", "delay"], ["great crew", "praise"]]
    path = write_csv(tmp_path / "d.csv", ["text", "reason"], rows)
    # When it is loaded
    table = load_table(path, "text", {"topic": "reason"})
    # Then the complete rows remain, the others are counted, and the file is hashed
    assert table.texts == ["late again", "great crew"]
    assert table.labels == {"topic": ["delay", "praise"]}
    assert table.dropped == 2
    assert table.data_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_missing_column_is_named_with_the_available_ones(synthetic_csv: Path) -> None:
    with pytest.raises(TrainingDataError, match=r"no column 'reason'.*body, category, prio"):
        load_table(synthetic_csv, "body", {"topic": "reason"})
    with pytest.raises(TrainingDataError, match="no column 'text'"):
        load_table(synthetic_csv, "text", {"topic": "category"})


def test_jsonl_reaches_nested_columns_by_dotted_path(tmp_path: Path) -> None:
    # Given a recorded stream: nested labels, a blank line, a record without a topic
    records = [
        {"id": "1", "text": "bag lost", "labels": {"topic": "luggage", "urgency": "high"}},
        {"id": "2", "text": "thanks!", "labels": {"topic": "praise", "urgency": "low"}},
        {"id": "3", "text": "hello", "labels": {"urgency": "low"}},
        {"id": "4", "text": "flight 12 late", "labels.topic": "delay", "labels": {"urgency": 2}},
    ]
    lines = [json.dumps(r) for r in records]
    path = tmp_path / "stream.jsonl"
    path.write_text("\n".join([*lines[:2], "", *lines[2:]]) + "\n", encoding="utf-8")
    # When loaded with dotted columns
    table = load_table(path, "text", {"topic": "labels.topic", "urgency": "labels.urgency"})
    # Then nested values (and a literal dotted key) are found, scalars become strings
    assert table.texts == ["bag lost", "thanks!", "flight 12 late"]
    assert table.labels == {
        "topic": ["luggage", "praise", "delay"],
        "urgency": ["high", "low", "2"],
    }
    assert table.dropped == 1


def test_jsonl_missing_column_lists_dotted_paths(tmp_path: Path) -> None:
    path = tmp_path / "s.ndjson"
    path.write_text(json.dumps({"text": "hi", "labels": {"topic": "x"}}) + "\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"no column 'labels\.urgency'.*labels\.topic"):
        load_table(path, "text", {"urgency": "labels.urgency"})


def test_jsonl_bad_line_is_located(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"text": "ok", "t": "a"}\n{not json\n', encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"s\.jsonl:2: not valid JSON"):
        load_table(path, "text", {"topic": "t"})


def test_unsupported_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match=r"unsupported data file type '\.xlsx'"):
        load_table(tmp_path / "data.xlsx", "text", {"topic": "t"})
    with pytest.raises(TrainingDataError, match="cannot read data file"):
        load_table(tmp_path / "absent.csv", "text", {"topic": "t"})


def test_single_class_head_names_the_head(tmp_path: Path) -> None:
    rows = [[f"text {i}", "only", "a" if i % 2 else "b"] for i in range(10)]
    path = write_csv(tmp_path / "d.csv", ["text", "t", "u"], rows)
    with pytest.raises(TrainingDataError, match="head 'topic' has a single class"):
        train(path, "text", {"topic": "t", "urgency": "u"}, tmp_path / "m.mrm")


def test_train_saves_a_model_and_reports(synthetic_csv: Path, tmp_path: Path) -> None:
    # Given a labeled CSV
    out = tmp_path / "models" / "model.mrm"
    messages: list[str] = []
    # When a model is trained from it
    report = train(
        synthetic_csv,
        "body",
        {"topic": "category", "urgency": "prio"},
        out,
        progress=messages.append,
    )
    # Then it is saved, loadable, and the report counts rows and classes
    assert load_model(out).version == report.model_version
    assert report.rows == 60
    assert report.dropped == 0
    assert report.counts == {
        "topic": {"billing": 20, "delivery": 20, "praise": 20},
        "urgency": {"high": 20, "low": 40},
    }
    assert report.data_hash == hashlib.sha256(synthetic_csv.read_bytes()).hexdigest()
    assert any(report.model_version in m for m in messages)
    assert json.loads(json.dumps(report.to_dict()))["rows"] == 60


def test_training_twice_gives_the_same_version(synthetic_csv: Path, tmp_path: Path) -> None:
    heads = {"topic": "category"}
    first = train(synthetic_csv, "body", heads, tmp_path / "a.mrm")
    second = train(synthetic_csv, "body", heads, tmp_path / "b.mrm")
    assert first.model_version == second.model_version


def test_evaluate_on_training_data(synthetic_csv: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.mrm"
    heads = {"topic": "category", "urgency": "prio"}
    report = train(synthetic_csv, "body", heads, model)
    result = evaluate(model, synthetic_csv, "body", heads)
    assert result["model_version"] == report.model_version
    assert result["rows"] == 60
    assert set(result["heads"]) == {"topic", "urgency"}
    topic = result["heads"]["topic"]
    assert set(topic) == {"accuracy", "macro_f1", "support", "n_classes", "unseen_labels"}
    assert topic["accuracy"] >= 0.95
    assert topic["macro_f1"] >= 0.95
    assert (topic["support"], topic["n_classes"], topic["unseen_labels"]) == (60, 3, [])
    assert json.loads(json.dumps(result)) == result


def test_evaluate_counts_unseen_labels_as_errors(synthetic_csv: Path, tmp_path: Path) -> None:
    # Given a model, and data whose topics are half unknown to it
    model = tmp_path / "m.mrm"
    train(synthetic_csv, "body", {"topic": "category"}, model)
    texts, labels = synthetic_set()
    renamed = [t if i % 2 else "brand_new" for i, t in enumerate(labels["topic"])]
    rows = [[text, label] for text, label in zip(texts, renamed, strict=True)]
    data = write_csv(tmp_path / "e.csv", ["body", "category"], rows)
    # When it is evaluated
    topic = evaluate(model, data, "body", {"topic": "category"})["heads"]["topic"]
    # Then every unseen label is a miss
    assert topic["accuracy"] <= 0.5
    assert topic["unseen_labels"] == ["brand_new"]


def test_evaluate_refuses_heads_the_model_lacks(synthetic_csv: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.mrm"
    train(synthetic_csv, "body", {"topic": "category"}, model)
    with pytest.raises(TrainingDataError, match="no head 'urgency'; its heads are: topic"):
        evaluate(model, synthetic_csv, "body", {"urgency": "prio"})


@pytest.mark.slow
def test_airline_sentiment_held_out_accuracy(tmp_path: Path) -> None:
    if not AIRLINE.exists():
        pytest.skip(f"shared data not present at {AIRLINE}")
    # Given the airline tweets, deduplicated by id and split by time (last 20% held out)
    with AIRLINE.open(newline="", encoding="utf-8") as handle:
        rows = list({r["tweet_id"]: r for r in csv.DictReader(handle)}.values())
    rows.sort(key=lambda r: (r["tweet_created"], r["tweet_id"]))
    cut = len(rows) * 4 // 5
    header = ["text", "airline_sentiment"]
    split = {"train": rows[:cut], "test": rows[cut:]}
    files = {
        name: write_csv(tmp_path / f"{name}.csv", header, [[r[h] for h in header] for r in part])
        for name, part in split.items()
    }
    # When a sentiment model is trained on the past and evaluated on the future
    heads = {"sentiment": "airline_sentiment"}
    train(files["train"], "text", heads, tmp_path / "m.mrm")
    result = evaluate(tmp_path / "m.mrm", files["test"], "text", heads)
    # Then it beats 70% accuracy
    assert result["heads"]["sentiment"]["accuracy"] > 0.7


def test_shuffled_rows_give_the_same_counts(tmp_path: Path) -> None:
    # Given the same rows in two orders
    texts, labels = synthetic_set()
    rows = [[t, labels["topic"][i]] for i, t in enumerate(texts)]
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    a = write_csv(tmp_path / "a.csv", ["text", "t"], rows)
    b = write_csv(tmp_path / "b.csv", ["text", "t"], shuffled)
    # Then the class counts agree while the data hashes differ
    ra = train(a, "text", {"topic": "t"}, tmp_path / "a.mrm")
    rb = train(b, "text", {"topic": "t"}, tmp_path / "b.mrm")
    assert ra.counts == rb.counts
    assert ra.data_hash != rb.data_hash


def test_single_class_after_dropping_says_why(tmp_path: Path) -> None:
    # Given a reason column that is filled only for negative rows (as in the airline tweets)
    rows = [
        [f"text {i}", "negative" if i % 2 else "positive", "late" if i % 2 else ""]
        for i in range(8)
    ]
    path = write_csv(tmp_path / "d.csv", ["text", "sentiment", "reason"], rows)
    # Then training both heads together explains that dropped rows left one class
    with pytest.raises(TrainingDataError, match=r"'sentiment' has a single class.*dropping 4 rows"):
        train(path, "text", {"sentiment": "sentiment", "topic": "reason"}, tmp_path / "m.mrm")
