"""Corrections as labeled data: the store, its file format, and `train --corrections`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from routing.errors import TrainingDataError
from routing.models import Urgency
from tests.factories import classification, mention
from tests.test_training import synthetic_csv, write_csv  # noqa: F401  (fixture)
from workers.classifying import Correction, CorrectionStore, latest_labels, read_corrections
from workers.modelfile import load_model
from workers.training import train

AT = datetime(2026, 3, 2, 9, 20, tzinfo=UTC)


def test_a_correction_remembers_what_the_model_said() -> None:
    # Given a mention the model tagged as billing
    m = mention("x:1", text="parcel never arrived")
    was = classification("x:1", topic="billing", urgency=Urgency.HIGH)
    # When a person corrects the topic
    c = Correction.of(m, {"topic": "delivery"}, was=was, by="anna", at=AT)
    # Then the correction holds the text, the new label and the old one
    assert (c.mention_id, c.text, c.labels, c.previous) == (
        "x:1", "parcel never arrived", {"topic": "delivery"}, {"topic": "billing"},
    )  # fmt: skip
    assert (c.corrected_by, c.corrected_at, c.model_version) == ("anna", AT, was.model_version)


def test_store_appends_json_lines_and_reads_them_back(tmp_path: Path) -> None:
    store = CorrectionStore(tmp_path / "var" / "corrections.jsonl")
    first = Correction.of(mention("x:1", text="a"), {"topic": "billing"}, by="anna", at=AT)
    second = Correction.of(mention("x:2", text="b"), {"urgency": "high"})
    assert store.append([first]) == 1
    assert store.append([second]) == 1
    assert store.append([]) == 0
    lines = store.path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {
        "mention_id": "x:1", "text": "a", "labels": {"topic": "billing"},
        "corrected_by": "anna", "corrected_at": "2026-03-02T09:20:00Z",
    }  # fmt: skip
    assert store.read() == [first, second]


def test_the_latest_correction_wins_head_by_head() -> None:
    corrections = [
        Correction(mention_id="x:1", text="t", labels={"topic": "billing", "urgency": "low"}),
        Correction(mention_id="x:1", text="t", labels={"topic": "delivery"}),
    ]
    assert latest_labels(corrections) == {"x:1": ("t", {"topic": "delivery", "urgency": "low"})}


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('{"mention_id": "x:1", "text": "t", "labels": {}}', "labels"),
        ('{"mention_id": "x:1", "labels": {"topic": "a"}}', "text"),
        ('{"mention_id": "x:1", "text": "t", "labels": {"Topic": "a"}}', "labels.Topic"),
        ('{"mention_id": "x:1", "text": "t", "labels": {"topic": "a"}, "oops": 1}', "oops"),
        ("not json", "line"),
    ],
)
def test_a_bad_correction_is_located(tmp_path: Path, line: str, named: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"mention_id": "x:0", "text": "ok", "labels": {"topic": "a"}}\n' + line)
    with pytest.raises(TrainingDataError, match=rf"c\.jsonl:2: .*{named}"):
        read_corrections([path])


def test_missing_corrections_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match=r"cannot read corrections file .*absent\.jsonl"):
        read_corrections([tmp_path / "absent.jsonl"])


def test_train_learns_from_corrections(synthetic_csv: Path, tmp_path: Path) -> None:  # noqa: F811
    # Given a model that files "voucher" posts under billing, and corrections saying "praise"
    heads = {"topic": "category", "urgency": "prio"}
    texts = [f"voucher {i} arrived, lovely gesture" for i in range(6)]
    store = CorrectionStore(tmp_path / "corrections.jsonl")
    store.append(
        Correction(mention_id=f"x:{i}", text=t, labels={"topic": "gift"})
        for i, t in enumerate(texts)
    )
    plain = train(synthetic_csv, "body", heads, tmp_path / "plain.mrm")
    # When the model is trained with the corrections
    fixed = train(synthetic_csv, "body", heads, tmp_path / "fixed.mrm", corrections=[store.path])
    # Then the corrections are counted, change the version, and teach the new label
    assert (fixed.corrections, fixed.rows) == (6, plain.rows + 6)
    assert fixed.model_version != plain.model_version
    assert fixed.counts["topic"]["gift"] == 6
    assert fixed.counts["urgency"] == plain.counts["urgency"]  # new rows have no urgency label
    model = load_model(tmp_path / "fixed.mrm")
    assert model.classify("voucher 9 arrived, lovely gesture")["topic"][0] == "gift"


def test_a_correction_of_a_training_text_relabels_it(tmp_path: Path) -> None:
    # Given training data where one text is mislabeled, and a correction of that text
    rows = [[f"late train number {i}", "delay"] for i in range(8)]
    rows += [[f"thanks for the help {i}", "praise"] for i in range(8)]
    data = write_csv(tmp_path / "d.csv", ["text", "topic"], rows)
    path = tmp_path / "c.jsonl"
    CorrectionStore(path).append(
        [Correction(mention_id="x:1", text="late train number 3", labels={"topic": "praise"})]
    )
    # When trained with it, the row is relabeled rather than added
    report = train(data, "text", {"topic": "topic"}, tmp_path / "m.mrm", corrections=[path])
    assert report.rows == 16
    assert report.counts["topic"] == {"delay": 7, "praise": 9}


def test_corrections_of_other_heads_are_ignored(synthetic_csv: Path, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "c.jsonl"
    CorrectionStore(path).append(
        [Correction(mention_id="x:1", text="new text", labels={"language": "nl"})]
    )
    report = train(synthetic_csv, "body", {"topic": "category"}, tmp_path / "m.mrm",
                   corrections=[path])  # fmt: skip
    assert (report.corrections, report.rows) == (0, 60)


def test_train_command_takes_repeatable_corrections(
    synthetic_csv: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from workers.cli import main

    files = []
    for n in range(2):
        path = tmp_path / f"c{n}.jsonl"
        CorrectionStore(path).append(
            [Correction(mention_id=f"x:{n}", text=f"gift card {n} came", labels={"topic": "gift"})]
        )
        files += ["--corrections", str(path)]
    args = ["train", "--data", str(synthetic_csv), "--text-column", "body",
            "--label", "topic=category", "--out", str(tmp_path / "m.mrm"), *files]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["corrections"] == 2
    assert report["counts"]["topic"]["gift"] == 2
    assert set(report["selection"]["topic"]) == {"C", "cv_macro_f1", "temperature"}
