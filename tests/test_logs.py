"""JSON logs: every line parses, one correlation id follows a mention, its text never shows."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.streams import TEXTS, write_config, write_stream
from workers.cli import build_parser
from workers.logs import JsonFormatter, configure_logging


def replay_with_json_logs(tmp_path: Path, level: str) -> list[str]:
    stream = write_stream(tmp_path / "stream.jsonl", 120)
    roster, taxonomy = write_config(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", "--log-format", "json", "--log-level", level,
         "replay", str(stream), "--roster", str(roster), "--taxonomy", str(taxonomy),
         "--use-labels", "--metrics-port", "0", "--state", str(tmp_path / "state"), "--json"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


@pytest.fixture(scope="module")
def debug_lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return replay_with_json_logs(tmp_path_factory.mktemp("debug"), "DEBUG")


def test_a_replay_logs_json_with_one_correlation_id_per_mention_across_stages(
    debug_lines: list[str],
) -> None:
    # When a replay runs with JSON logs at DEBUG
    lines = debug_lines

    # Then every line is one JSON object with the common fields
    entries = [json.loads(line) for line in lines]
    assert entries
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
    # And each mention's id shows in the lines of several stages
    stages: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if "correlation_id" in entry:
            stages[entry["correlation_id"]].add(entry["stage"])
    assert len(stages) == 120
    assert all({"ingest", "classify", "route"} <= seen for seen in stages.values())
    assert any("deliver" in seen for seen in stages.values())
    # And the route line carries the decision
    routed = [e for e in entries if e.get("stage") == "route"]
    assert {e["outcome"] for e in routed} <= {"assigned", "backlogged", "escalated", "rejected"}
    assert all("employee" in e for e in routed if e["outcome"] == "assigned")


def test_mention_text_is_never_logged(debug_lines: list[str]) -> None:
    lines = debug_lines
    texts = [text for language in TEXTS.values() for text in language]

    for line in lines:
        assert not any(text in line for text in texts), line
    info = [json.loads(line) for line in lines if json.loads(line)["level"] != "debug"]
    assert info  # the replay logs at INFO too (where its endpoint is), and those lines are clean


def test_info_level_has_no_line_per_mention(tmp_path: Path) -> None:
    entries = [json.loads(line) for line in replay_with_json_logs(tmp_path, "INFO")]

    assert entries
    assert all(e["level"] != "debug" for e in entries)
    assert not [e for e in entries if "correlation_id" in e]


def test_the_formatter_keeps_extra_fields_and_exceptions() -> None:
    record = logging.LogRecord("mention_router", logging.ERROR, __file__, 1, "x %s", ("y",), None)
    record.correlation_id = "x:1"
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()

    entry = json.loads(JsonFormatter().format(record))

    assert entry["message"] == "x y"
    assert entry["correlation_id"] == "x:1"
    assert entry["level"] == "error"
    assert "ValueError: boom" in entry["exception"]


def test_text_is_the_default_and_an_unknown_format_is_refused() -> None:
    assert build_parser().parse_args(["demo"]).log_format == "text"
    with pytest.raises(ValueError, match="unknown log format 'xml'"):
        configure_logging("INFO", "xml", io.StringIO())
