"""Deduplication across connectors and restarts, bounded; recording that replay plays back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.dedup import SeenIds
from connectors.files import read_stream
from connectors.queues import MemoryQueue, open_queue
from routing.errors import QueueUnavailableError
from tests.factories import mention
from tests.listening_fixtures import RecordingObserver, ingestor, queued


def test_the_same_mention_from_two_connectors_is_ingested_once(tmp_path: Path) -> None:
    queue, observer = MemoryQueue(), RecordingObserver()
    ingest = ingestor(queue, tmp_path, observer)
    first = ingest.ingest("x", [mention("x:1"), mention("x:2")])
    second = ingest.ingest("webhook", [mention("x:2"), mention("x:3"), mention("x:3")])
    assert (first.accepted, first.duplicates) == (2, 0)
    assert (second.accepted, second.duplicates) == (1, 2)
    assert [m.id for m in queued(queue)] == ["x:1", "x:2", "x:3"]
    assert observer.dropped == {"webhook": 2}


def test_duplicates_are_recognized_after_a_restart(tmp_path: Path) -> None:
    url = f"embedded:{tmp_path / 'queue.db'}"
    ingest = ingestor(open_queue(url), tmp_path, RecordingObserver())
    ingest.ingest("x", [mention("x:1")])
    ingest.close()
    # When a new process opens the same state
    queue = open_queue(url)
    again = ingestor(queue, tmp_path, RecordingObserver()).ingest("x", [mention("x:1")])
    assert again.accepted == 0
    assert len(queued(queue)) == 1


@settings(max_examples=30, deadline=None)
@given(ids=st.lists(st.integers(0, 60), max_size=80), capacity=st.integers(1, 20))
def test_seen_ids_keep_exactly_the_last_capacity_new_ids(
    tmp_path_factory: pytest.TempPathFactory, ids: list[int], capacity: int
) -> None:
    seen = SeenIds(tmp_path_factory.mktemp("seen") / "seen.db", capacity)
    model: list[str] = []  # first-seen order; the oldest is forgotten first
    for i in ids:
        seen.remember([str(i)])
        if str(i) not in model:
            model = [*model, str(i)][-capacity:]
    everything = [str(i) for i in range(61)]
    assert len(seen) == len(model) <= capacity
    assert set(everything) - set(seen.unseen(everything)) == set(model)
    seen.close()


def test_a_failed_publish_forgets_nothing_and_ingests_later(tmp_path: Path) -> None:
    class FlakyQueue(MemoryQueue):
        fail = True

        def publish(self, topic: str, records: object) -> None:
            if self.fail:
                raise QueueUnavailableError("disk full")
            super().publish(topic, records)  # type: ignore[arg-type]

    queue = FlakyQueue()
    ingest = ingestor(queue, tmp_path, RecordingObserver())
    with pytest.raises(QueueUnavailableError):
        ingest.ingest("x", [mention("x:1")])
    queue.fail = False
    assert ingest.ingest("x", [mention("x:1")]).accepted == 1


def test_a_recording_holds_raw_and_normalized_and_replays(tmp_path: Path) -> None:
    record = tmp_path / "recorded.jsonl"
    queue = MemoryQueue()
    ingest = ingestor(queue, tmp_path, RecordingObserver(), record=record)
    raw = {"data": {"id": "1", "text": "@contoso hi"}, "author": {"username": "ann"}}
    ingest.ingest("x", [mention("x:1", raw=raw), mention("x:1"), mention("facebook:2")])
    ingest.close()
    lines = list(read_stream(record))
    assert [line.result.id for line in lines] == ["x:1", "facebook:2"]  # type: ignore[union-attr]
    assert lines[0].result.raw == raw  # type: ignore[union-attr]
    assert [line.result for line in lines] == queued(queue)


def test_replay_plays_a_recording_back(tmp_path: Path) -> None:
    from tests.streams import write_config
    from workers.cli import main

    # Given mentions recorded while listening (labels let replay route without a model)
    record = tmp_path / "recorded.jsonl"
    ingest = ingestor(MemoryQueue(), tmp_path, RecordingObserver(), record=record)
    labels = {"topic": "billing", "urgency": "normal", "sentiment": "negative"}
    ingest.ingest("x", [mention(f"x:{i}", labels=labels, raw={"data": {"id": str(i)}})
                        for i in range(5)])  # fmt: skip
    ingest.close()
    roster, taxonomy = write_config(tmp_path)
    out = tmp_path / "outcomes.jsonl"
    # When it is replayed
    code = main(["replay", str(record), "--use-labels", "--no-metrics", "--roster", str(roster),
                 "--taxonomy", str(taxonomy), "--state", str(tmp_path / "replay"),
                 "--out", str(out)])  # fmt: skip
    # Then every recorded mention gets a routing outcome
    assert code == 0
    decided = {json.loads(line)["mention_id"] for line in out.read_text().splitlines()}
    assert decided == {f"x:{i}" for i in range(5)}
