"""The whole pipeline on the embedded queue: replay determinism, bad lines, crash and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.streams import stream_lines, write_config, write_stream
from workers.cli import main

REPO = Path(__file__).resolve().parents[1]


def replay_args(stream: Path, tmp: Path, name: str, *extra: str) -> list[str]:
    roster, taxonomy = write_config(tmp)
    return [
        "replay",
        str(stream),
        "--use-labels",
        "--no-metrics",
        "--roster",
        str(roster),
        "--taxonomy",
        str(taxonomy),
        "--state",
        str(tmp / name),
        "--out",
        str(tmp / f"{name}.jsonl"),
        *extra,
    ]


def outcomes(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def final_states(path: Path) -> dict[str, str]:
    final: dict[str, str] = {}
    for outcome in outcomes(path):
        final[str(outcome["mention_id"])] = str(outcome["status"])
    return final


def test_two_replays_of_one_stream_give_byte_identical_outcomes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a recorded stream of 600 mentions over two days
    stream = write_stream(tmp_path / "stream.jsonl", 600)
    # When it is replayed twice from scratch
    assert main(replay_args(stream, tmp_path, "first")) == 0
    assert main(replay_args(stream, tmp_path, "second")) == 0
    # Then both outcome files are identical to the byte, and hold every mention
    first, second = (
        (tmp_path / "first.jsonl").read_bytes(),
        (tmp_path / "second.jsonl").read_bytes(),
    )
    assert first == second
    assert len(final_states(tmp_path / "first.jsonl")) == 600
    summary = capsys.readouterr().out
    assert "budget overruns: none" in summary


def test_outcome_lines_carry_the_documented_fields(tmp_path: Path) -> None:
    stream = write_stream(tmp_path / "stream.jsonl", 200)
    assert main(replay_args(stream, tmp_path, "run")) == 0
    lines = outcomes(tmp_path / "run.jsonl")
    assigned = [o for o in lines if o["status"] == "assigned"]
    waiting = [o for o in lines if o["status"] != "assigned"]
    assert assigned
    assert waiting
    for field in (
        "mention_id", "employee_id", "platform", "account", "topic", "urgency", "score",
        "estimated_minutes", "assigned_at", "due_at",
    ):  # fmt: skip
        assert field in assigned[0]
    assert {"mention_id", "status", "reason", "due_at"} <= set(waiting[0])


def test_malformed_lines_are_reported_counted_dead_lettered_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stream with a broken JSON line, a naive timestamp and a missing author
    good = stream_lines(5)
    naive = json.loads(good[1]) | {"id": "x:naive", "created_at": "2026-03-02T10:00:00"}
    no_author = {k: v for k, v in json.loads(good[2]).items() if k != "author"} | {"id": "x:noauth"}
    lines = [good[0], '{"id": "x:broken", ', json.dumps(naive), json.dumps(no_author), *good[3:]]
    stream = tmp_path / "stream.jsonl"
    stream.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # When it is replayed
    assert main([*replay_args(stream, tmp_path, "run"), "--json"]) == 0
    # Then the good mentions are routed, and each bad line is in the dead-letter file
    report = json.loads(capsys.readouterr().out)
    assert report["malformed"] == 3
    assert report["mentions"] == 3
    dead = [
        json.loads(x) for x in (tmp_path / "run" / "dead-letters.jsonl").read_text().splitlines()
    ]
    assert [d["line"] for d in dead] == [2, 3, 4]
    assert "invalid JSON" in dead[0]["reason"]
    assert "offset" in dead[1]["reason"]
    assert "author" in dead[2]["reason"]
    assert dead[0]["raw"] == '{"id": "x:broken", '


def _run_replay_process(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.cli", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def _checkpointed(path: Path) -> bool:
    """Whether a replay has made some of its stream durable (and decided) but not all."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # not written yet, or being replaced
        return False
    return int(data["line"]) > 0 and not data["done"]


@pytest.mark.slow
def test_sigkill_mid_stream_then_restart_assigns_every_mention_exactly_once(
    tmp_path: Path,
) -> None:
    # Given a stream long enough to kill the replay in the middle, and a clean reference run
    count = 6000
    stream = write_stream(tmp_path / "stream.jsonl", count)
    assert main(replay_args(stream, tmp_path, "reference")) == 0
    args = [*replay_args(stream, tmp_path, "crashed"), "--log-level", "ERROR"]
    out = tmp_path / "crashed.jsonl"
    # When the replay is killed with SIGKILL once part of the stream is checkpointed as
    # done and more of the output is being written
    log = tmp_path / "stderr.log"
    checkpoint = tmp_path / "crashed" / "checkpoint.json"
    process = _run_replay_process(args, log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if _checkpointed(checkpoint) and out.stat().st_size > 200_000:
                break
            time.sleep(0.005)
        assert process.poll() is None, (
            "the replay ended before it could be killed: " + log.read_text()
        )
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=10)
    partial = len(final_states(out)) if out.exists() else 0
    assert 0 < partial < count
    # And restarted with the same command
    restarted = _run_replay_process(args, log)
    assert restarted.wait(timeout=120) == 0, log.read_text()
    # Then every mention is decided exactly once, exactly as in the run that never crashed
    finals = [o for o in outcomes(out) if o["status"] != "backlogged"]
    assert max(Counter(o["mention_id"] for o in finals).values()) == 1
    assert len(final_states(out)) == count
    assert out.read_bytes() == (tmp_path / "reference.jsonl").read_bytes()


def test_a_second_replay_of_a_finished_run_starts_fresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = write_stream(tmp_path / "stream.jsonl", 50)
    assert main(replay_args(stream, tmp_path, "run")) == 0
    first = (tmp_path / "run.jsonl").read_bytes()
    assert main(replay_args(stream, tmp_path, "run")) == 0
    assert (tmp_path / "run.jsonl").read_bytes() == first
    assert "resumed" not in capsys.readouterr().out
