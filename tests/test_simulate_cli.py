"""``mention-router simulate`` and ``explain`` as users call them."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from connectors.codec import decode_outcome
from routing.models import Assignment
from tests.streams import write_config, write_stream
from workers.cli import main


@pytest.mark.parametrize("policy", ["adaptive", "greedy", "round-robin", "least-loaded", "optimal"])
def test_simulate_prints_the_report_and_writes_outcomes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str
) -> None:
    # Given a labeled stream and a roster
    stream = write_stream(tmp_path / "stream.jsonl", 300)
    roster, taxonomy = write_config(tmp_path)
    out = tmp_path / "out.jsonl"
    # When it is simulated with one policy
    args = ["--roster", str(roster), "--taxonomy", str(taxonomy), "--use-labels"]
    code = main(
        [
            "simulate",
            "--stream",
            str(stream),
            *args,
            "--policy",
            policy,
            "--json",
            "--out",
            str(out),
        ]
    )
    # Then the report has every documented figure, with no overrun
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("mentions", "assigned", "backlogged", "escalated", "sla_attainment",
                "employees", "budget_overruns", "fairness_gini", "total_value"):  # fmt: skip
        assert key in report
    assert report["mentions"] == 300
    assert report["budget_overruns"] == 0
    assert report["assigned"] + report["escalated"] + report["backlogged"] == 300
    assert set(report["employees"]) == {"anna", "bram", "cleo"}
    # And the outcome file is in the replay --out format
    outcomes = [decode_outcome(line) for line in out.read_bytes().splitlines()]
    assert {o.mention_id for o in outcomes} == {f"x:{1_000_000 + i}" for i in range(300)}
    # And the median wait per urgency is that of the assignments written out
    final = {o.mention_id: o for o in outcomes}.values()
    for urgency, reported in report["minutes_to_assignment"].items():
        waits = [
            (o.assigned_at - o.created_at).total_seconds() / 60
            for o in final
            if isinstance(o, Assignment) and o.urgency.value == urgency
        ]
        assert reported == (round(statistics.median(waits), 1) if waits else None)


def replayed(tmp_path: Path) -> tuple[Path, Path]:
    """A replay of 50 labeled mentions: its state directory and its outcome file."""
    stream = write_stream(tmp_path / "stream.jsonl", 50)
    roster, taxonomy = write_config(tmp_path)
    state, out = tmp_path / "state", tmp_path / "out.jsonl"
    replay = ["replay", str(stream), "--use-labels", "--no-metrics", "--roster", str(roster),
              "--taxonomy", str(taxonomy), "--state", str(state), "--out", str(out)]  # fmt: skip
    assert main(replay) == 0
    return state, out


def test_explain_tells_why_after_a_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _ = replayed(tmp_path)
    capsys.readouterr()
    assert main(["explain", "x:1000010", "--state", str(state)]) == 0
    text = capsys.readouterr().out
    assert "policy adaptive" in text
    assert "value" in text
    assert main(["explain", "x:nope", "--state", str(state)]) == 2


def test_explain_says_a_mention_still_waiting_is_waiting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a replay that ends with mentions still waiting for someone
    state, out = replayed(tmp_path)
    final = {o.mention_id: o for o in map(decode_outcome, out.read_bytes().splitlines())}
    waiting = sorted(i for i, o in final.items() if o.status == "backlogged")
    answered = sorted(i for i, o in final.items() if o.status == "assigned")
    assert waiting
    assert answered
    capsys.readouterr()
    # When a lead asks why one of them has no one yet
    assert main(["explain", waiting[0], "--state", str(state)]) == 0
    text = capsys.readouterr().out
    # Then explain says it is still waiting, when it is due, and what happens next
    assert (
        "still waiting at the last decision logged: due " + final[waiting[0]].due_at.isoformat()
        in text
    )
    assert "escalated at its last chance" in text
    # And says nothing of the kind about an assigned one
    assert main(["explain", answered[0], "--state", str(state)]) == 0
    assert "still waiting" not in capsys.readouterr().out
