"""The multi-head classifier: fitting, prediction, determinism and the model file format."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from routing.classifier import FORMAT_NAME, MentionClassifier, fit_temperature, normalize
from routing.errors import ModelFormatError, ModelVersionError, TrainingDataError

REPO = Path(__file__).resolve().parents[1]
Data = tuple[list[str], dict[str, list[str]]]

_TOPICS = {
    "delivery": [
        "where is my package @{h}, tracking says delivered {n} days ago",
        "my parcel never arrived, the courier left no note",
        "order {n} still not shipped, when will it arrive?",
        "the delivery guy threw my box over the fence #fail",
    ],
    "billing": [
        "I was charged twice for order {n} @{h}",
        "why is there an extra fee on my invoice?",
        "refund still not on my card after {n} weeks",
        "my bill went up again without notice https://t.co/x{n}",
    ],
    "praise": [
        "thanks @{h}, great service today 😊",
        "love the new app, so easy to use!",
        "the support agent was super friendly and helpful",
        "best customer experience in years, well done {n}",
    ],
}
_HANDLES = ["shop", "helpdesk", "acme_care"]


def synthetic_set() -> Data:
    """60 short posts on 3 topics; urgency is high for billing, sentiment follows the topic."""
    texts: list[str] = []
    labels: dict[str, list[str]] = {"topic": [], "urgency": [], "sentiment": []}
    for variant in range(5):
        for topic, templates in _TOPICS.items():
            for template in templates:
                texts.append(template.format(h=_HANDLES[variant % 3], n=variant + 2))
                labels["topic"].append(topic)
                labels["urgency"].append("high" if topic == "billing" else "low")
                labels["sentiment"].append("positive" if topic == "praise" else "negative")
    return texts, labels


@pytest.fixture(scope="module")
def data() -> Data:
    return synthetic_set()


@pytest.fixture(scope="module")
def clf(data: Data) -> MentionClassifier:
    texts, labels = data
    return MentionClassifier.fit(texts, labels)


def _rewrite(model: bytes, name: str, content: bytes | None) -> bytes:
    """The model file with one member replaced (or removed when ``content`` is None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(model)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.namelist():
            if item != name:
                dst.writestr(item, src.read(item))
        if content is not None:
            dst.writestr(name, content)
    return out.getvalue()


def test_fit_learns_every_head(clf: MentionClassifier, data: Data) -> None:
    texts, labels = data
    # Then the heads and their classes are the ones in the labels
    assert clf.heads == {
        "topic": ["billing", "delivery", "praise"],
        "urgency": ["high", "low"],
        "sentiment": ["negative", "positive"],
    }
    # And the training set is classified (almost) perfectly
    predictions = clf.classify_batch(texts)
    for head, truth in labels.items():
        correct = sum(p[head][0] == t for p, t in zip(predictions, truth, strict=True))
        assert correct / len(texts) >= 0.95, head


def test_unseen_texts_get_plausible_labels(clf: MentionClassifier) -> None:
    result = clf.classify("I got charged a fee twice on my card, please refund")
    assert result["topic"][0] == "billing"
    assert result["urgency"][0] == "high"
    assert clf.classify("thanks, great and friendly service!")["sentiment"][0] == "positive"


def test_scores_are_those_of_the_sklearn_estimators(clf: MentionClassifier) -> None:
    # Given the fast path's features and scores
    texts = ["where is my parcel", "charged twice!!", "", "😊😊", "https://t.co/a @x"]
    reference = clf._word.transform([normalize(t) for t in texts])
    # Then the word block equals sklearn's own transform
    assert abs(clf.features(texts)[:, : reference.shape[1]] - reference).max() == 0.0
    # And each head's scores equal its estimator's decision_function (binary: [-s, s])
    fast = clf.scores(texts)
    for head in clf.heads:
        slow = clf.estimator(head).decision_function(clf.features(texts))
        if slow.ndim == 1:
            slow = np.column_stack([-slow, slow])
        np.testing.assert_allclose(fast[head], slow, rtol=0, atol=1e-12)


def test_probabilities_are_the_tempered_softmax_of_the_scores(clf: MentionClassifier) -> None:
    texts = ["where is my parcel", "charged twice!!", "thanks"]
    scores, proba = clf.scores(texts), clf.predict_proba(texts)
    for head in clf.heads:
        z = np.exp(scores[head] / clf.temperatures[head])
        np.testing.assert_allclose(proba[head], z / z.sum(axis=1, keepdims=True), atol=1e-12)
        np.testing.assert_allclose(proba[head].sum(axis=1), 1.0)


def test_each_head_records_how_it_was_chosen(clf: MentionClassifier) -> None:
    # Then C comes from the grid by cross-validation, with a fitted temperature
    for head in clf.heads:
        info = clf.params["heads"][head]
        assert info["C"] in clf.params["C_grid"]
        assert 0.0 <= info["cv_macro_f1"] <= 1.0
        assert info["temperature"] == pytest.approx(clf.temperatures[head], rel=1e-5)
        assert clf.temperatures[head] > 0


def test_a_perfectly_separable_small_set_is_not_certain(clf: MentionClassifier) -> None:
    # Given a training set that cross-validates perfectly, its probabilities stay below 1
    proba = clf.predict_proba(["I was charged twice for order 3"])
    assert 0.5 < proba["topic"].max() < 0.995


def test_temperature_fits_overconfident_scores() -> None:
    # Given scores that are right 70% of the time but say so with huge margins
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 3000)
    guess = np.where(rng.random(3000) < 0.7, truth, (truth + 1) % 3)
    scores = np.eye(3)[guess] * 20.0
    # When a temperature is fitted
    temperature = fit_temperature(scores, truth)
    # Then the top probability is about the accuracy
    top = np.exp(20.0 / temperature) / (np.exp(20.0 / temperature) + 2)
    assert top == pytest.approx(0.7, abs=0.02)


def test_labels_may_be_missing_for_some_rows(data: Data) -> None:
    # Given a topic label on every row but urgency only on the first half
    texts, labels = data
    half = len(texts) // 2
    urgency: list[str | None] = [*labels["urgency"][:half], *[None] * (len(texts) - half)]
    # When fitted, each head learns from the rows that have its label
    clf = MentionClassifier.fit(texts, {"topic": labels["topic"], "urgency": urgency})
    assert clf.heads["urgency"] == sorted(set(labels["urgency"][:half]))
    assert clf.classify(texts[0])["topic"][0] == labels["topic"][0]


def test_bad_grid_is_refused(data: Data) -> None:
    with pytest.raises(TrainingDataError, match="grid"):
        MentionClassifier.fit(data[0], {"topic": data[1]["topic"]}, grid=[])


def test_label_probability_is_the_highest(clf: MentionClassifier) -> None:
    proba = clf.predict_proba(["my parcel never arrived"])
    result = clf.classify("my parcel never arrived")
    for head, (label, p) in result.items():
        assert p == pytest.approx(proba[head].max())
        assert label == clf.heads[head][int(proba[head].argmax())]
        assert 0.0 <= p <= 1.0


def test_batch_and_single_predictions_are_identical(clf: MentionClassifier, data: Data) -> None:
    texts = [*data[0][:20], "", "!!!", "random words nobody used"]
    assert clf.classify_batch(texts) == [clf.classify(t) for t in texts]


def test_empty_batch_gives_empty_list(clf: MentionClassifier) -> None:
    assert clf.classify_batch([]) == []


def test_fitting_is_deterministic(clf: MentionClassifier, data: Data) -> None:
    # Given the same data fitted a second time
    texts, labels = data
    again = MentionClassifier.fit(texts, labels)
    # Then version and predictions are identical
    assert again.version == clf.version
    assert len(clf.version) == 12
    assert again.classify_batch(texts) == clf.classify_batch(texts)


def test_version_tracks_data(clf: MentionClassifier, data: Data) -> None:
    texts, labels = data
    assert MentionClassifier.fit(texts[1:], {h: v[1:] for h, v in labels.items()}).version != (
        clf.version
    )
    tagged = MentionClassifier.fit(texts, labels, data_hash="abc")
    assert tagged.data_hash == "abc"
    assert tagged.version != clf.version


def test_single_class_head_is_refused_by_name(data: Data) -> None:
    texts, labels = data
    with pytest.raises(TrainingDataError, match=r"'urgency'.*single class"):
        MentionClassifier.fit(texts, {**labels, "urgency": ["low"] * len(texts)})


def test_wrong_label_count_is_refused_by_name(data: Data) -> None:
    texts, labels = data
    with pytest.raises(TrainingDataError, match="'topic' has 59 labels for 60 texts"):
        MentionClassifier.fit(texts, {**labels, "topic": labels["topic"][1:]})


def test_no_texts_or_no_heads_is_refused(data: Data) -> None:
    with pytest.raises(TrainingDataError, match="no training texts"):
        MentionClassifier.fit([], {"topic": []})
    with pytest.raises(TrainingDataError, match="no label heads"):
        MentionClassifier.fit(data[0], {})


def test_bytes_round_trip_in_process(clf: MentionClassifier, data: Data) -> None:
    loaded = MentionClassifier.from_bytes(clf.to_bytes())
    assert (loaded.version, loaded.heads, loaded.data_hash) == (
        clf.version,
        clf.heads,
        clf.data_hash,
    )
    assert loaded.classify_batch(data[0]) == clf.classify_batch(data[0])


def test_model_file_manifest_describes_the_model(clf: MentionClassifier) -> None:
    with zipfile.ZipFile(io.BytesIO(clf.to_bytes())) as archive:
        assert sorted(archive.namelist()) == ["manifest.json", "model.skops"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == FORMAT_NAME
    assert manifest["format_version"] == 2
    assert set(manifest["selection"]) == set(clf.heads)
    assert manifest["heads"] == clf.heads
    assert manifest["version"] == clf.version
    assert set(manifest["libraries"]) == {"scikit-learn", "skops", "numpy", "scipy", "python"}


def test_bytes_load_in_a_fresh_process(clf: MentionClassifier, data: Data, tmp_path: Path) -> None:
    # Given a model file written by this process
    model = tmp_path / "model.mrm"
    model.write_bytes(clf.to_bytes())
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from routing.classifier import MentionClassifier\n"
        "clf = MentionClassifier.from_bytes(Path(sys.argv[1]).read_bytes())\n"
        "texts = json.loads(sys.stdin.read())\n"
        "print(json.dumps({'version': clf.version, 'out': clf.classify_batch(texts)}))\n"
    )
    # When another interpreter loads it and classifies
    done = subprocess.run(
        [sys.executable, "-c", script, str(model)],
        input=json.dumps(data[0][:10]),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
        check=True,
    )
    # Then it has the same version and makes the same predictions
    result = json.loads(done.stdout)
    assert result["version"] == clf.version
    expected = [{h: list(v) for h, v in r.items()} for r in clf.classify_batch(data[0][:10])]
    assert result["out"] == expected


@pytest.mark.parametrize("garbage", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_garbage_bytes_are_not_a_model(garbage: bytes) -> None:
    with pytest.raises(ModelFormatError, match="is not a mention-router model file"):
        MentionClassifier.from_bytes(garbage)


def test_zip_without_manifest_is_not_a_model(clf: MentionClassifier) -> None:
    stripped = _rewrite(clf.to_bytes(), "manifest.json", None)
    with pytest.raises(ModelFormatError, match="is not a mention-router model file"):
        MentionClassifier.from_bytes(stripped)


def test_manifest_of_another_format_is_not_a_model(clf: MentionClassifier) -> None:
    other = _rewrite(clf.to_bytes(), "manifest.json", b'{"format": "something-else"}')
    with pytest.raises(ModelFormatError, match="is not a mention-router model file"):
        MentionClassifier.from_bytes(other)


def test_other_sklearn_version_is_refused_before_loading(clf: MentionClassifier) -> None:
    # Given a model file whose manifest names another scikit-learn, and a payload that is junk
    model = clf.to_bytes()
    with zipfile.ZipFile(io.BytesIO(model)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["libraries"]["scikit-learn"] = "0.24.2"
    tampered = _rewrite(model, "manifest.json", json.dumps(manifest).encode())
    tampered = _rewrite(tampered, "model.skops", b"junk that is never read")
    # Then loading fails on the version, which is checked first
    with pytest.raises(ModelVersionError, match=r"scikit-learn 0\.24\.2.*mention-router train"):
        MentionClassifier.from_bytes(tampered)


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"x": eval}, "builtins.eval"),
        ({"x": os.system}, "system"),
        ({"x": DecisionTreeClassifier()}, "sklearn.tree._classes.DecisionTreeClassifier"),
        ({"x": LogisticRegression()}, "sklearn.linear_model._logistic.LogisticRegression"),
        ({"x": LogisticRegression().fit}, "LogisticRegression.fit"),
    ],
)
def test_untrusted_types_are_refused_by_name(
    clf: MentionClassifier, payload: dict[str, object], named: str
) -> None:
    # Given a valid manifest around a skops payload holding a type we never write
    forged = _rewrite(clf.to_bytes(), "model.skops", sio.dumps(payload))
    # Then loading is refused, naming the type
    with pytest.raises(ModelFormatError, match=f"untrusted types: .*{named}"):
        MentionClassifier.from_bytes(forged)


def test_trusted_types_in_a_foreign_shape_are_refused(clf: MentionClassifier) -> None:
    forged = _rewrite(clf.to_bytes(), "model.skops", sio.dumps({"word": "text"}))
    with pytest.raises(ModelFormatError, match="expected parts"):
        MentionClassifier.from_bytes(forged)


def test_source_is_named_in_errors() -> None:
    with pytest.raises(ModelFormatError, match=r"^var/model\.mrm is not a mention-router"):
        MentionClassifier.from_bytes(b"nope", source="var/model.mrm")


@pytest.mark.parametrize("payload", [b"not a zip", b""])
def test_corrupt_payload_is_refused(clf: MentionClassifier, payload: bytes) -> None:
    forged = _rewrite(clf.to_bytes(), "model.skops", payload)
    with pytest.raises(ModelFormatError, match="payload is not a readable skops file"):
        MentionClassifier.from_bytes(forged)
