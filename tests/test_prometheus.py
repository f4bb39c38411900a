"""A real Prometheus scrapes a worker replaying a stream: the catalogue adds up, rules load."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from tests.factories import REPO, free_port, need_outside_part, stop_process
from tests.streams import write_config, write_stream
from tests.test_metrics import catalogue

pytestmark = [pytest.mark.prometheus, pytest.mark.integration, pytest.mark.slow]

MENTIONS = 300
BAD_LINES = 2
T = TypeVar("T")


def answers(url: str) -> bool | None:
    with urllib.request.urlopen(url, timeout=5) as response:
        return True if response.status == 200 else None


def get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60.0) -> T:
    """Call ``probe`` until it returns a value other than None, for at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = probe()
        except (OSError, ValueError):
            value = None
        if value is not None:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A Prometheus on a free loopback port scraping a worker port every second."""
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    need_outside_part(Path(binary).exists(), "the Prometheus server (Debian package prometheus)")
    worker_port, port = free_port(), free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(REPO / "config" / "alerts.yml")],
        "scrape_configs": [{
            "job_name": "mention-router",
            "static_configs": [{"targets": [f"127.0.0.1:{worker_port}"]}],
        }],
    }))  # fmt: skip
    with (tmp_path / "prometheus.log").open("wb") as log:  # the child keeps its own handle
        process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("Prometheus to be ready", lambda: answers(f"{base}/-/ready"))
        yield base, worker_port
    finally:
        stop_process(process)


def query(base: str, promql: str) -> float | None:
    """The single value of an instant query, or None when it has no result yet."""
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    result = get_json(url)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def equals(base: str, promql: str, expected: float) -> Callable[[], bool | None]:
    return lambda: True if query(base, promql) == expected else None


def final_statuses(out: Path) -> dict[str, int]:
    last: dict[str, str] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        outcome = json.loads(line)
        last[outcome["mention_id"]] = outcome["status"]
    counts: dict[str, int] = {}
    for status in last.values():
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_prometheus_sees_the_documented_metrics_with_the_expected_values(
    prometheus: tuple[str, int], tmp_path: Path
) -> None:
    base, worker_port = prometheus
    # Given a stream of 300 mentions over about 10 hours, and 2 malformed lines at its end
    stream = write_stream(tmp_path / "stream.jsonl", MENTIONS)
    with stream.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "x:broken"}\n' * BAD_LINES)
    roster, taxonomy = write_config(tmp_path)
    out = tmp_path / "assignments.jsonl"

    # When the worker replays it at 3,600x (about 10 s) with its metrics on the scraped port
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "replay", str(stream), "--speed", "3600",
             "--roster", str(roster), "--taxonomy", str(taxonomy), "--use-labels",
             "--state", str(tmp_path / "state"), "--out", str(out),
             "--metrics-port", str(worker_port), "--linger", "120"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    worker_url = f"http://127.0.0.1:{worker_port}"
    try:
        # Then Prometheus scrapes it and sees every mention in, and the replay's end
        wait_for("the target up", equals(base, 'up{job="mention-router"}', 1))
        in_total = f'sum(mention_router_mentions_in_total{{connector="replay"}}) == {MENTIONS}'
        wait_for("every mention scraped as in", lambda: query(base, in_total))

        def ended() -> str | None:  # the replay closes its queue, and /readyz says so
            reason: str | None = get_json(f"{worker_url}/readyz")["failed"].get("queue")
            return reason

        assert wait_for("the replay to end", ended) == "the replay has ended and closed its queue"
        statuses = final_statuses(out)
        scraped = f"timestamp(mention_router_backlog_mentions) > {time.time() + 1}"
        wait_for("a scrape after the end", lambda: query(base, scraped))

        # The flow adds up: every mention in is assigned, waiting, escalated or rejected
        decided = (
            'sum(mention_router_outcomes_total{outcome=~"assigned|escalated|rejected"})'
            " + sum(mention_router_backlog_mentions) + sum(mention_router_duplicate_mentions_total)"
        )
        assert query(base, decided) == MENTIONS
        assigned = statuses.get("assigned", 0)
        assert assigned > 0
        assert query(base, 'sum(mention_router_outcomes_total{outcome="assigned"})') == assigned
        assert query(base, "sum(mention_router_backlog_mentions)") == statuses.get("backlogged", 0)
        escalated = 'sum(mention_router_outcomes_total{outcome="escalated"})'
        assert query(base, escalated) == statuses.get("escalated", 0)
        ages = 'sum(mention_router_latency_seconds_count{span="ingest_to_assigned"})'
        assert query(base, ages) == assigned
        assert query(base, 'sum(mention_router_stage_records_total{stage="classify"})') == (
            MENTIONS
        )
        assert query(base, 'mention_router_malformed_mentions_total{connector="replay"}') == (
            BAD_LINES
        )
        errors = 'mention_router_connector_errors_total{connector="replay",kind="malformed"}'
        assert query(base, errors) == BAD_LINES
        assert query(base, 'mention_router_connector_up{connector="replay"}') == 1
        assert query(base, 'count(mention_router_build_info{model_version="labels"})') == 1

        # Every metric of the README's catalogue is in Prometheus
        names = get_json(f"{base}/api/v1/label/__name__/values")["data"]
        for name in catalogue():
            assert name in names or f"{name}_bucket" in names, name

        # And the rules loaded; dead letters appeared, so that alert fires
        rules = get_json(f"{base}/api/v1/rules")["data"]["groups"]
        alerts = {r["name"] for g in rules for r in g["rules"] if r["type"] == "alerting"}
        assert "MentionRouterDeadLetters" in alerts
        assert len(alerts) == 9

        def firing() -> set[str] | None:
            active = get_json(f"{base}/api/v1/alerts")["data"]["alerts"]
            names = {a["labels"]["alertname"] for a in active if a["state"] == "firing"}
            return names if "MentionRouterDeadLetters" in names else None

        assert "MentionRouterConnectorDown" not in wait_for("the dead-letter alert", firing)
        assert get_json(f"{worker_url}/healthz") == {"status": "alive"}
    finally:
        stop_process(worker)
