"""The demo end to end: train on the seed set, replay the Contoso stream, print the summary."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from workers.cli import main


@pytest.mark.slow
def test_demo_assigns_to_several_people_backlogs_what_it_cannot_cover_and_never_overruns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the demo runs from scratch
    assert main(["demo", "--state", str(tmp_path), "--no-metrics"]) == 0
    summary = capsys.readouterr().out
    # Then the model was trained and the stream replayed into an outcome file
    assert (tmp_path / "model.skops").exists()
    lines = [json.loads(x) for x in (tmp_path / "assignments.jsonl").read_text().splitlines()]
    final = {o["mention_id"]: o for o in lines}
    statuses = Counter(o["status"] for o in final.values())
    # Several employees got work, and what the roster could not cover waits or is escalated
    assert len({o["employee_id"] for o in final.values() if o["status"] == "assigned"}) >= 5
    assert statuses["backlogged"] + statuses["escalated"] > 0
    assert "budget overruns: none" in summary
    assert "employee" in summary
    assert "SLA met" in summary
