"""Stream files: replay with resume, pacing on a fake clock, dead letters, recordings, outcomes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.codec import decode_outcome, encode_mention, encode_outcome
from connectors.files import (
    DeadLetterFile,
    OutcomeFile,
    StreamWriter,
    paced,
    read_stream,
)
from routing.errors import MalformedMentionError, MentionRouterError
from routing.models import Author, Mention, NotAssigned, Urgency

T0 = datetime(2017, 10, 31, 22, 0, tzinfo=UTC)


def mention(n: int, *, at: datetime = T0) -> Mention:
    return Mention(
        id=f"x:{n}",
        platform="x",
        author=Author(id=f"u{n}"),
        text=f"tweet {n}",
        created_at=at,
    )


def line(n: int) -> bytes:
    return encode_mention(mention(n)) + b"\n"


# --- read_stream ----------------------------------------------------------------------


@pytest.fixture
def stream(tmp_path: Path) -> Path:
    path = tmp_path / "stream.jsonl"
    path.write_bytes(
        line(1)  # 1
        + b"\n"  # 2: blank
        + b'{"id": "x:3", oops}\n'  # 3: not JSON
        + line(4).replace(b"\n", b"\r\n")  # 4: Windows line end
        + b"   \t\n"  # 5: blank
        + b'{"id": "caf\xe9"}\n'  # 6: not UTF-8
        + line(7).rstrip(b"\n")  # 7: last line without a newline
    )
    return path


def test_read_stream_yields_each_nonblank_line_with_its_number(stream: Path) -> None:
    # When the stream is read
    lines = list(read_stream(stream))
    # Then blank lines are skipped but counted, and bad lines come back as errors
    assert [entry.line for entry in lines] == [1, 3, 4, 6, 7]
    assert [type(entry.result) for entry in lines] == [
        Mention,
        MalformedMentionError,
        Mention,
        MalformedMentionError,
        Mention,
    ]
    assert lines[2].result == mention(4)
    assert lines[4].result == mention(7)


def test_a_malformed_line_carries_its_position_and_text(stream: Path) -> None:
    number, error, raw = list(read_stream(stream))[1]
    assert number == 3
    assert isinstance(error, MalformedMentionError)
    assert (error.source, error.line) == (str(stream), 3)
    assert error.reason.startswith("invalid JSON")
    assert raw == '{"id": "x:3", oops}'


def test_a_line_that_is_not_utf8_is_malformed_not_a_crash(stream: Path) -> None:
    number, error, raw = list(read_stream(stream, source="replay"))[3]
    assert number == 6
    assert isinstance(error, MalformedMentionError)
    assert error.reason == "not valid UTF-8: byte 0xe9 at position 11"
    assert str(error).startswith("replay:6: ")
    assert raw == '{"id": "caf\\xe9"}'


def test_resume_skips_lines_up_to_the_checkpoint(stream: Path) -> None:
    # Given a checkpoint after line 4 (the malformed line 3 is before it)
    # When reading resumes
    lines = list(read_stream(stream, start_after_line=4))
    # Then numbering continues from the file's real line numbers
    assert [entry.line for entry in lines] == [6, 7]
    assert list(read_stream(stream, start_after_line=7)) == []


def test_a_missing_stream_is_reported_when_asked_for(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(FileNotFoundError, match=r"nope\.jsonl"):
        read_stream(missing)


# --- StreamWriter --------------------------------------------------------------------


def test_a_recording_reads_back_as_the_same_mentions(tmp_path: Path) -> None:
    path = tmp_path / "rec" / "stream.jsonl"
    with StreamWriter(path) as writer:
        for n in range(3):
            writer.write(mention(n))
    assert writer.count == 3
    with StreamWriter(path, append=True) as writer:
        writer.write(mention(3))
    assert [entry.result for entry in read_stream(path)] == [mention(n) for n in range(4)]


def test_a_new_recording_replaces_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "stream.jsonl"
    path.write_bytes(line(1) + line(2))
    with StreamWriter(path) as writer:
        writer.write(mention(9))
    assert path.read_bytes() == line(9)


# --- paced ----------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock that moves only when slept on or advanced by the test."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def replay(
    offsets: Sequence[float],
    speed: float,
    clock: FakeClock,
    *,
    work: float = 0.0,
    max_gap: timedelta | None = None,
) -> list[float]:
    """Pace items stamped ``T0 + offsets`` and return the clock time each was yielded at."""
    stamps = [T0 + timedelta(seconds=s) for s in offsets]
    seen = []
    for _ in paced(
        stamps,
        speed=speed,
        timestamp=lambda t: t,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        max_gap=max_gap,
    ):
        seen.append(clock.now - 1000.0)
        clock.now += work  # the consumer's own processing time
    return seen


def test_speed_zero_never_waits() -> None:
    clock = FakeClock()
    assert replay([0, 60, 3600], 0, clock) == [0, 0, 0]
    assert clock.sleeps == []


def test_speed_one_keeps_the_original_gaps() -> None:
    clock = FakeClock()
    assert replay([0, 5, 5, 20], 1, clock) == [0, 5, 5, 20]
    assert clock.sleeps == [5, 15]


def test_speed_ten_is_ten_times_faster() -> None:
    clock = FakeClock()
    assert replay([0, 10, 30, 100], 10, clock) == pytest.approx([0, 1, 3, 10])


def test_slow_consumers_do_not_accumulate_drift() -> None:
    # Given a consumer that spends 2 s on each item of a stream one item per 5 s
    clock = FakeClock()
    # When the stream is replayed at its own pace
    seen = replay([0, 5, 10, 15], 1, clock, work=2.0)
    # Then each item is still released on the stream's schedule
    assert seen == [0, 5, 10, 15]
    assert clock.sleeps == [3, 3, 3]


def test_an_out_of_order_item_does_not_wait() -> None:
    clock = FakeClock()
    assert replay([0, 10, 4, 12], 1, clock) == [0, 10, 10, 12]
    assert clock.sleeps == [10, 2]


def test_max_gap_shortens_long_silences() -> None:
    clock = FakeClock()
    seen = replay([0, 5, 86_400, 86_410], 1, clock, max_gap=timedelta(seconds=60))
    assert seen == [0, 5, 65, 75]


def test_a_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="speed"):
        list(paced([T0], speed=-1, timestamp=lambda t: t))


# --- DeadLetterFile ------------------------------------------------------------------


def test_dead_letters_are_json_lines_with_position_reason_and_text(tmp_path: Path) -> None:
    path = tmp_path / "dead" / "letters.jsonl"
    error = MalformedMentionError("invalid JSON: oops", line=3, source="in.jsonl")
    # When two bad records are written, one of them as undecodable bytes
    with DeadLetterFile(path) as dead:
        dead.write(error, '{"id": oops}')
        dead.write(MalformedMentionError("not valid UTF-8"), b"caf\xe9")
    # Then both are kept, readable, with where they came from
    entries = [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]
    assert entries == [
        {"source": "in.jsonl", "line": 3, "reason": "invalid JSON: oops", "raw": '{"id": oops}'},
        {"source": "", "line": None, "reason": "not valid UTF-8", "raw": "caf\\xe9"},
    ]
    assert dead.count == 2


def test_dead_letters_append_and_appear_only_when_needed(tmp_path: Path) -> None:
    path = tmp_path / "dead.jsonl"
    with DeadLetterFile(path):
        pass
    assert not path.exists()
    for n in range(2):
        with DeadLetterFile(path) as dead:
            dead.write(MalformedMentionError(f"bad {n}"), "x")
    assert len(path.read_bytes().splitlines()) == 2


def test_a_lone_surrogate_in_a_dead_letter_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "dead.jsonl"
    with DeadLetterFile(path) as dead:
        dead.write(MalformedMentionError("bad"), "a\ud800b")
    assert json.loads(path.read_bytes())["raw"] == "a\ud800b"


# --- OutcomeFile ---------------------------------------------------------------------


def outcome(n: int) -> NotAssigned:
    return NotAssigned(
        status="backlogged",
        mention_id=f"x:{n}",
        platform="x",
        topic="billing",
        urgency=Urgency.NORMAL,
        language="en",
        reason="everyone is over budget",
        created_at=T0,
        decided_at=T0,
        due_at=T0 + timedelta(hours=1),
    )


def test_resume_cuts_off_what_was_written_after_the_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "out" / "outcomes.jsonl"
    # Given two outcomes made durable, then a third written but never checkpointed
    with OutcomeFile.open(path, resume_size=None) as out:
        assert out.write_many([outcome(1), outcome(2)]) == 2
        checkpoint = out.flush_durable()
        out.write(outcome(3))
    assert checkpoint == len(encode_outcome(outcome(1)) + encode_outcome(outcome(2))) + 2
    # When the file is reopened at the checkpoint and work continues
    with OutcomeFile.open(path, resume_size=checkpoint) as out:
        out.write_many([outcome(3), outcome(4)])
        size = out.flush_durable()
    # Then every outcome is there exactly once
    lines = path.read_bytes().splitlines()
    assert [decode_outcome(text).mention_id for text in lines] == ["x:1", "x:2", "x:3", "x:4"]
    assert size == path.stat().st_size


def test_opening_without_a_checkpoint_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.jsonl"
    path.write_bytes(b"old\n")
    with OutcomeFile.open(path) as out:
        assert out.flush_durable() == 0
    assert path.read_bytes() == b""


def test_resuming_at_zero_creates_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.jsonl"
    with OutcomeFile(path, resume_size=0) as out:
        out.write(outcome(1))
    assert decode_outcome(path.read_bytes()) == outcome(1)


def test_a_file_shorter_than_its_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.jsonl"
    path.write_bytes(b"{}\n")
    with pytest.raises(MentionRouterError, match="fewer than the 100 bytes checkpointed"):
        OutcomeFile.open(path, resume_size=100)
    assert path.read_bytes() == b"{}\n"


def test_a_closed_outcome_file_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.jsonl"
    with OutcomeFile.open(path) as out:
        out.write(outcome(1))
    with pytest.raises(ValueError, match="closed"):
        out.write(outcome(2))
    assert len(path.read_bytes().splitlines()) == 1


def test_encoded_lines_are_written_as_write_many_writes_outcomes(tmp_path: Path) -> None:
    made = [outcome(1), outcome(2), outcome(3)]
    with OutcomeFile.open(tmp_path / "many.jsonl") as out:
        out.write_many(made)
    with OutcomeFile.open(tmp_path / "lines.jsonl") as out:
        assert out.write_lines([encode_outcome(o) for o in made]) == 3
        assert out.write_lines([]) == 0
    assert (tmp_path / "lines.jsonl").read_bytes() == (tmp_path / "many.jsonl").read_bytes()
