"""The long-running worker on the configured queue, set through the environment."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.codec import decode_outcome
from connectors.queues import open_queue
from tests.streams import stream_lines, write_config
from workers.cli import main


def test_run_consumes_the_configured_queue_and_delivers_every_mention_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 50 mentions made just now, waiting in an embedded queue named by the environment
    url = f"embedded:{tmp_path / 'queue.db'}"
    monkeypatch.setenv("MENTION_ROUTER_QUEUE__URL", url)
    now = datetime.now(UTC).replace(microsecond=0)
    lines = stream_lines(50, start=now)
    queue = open_queue(url)
    queue.publish("mentions", [(None, line.encode()) for line in lines])
    roster, taxonomy = write_config(tmp_path)
    out = tmp_path / "out.jsonl"
    # When the worker runs until the queue is drained
    code = main(
        ["run", "--until-idle", "--use-labels", "--no-metrics", "--roster", str(roster),
         "--taxonomy", str(taxonomy), "--out", str(out)]
    )  # fmt: skip
    # Then each mention has one outcome in the file and on the assignments topic
    assert code == 0
    ids = {json.loads(line)["id"] for line in lines}
    in_file = [json.loads(x)["mention_id"] for x in out.read_text().splitlines()]
    on_topic = [decode_outcome(r.value).mention_id for r in queue.scan("assignments")]
    assert set(in_file) == ids
    assert sorted(in_file) == sorted(on_topic)
    # And a second run finds nothing new to do
    assert main(
        ["run", "--until-idle", "--use-labels", "--no-metrics", "--roster", str(roster),
         "--taxonomy", str(taxonomy), "--out", str(out)]
    ) == 0  # fmt: skip
    assert len(out.read_text().splitlines()) == len(in_file)
    queue.close()


def test_run_with_an_unusable_queue_names_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "not-a-db").write_text("hello")
    monkeypatch.setenv("MENTION_ROUTER_QUEUE__URL", f"embedded:{tmp_path / 'not-a-db'}")
    roster, taxonomy = write_config(tmp_path)
    code = main(["run", "--until-idle", "--use-labels", "--no-metrics", "--roster", str(roster),
                 "--taxonomy", str(taxonomy)])  # fmt: skip
    assert code == 2
    assert "not-a-db" in capsys.readouterr().err
