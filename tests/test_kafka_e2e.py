"""End to end on Kafka: ingest, two classify processes (one SIGKILLed midway), router, delivery.

Every mention must end assigned, backlogged or escalated exactly once, the out file must hold
each logged outcome once, and nobody may go over their daily budget.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from config.settings import TopicNames
from connectors.queues import Queue, open_queue
from tests.kafka_broker import Broker
from tests.streams import TAXONOMY_YAML, stream_lines
from workers.decisionlog import decisions_in

pytestmark = [pytest.mark.kafka, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
MENTIONS = 10_000
KILL_AFTER = 3_000  # classified records seen before one classify process is killed
FINAL = {"assigned", "escalated", "rejected"}
# Round-the-clock hours, so that whenever the test runs someone can take work.
ROSTER = {
    "employees": [
        {"id": "anna", "name": "Anna", "team": "care-nl", "languages": ["nl", "en"],
         "accounts": {"x": "@anna", "facebook": "anna"},
         "skills": {"billing": 0.9, "outage": 0.5, "praise": 0.3}, "budget_minutes_per_day": 120,
         "timezone": "Europe/Amsterdam", "hours": "mon-sun 00:00-24:00"},
        {"id": "bram", "name": "Bram", "team": "care-nl", "languages": ["nl"],
         "accounts": {"x": "@bram", "facebook": "bram"},
         "skills": {"outage": 0.9, "praise": 0.4, "unknown": 0.5}, "budget_minutes_per_day": 90,
         "timezone": "Europe/Amsterdam", "hours": "mon-sun 00:00-24:00"},
        {"id": "cleo", "name": "Cleo", "team": "care-en", "languages": ["en"],
         "accounts": {"x": "@cleo", "facebook": "cleo"},
         "skills": {"billing": 0.6, "praise": 0.8, "outage": 0.3}, "budget_minutes_per_day": 60,
         "timezone": "Europe/London", "hours": "mon-sun 00:00-24:00"},
        {"id": "dana", "name": "Dana", "team": "care-en", "languages": ["en", "nl"],
         "accounts": {"x": "@dana"}, "skills": {"billing": 0.5, "outage": 0.5, "praise": 0.5},
         "budget_minutes_per_day": 45, "timezone": "America/New_York",
         "hours": "mon-sun 00:00-24:00"},
    ]
}  # fmt: skip


class Fleet:
    """The worker processes of one deployment, each logging to its own file."""

    def __init__(self, tmp: Path, config: Path) -> None:
        self.tmp = tmp
        self.config = config
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, role: str, *extra: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "workers.cli", "--config", str(self.config),
                   "--log-level", "INFO", "run", "--role", role, "--no-metrics",
                   *extra]  # fmt: skip
        with (self.tmp / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=_env()
            )
        self.processes[name] = process
        return process

    def stop(self, *names: str) -> None:
        """Stop the named processes (all when none is named) with SIGTERM, as a supervisor would."""
        chosen = [p for n, p in self.processes.items() if not names or n in names]
        for process in chosen:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in chosen:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.tmp.glob("*.log")
        )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTION_ROUTER_")}
    return env | {"PYTHONPATH": str(REPO)}


@pytest.fixture
def fleet(tmp_path: Path, kafka_broker: Broker) -> Iterator[tuple[Fleet, str]]:
    url = kafka_broker.url()
    (tmp_path / "roster.yaml").write_text(yaml.safe_dump(ROSTER), encoding="utf-8")
    (tmp_path / "taxonomy.yaml").write_text(TAXONOMY_YAML, encoding="utf-8")
    config = tmp_path / "mention-router.yaml"
    settings = {
        "queue": {"url": url, "batch_size": 200, "poll_timeout_seconds": 0.2, "partitions": 4},
        "routing": {"roster": str(tmp_path / "roster.yaml"),
                    "taxonomy": str(tmp_path / "taxonomy.yaml")},
        "output": {"assignments": str(tmp_path / "out.jsonl"),
                   "dead_letters": str(tmp_path / "dead.jsonl")},
        "state_dir": str(tmp_path / "state"),
    }  # fmt: skip
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    made = Fleet(tmp_path, config)
    yield made, url
    made.stop()


def _wait(condition: str, check: object, fleet: Fleet, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {condition}\n{fleet.logs()}")


def test_ten_thousand_mentions_survive_a_killed_classifier_exactly_once(
    fleet: tuple[Fleet, str], tmp_path: Path
) -> None:
    workers, url = fleet
    topics = TopicNames()
    # Given 10,000 mentions from the last 40 minutes, a quarter of a second apart
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)
    lines = stream_lines(MENTIONS, seed=11, start=start)
    lines = [_respace(line, start, i) for i, line in enumerate(lines)]
    stream = tmp_path / "stream.jsonl"
    stream.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ids = {json.loads(line)["id"] for line in lines}
    queue = open_queue(url)
    # When they are ingested at 250x their pace through two classifiers, a router and delivery
    workers.start("classify-a", "classify", "--use-labels")
    workers.start("classify-b", "classify", "--use-labels")
    workers.start("route", "route")
    workers.start("deliver", "deliver")
    ingest = workers.start("ingest", "ingest", "--stream", str(stream), "--speed", "250",
                           "--until-idle")  # fmt: skip
    # And one classifier is killed outright midway, then started again
    _wait("classified mentions", lambda: _end(queue, topics.classified) >= KILL_AFTER, workers, 90)
    killed = workers.processes["classify-a"]
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    assert _end(queue, topics.classified) < MENTIONS  # the stream was still flowing
    workers.start("classify-a2", "classify", "--use-labels")
    _wait("the ingest to finish", lambda: ingest.poll() is not None, workers, 120)
    assert ingest.returncode == 0, workers.logs()
    _wait("every mention decided", lambda: _decided(queue, topics) >= ids, workers, 120)
    workers.stop("classify-a2", "classify-b", "route")  # the router's clock would go on
    _wait("delivery", lambda: _delivered(tmp_path, queue, topics), workers, 60)
    workers.stop()

    # Then every mention ends assigned, backlogged or escalated exactly once
    outcomes = [d.outcome for d in decisions_in(queue, topics.decisions) if d.outcome]
    per_mention: dict[str, list[str]] = defaultdict(list)
    for outcome in outcomes:
        per_mention[outcome.mention_id].append(outcome.status)
    assert set(per_mention) == ids
    allowed = [["assigned"], ["escalated"], ["rejected"], ["backlogged"],
               ["backlogged", "assigned"], ["backlogged", "escalated"]]  # fmt: skip
    wrong = {m: s for m, s in per_mention.items() if s not in allowed}
    assert wrong == {}
    states = Counter(s[-1] for s in per_mention.values())
    assert states["assigned"] > 0
    assert states["backlogged"] > 0
    assert states["escalated"] > 0
    # And the out file holds each logged outcome once, in log order
    in_file = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(o["mention_id"], o["status"]) for o in in_file] == [
        (o.mention_id, o.status) for o in outcomes
    ]
    # And nobody went over their daily budget
    assert _overruns(in_file) == {}
    queue.close()


def _respace(line: str, start: datetime, index: int) -> str:
    record = json.loads(line)
    record["created_at"] = (start + timedelta(seconds=index / 4)).isoformat()
    return json.dumps(record)


def _end(queue: Queue, topic: str) -> int:
    return queue.end_offset(topic)


def _decided(queue: Queue, topics: TopicNames) -> set[str]:
    return {d.mention_id for d in decisions_in(queue, topics.decisions)}


def _delivered(tmp: Path, queue: Queue, topics: TopicNames) -> bool:
    out = tmp / "out.jsonl"
    lines = len(out.read_text().splitlines()) if out.exists() else 0
    return lines == queue.end_offset(topics.decisions)


def _overruns(outcomes: list[dict[str, object]]) -> dict[tuple[str, str], float]:
    budgets = {e["id"]: e for e in ROSTER["employees"]}
    used: dict[tuple[str, str], float] = defaultdict(float)
    for o in outcomes:
        if o["status"] != "assigned":
            continue
        employee = budgets[str(o["employee_id"])]
        at = datetime.fromisoformat(str(o["assigned_at"])).astimezone(
            ZoneInfo(str(employee["timezone"]))
        )
        used[(str(o["employee_id"]), at.date().isoformat())] += float(str(o["estimated_minutes"]))
    return {
        key: minutes
        for key, minutes in used.items()
        if minutes > float(str(budgets[key[0]]["budget_minutes_per_day"])) + 1e-6
    }
