"""`mention-router classify`: stream JSONL or plain text in, one classification per line out."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from routing.classifier import MentionClassifier
from routing.models import Taxonomy, Urgency
from routing.tagger import Tagger
from routing.urgency import UrgencyPolicy
from tests.test_classifier import synthetic_set
from workers.classifying import classify_lines, load_policy
from workers.cli import main
from workers.modelfile import save_model

REPO = Path(__file__).resolve().parents[1]
FIELDS = {"mention_id", "topic", "urgency", "language", "sentiment", "confidence",
          "urgency_reasons", "model_version"}  # fmt: skip


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts, labels = synthetic_set()
    path = tmp_path_factory.mktemp("model") / "model.skops"
    save_model(MentionClassifier.fit(texts, labels), path)
    return path


def stream_record(id: str, text: str, followers: int = 10) -> str:
    return json.dumps({
        "id": id, "platform": "x", "author": {"id": "u1", "followers": followers},
        "text": text, "created_at": "2026-03-02T09:00:00+01:00",
    })  # fmt: skip


def test_plain_text_from_a_file(
    model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file of plain text, one mention a line, with a blank line
    source = tmp_path / "in.txt"
    source.write_text("I was charged twice, refund please\n\nthanks, great service!\n")
    # When it is classified
    assert main(["classify", "--model", str(model_file), str(source)]) == 0
    # Then each non-blank line gives one JSON line with the documented fields
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["mention_id"] for o in out] == ["line:1", "line:3"]
    assert all(set(o) == FIELDS for o in out)
    assert out[0]["topic"] == "billing"
    assert out[1]["sentiment"] == "positive"
    assert set(out[0]["confidence"]) == {"topic", "urgency", "sentiment", "language"}


def test_stream_jsonl_from_standard_input(model_file: Path) -> None:
    # Given stream records on stdin, one from an account with a large reach
    lines = [
        stream_record("x:1", "my bill went up again, charged twice"),
        stream_record("x:2", "where is my package, order 5 never arrived", 90_000),
    ]
    # When the command reads standard input (a real process, as a user would run it)
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", "classify", "--model", str(model_file)],
        input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=REPO, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    )  # fmt: skip
    out = [json.loads(line) for line in done.stdout.splitlines()]
    # Then ids come from the records, and the reach signal is named
    assert [o["mention_id"] for o in out] == ["x:1", "x:2"]
    assert any(r.startswith("reach:") for r in out[1]["urgency_reasons"])
    assert out[0]["language"] == "en"


def test_a_bad_record_is_reported_and_skipped(
    model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "x:1", "text": "no author"}\n' + stream_record("x:2", "hi") + "\n")
    assert main(["classify", "--model", str(model_file), str(source)]) == 0
    captured = capsys.readouterr()
    assert [json.loads(x)["mention_id"] for x in captured.out.splitlines()] == ["x:2"]
    assert "in.jsonl:1" in captured.err
    assert "author" in captured.err


def test_missing_model_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "--model", str(tmp_path / "absent.skops"), "/dev/null"]) == 2
    assert "mention-router train" in capsys.readouterr().err


def test_lines_are_classified_in_batches_in_order(model_file: Path) -> None:
    from workers.modelfile import load_model

    model = load_model(model_file)
    topics = [*model.heads["topic"], "unknown"]
    taxonomy = Taxonomy.model_validate(
        {"topics": {t: {"handling_minutes": 5} for t in topics},
         "urgency": {u.value: {"sla_minutes": 60, "weight": 1} for u in Urgency}}
    )  # fmt: skip
    tagger = Tagger(model, taxonomy, policy=UrgencyPolicy())
    text = "".join(f"post number {i}\n" for i in range(7))
    out = io.StringIO()
    assert classify_lines(tagger, io.StringIO(text), out, batch_size=3) == 0
    ids = [json.loads(x)["mention_id"] for x in out.getvalue().splitlines()]
    assert ids == [f"line:{i}" for i in range(1, 8)]


def test_policy_file_loads_and_a_bad_one_names_file_and_field(tmp_path: Path) -> None:
    from routing.errors import ConfigError

    good = tmp_path / "urgency.yaml"
    good.write_text("reach: {followers: 500}\nrepeat_complaint: null\n")
    policy = load_policy(good)
    assert policy.reach is not None
    assert policy.reach.followers == 500
    assert policy.repeat_complaint is None
    assert load_policy(None) == UrgencyPolicy()
    bad = tmp_path / "bad.yaml"
    bad.write_text("reach: {followers: -1}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: reach\.followers"):
        load_policy(bad)


def test_example_policy_file_is_the_builtin_policy() -> None:
    assert load_policy(REPO / "config" / "urgency.yaml") == UrgencyPolicy()
