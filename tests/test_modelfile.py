"""Model files on disk: atomic save, load, and errors that name the file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from routing.classifier import MentionClassifier
from routing.errors import ModelError, ModelFormatError, ModelVersionError
from tests.test_classifier import synthetic_set
from workers.modelfile import load_model, save_model


@pytest.fixture(scope="module")
def clf() -> MentionClassifier:
    texts, labels = synthetic_set()
    return MentionClassifier.fit(texts, {"topic": labels["topic"]})


def test_save_then_load(clf: MentionClassifier, tmp_path: Path) -> None:
    # Given a path under directories that do not exist yet
    path = tmp_path / "var" / "models" / "model.mrm"
    # When the model is saved and loaded
    save_model(clf, path)
    loaded = load_model(path)
    # Then it is the same model, and no temporary file is left behind
    assert loaded.version == clf.version
    assert loaded.classify("where is my parcel") == clf.classify("where is my parcel")
    assert [p.name for p in path.parent.iterdir()] == ["model.mrm"]


def test_save_replaces_an_existing_file(clf: MentionClassifier, tmp_path: Path) -> None:
    path = tmp_path / "model.mrm"
    path.write_bytes(b"old content")
    save_model(clf, path)
    assert load_model(path).version == clf.version


def test_missing_file_names_path_and_how_to_make_one(tmp_path: Path) -> None:
    path = tmp_path / "absent.mrm"
    with pytest.raises(ModelError, match=r"absent\.mrm.*mention-router train.*make demo"):
        load_model(path)


def test_foreign_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a model", encoding="utf-8")
    with pytest.raises(ModelFormatError, match=r"notes\.txt is not a mention-router model file"):
        load_model(path)


def test_other_sklearn_version_is_named(clf: MentionClassifier, tmp_path: Path) -> None:
    # Given a saved model whose manifest claims another scikit-learn
    path = tmp_path / "old.mrm"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(clf.to_bytes())) as src, zipfile.ZipFile(out, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        manifest["libraries"]["scikit-learn"] = "1.0"
        dst.writestr("manifest.json", json.dumps(manifest))
        dst.writestr("model.skops", src.read("model.skops"))
    path.write_bytes(out.getvalue())
    # Then loading names the file and the version
    with pytest.raises(
        ModelVersionError, match=r"old\.mrm: model was trained with scikit-learn 1\.0"
    ):
        load_model(path)


def test_directory_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read model file"):
        load_model(tmp_path)


def test_a_model_file_of_the_previous_format_says_to_retrain(
    clf: MentionClassifier, tmp_path: Path
) -> None:
    # Given a file whose manifest says format version 1 (logistic-regression heads)
    path = tmp_path / "old-format.mrm"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(clf.to_bytes())) as src, zipfile.ZipFile(out, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        manifest["format_version"] = 1
        dst.writestr("manifest.json", json.dumps(manifest))
        dst.writestr("model.skops", src.read("model.skops"))
    path.write_bytes(out.getvalue())
    # Then loading names the file and the versions
    with pytest.raises(ModelFormatError, match=r"old-format\.mrm: model file format version 1"):
        load_model(path)


def test_round_trip_keeps_calibration_and_selection(clf: MentionClassifier, tmp_path: Path) -> None:
    path = tmp_path / "m.mrm"
    save_model(clf, path)
    loaded = load_model(path)
    assert loaded.temperatures == clf.temperatures
    assert loaded.params == clf.params
    texts = ["where is my parcel", "charged twice", ""]
    for head, proba in clf.predict_proba(texts).items():
        assert (loaded.predict_proba(texts)[head] == proba).all()
