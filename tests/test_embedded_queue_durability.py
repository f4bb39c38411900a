"""The embedded queue keeps what it acknowledged: across reopen, kill, and concurrent writers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from connectors.queues import EmbeddedQueue, Record
from routing.errors import QueueError, QueueUnavailableError

TOPIC = "mentions"
REPO = Path(__file__).resolve().parents[1]
WRITER = Path(__file__).resolve().parent / "_queue_writer.py"


def _start_writer(
    path: Path, name: str, batches: int, size: int, pause: float = 0.0
) -> subprocess.Popen[str]:
    """A child publishing to ``path``; it has opened the file once this returns."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(path), TOPIC, name, str(batches), str(size), str(pause)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    ready = child.stdout.readline()
    if ready != "ready\n":
        child.kill()
        _, err = child.communicate(timeout=10)
        pytest.fail(f"writer {name} did not start: {ready!r} {err}")
    return child


def _go(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()


def test_records_and_commits_survive_close_and_reopen(tmp_path: Path) -> None:
    # Given records published and partly committed, then the queue closed
    path = tmp_path / "queue.db"
    queue = EmbeddedQueue(path)
    queue.publish(TOPIC, [("a", b"one"), ("b", b"two"), (None, b"three")])
    consumer = queue.consumer(TOPIC, "router")
    consumer.commit(consumer.poll(max_records=2), metadata="out=42")
    queue.close()

    # When the file is opened again
    reopened = EmbeddedQueue(path)

    # Then the records, the commit and its metadata are all there
    assert [(r.key, r.value) for r in reopened.scan(TOPIC)] == [
        ("a", b"one"),
        ("b", b"two"),
        (None, b"three"),
    ]
    resumed = reopened.consumer(TOPIC, "router")
    assert resumed.committed()[0].metadata == "out=42"
    assert [r.value for r in resumed.poll()] == [b"three"]
    reopened.close()


def test_closed_queue_refuses_further_use(tmp_path: Path) -> None:
    queue = EmbeddedQueue(tmp_path / "queue.db")
    queue.publish(TOPIC, [("k", b"v")])
    queue.close()

    with pytest.raises(QueueError, match="closed"):
        queue.publish(TOPIC, [("k", b"v")])


def test_a_transaction_makes_publishes_and_a_commit_durable_together(tmp_path: Path) -> None:
    # Given a consumer that read two records
    path = tmp_path / "queue.db"
    queue = EmbeddedQueue(path)
    queue.publish(TOPIC, [("a", b"one"), ("b", b"two")])
    consumer = queue.consumer(TOPIC, "router")
    records = consumer.poll()
    # When its output and its commit go in one transaction, with a nested one inside
    with queue.transaction():
        queue.publish("decisions", [("a", b"d1")])
        with queue.transaction():
            queue.publish("decisions", [("b", b"d2")])
        consumer.commit(records, metadata="2")
        # Then another connection sees none of it before the end of the block
        other = EmbeddedQueue(path)
        assert other.end_offset("decisions") == 0
        assert other.consumer(TOPIC, "router").committed() == {}
        other.close()
    queue.close()
    # And all of it after
    reopened = EmbeddedQueue(path)
    assert [r.value for r in reopened.scan("decisions")] == [b"d1", b"d2"]
    assert reopened.consumer(TOPIC, "router").committed()[0].offset == 2
    reopened.close()


def test_a_transaction_that_raises_leaves_nothing_behind(tmp_path: Path) -> None:
    queue = EmbeddedQueue(tmp_path / "queue.db")
    queue.publish(TOPIC, [("a", b"one")])
    consumer = queue.consumer(TOPIC, "router")
    records = consumer.poll()

    def failing_stage() -> None:
        with queue.transaction():
            queue.publish("decisions", [("a", b"d1")])
            consumer.commit(records)
            raise RuntimeError("stage failed")

    with pytest.raises(RuntimeError, match="stage failed"):
        failing_stage()
    assert queue.end_offset("decisions") == 0
    assert consumer.committed() == {}
    queue.publish("decisions", [("a", b"d1")])  # and the queue goes on
    assert queue.end_offset("decisions") == 1
    queue.close()


@pytest.mark.timeout(60)
def test_acknowledged_records_survive_a_kill(tmp_path: Path) -> None:
    # Given a child publishing batches of 50 and reporting each acknowledged batch
    path = tmp_path / "queue.db"
    child = _start_writer(path, "w", batches=1_000_000, size=50)
    assert child.stdout is not None
    acked = -1
    try:
        _go(child)
        for _ in range(40):
            line = child.stdout.readline()
            if not line:
                break
            acked = int(line)
    finally:
        # When it is killed mid-stream
        child.kill()
        child.communicate(timeout=10)
    assert child.returncode == -9
    assert acked >= 0, "the writer acknowledged nothing before it was killed"

    # Then every acknowledged record is there once, in order, and the file takes more
    queue = EmbeddedQueue(path)
    values = [r.value for r in queue.scan(TOPIC)]
    assert len(values) > acked
    assert values == [f"w-{i}".encode() for i in range(len(values))]
    queue.publish(TOPIC, [("after", b"after")])
    assert queue.end_offset(TOPIC) == len(values) + 1
    queue.close()


@pytest.mark.timeout(60)
def test_two_processes_publishing_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    # Given two child processes on one fresh file, both open before either writes
    path = tmp_path / "queue.db"
    children = [_start_writer(path, name, 40, 25, pause=0.005) for name in ("x", "y")]

    # When they publish at the same time
    for child in children:
        _go(child)
    for child in children:
        _, err = child.communicate(timeout=50)
        assert child.returncode == 0, err

    # Then offsets are dense and each writer's records appear once, in its order
    records = list(EmbeddedQueue(path).scan(TOPIC))
    assert [r.offset for r in records] == list(range(2000))
    assert _turns(records) > 2, "the writers never interleaved, so the test proved nothing"
    for name in ("x", "y"):
        mine = [r.value for r in records if r.key == name]
        assert mine == [f"{name}-{i}".encode() for i in range(1000)]


def _turns(records: list[Record]) -> int:
    return 1 + sum(1 for a, b in pairwise(records) if a.key != b.key)


def _directory(tmp_path: Path) -> Path:
    return tmp_path


def _not_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not a database\n" * 200)
    return path


def _foreign_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    return path


def _under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "plain").write_text("x")
    return tmp_path / "plain" / "queue.db"


@pytest.mark.parametrize(
    "bad_path",
    [_directory, _not_sqlite, _foreign_sqlite, _under_a_file],
    ids=["directory", "not-sqlite", "foreign-sqlite", "parent-is-a-file"],
)
def test_unusable_file_is_unavailable_and_named(
    tmp_path: Path, bad_path: Callable[[Path], Path]
) -> None:
    path = bad_path(tmp_path)

    with pytest.raises(QueueUnavailableError) as caught:
        EmbeddedQueue(path).check()

    assert str(path) in str(caught.value)


def test_file_locked_too_long_is_unavailable(tmp_path: Path) -> None:
    # Given another connection holding the write lock
    path = tmp_path / "queue.db"
    EmbeddedQueue(path).check()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")

    # When a publish waits longer than the busy timeout
    queue = EmbeddedQueue(path, busy_timeout=0.1)
    try:
        with pytest.raises(QueueUnavailableError, match="locked") as caught:
            queue.publish(TOPIC, [("k", b"v")])
    finally:
        holder.rollback()
        holder.close()

    # Then the error names the file and chains SQLite's, and the queue works once freed
    assert str(path) in str(caught.value)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    queue.publish(TOPIC, [("k", b"v")])
    assert queue.end_offset(TOPIC) == 1
    queue.close()
