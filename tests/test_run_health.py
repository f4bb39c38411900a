"""``mention-router run`` serves /readyz and /healthz beside /metrics while it works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.factories import free_port
from tests.streams import write_config


def probe(url: str) -> tuple[int, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return None


def test_a_running_worker_is_ready_with_its_queue_and_model_and_answers_metrics(
    tmp_path: Path,
) -> None:
    # Given a worker running every role on an embedded queue, serving on a free port
    roster, taxonomy = write_config(tmp_path)
    port = free_port()
    env = dict(os.environ, MENTION_ROUTER_QUEUE__URL=f"embedded:{tmp_path / 'queue.db'}",
               MENTION_ROUTER_STATE_DIR=str(tmp_path / "var"))  # fmt: skip
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "run", "--use-labels", "--roster", str(roster),
             "--taxonomy", str(taxonomy), "--out", str(tmp_path / "out.jsonl"),
             "--metrics-port", str(port)],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    try:
        # When /readyz answers 200 (within 30 s; it answers 503 while the worker starts)
        deadline, ready = time.monotonic() + 30, None
        while time.monotonic() < deadline and (ready is None or ready[0] != 200):
            ready = probe(f"http://127.0.0.1:{port}/readyz")
            time.sleep(0.2)
        assert ready is not None, (tmp_path / "worker.log").read_text()

        # Then it is ready: its queue answered a round, the model is loaded, no connector down
        status, body = ready
        report = json.loads(body)
        assert status == 200, report
        assert report["checks"] == {"connectors": "ok", "model": "ok", "queue": "ok"}
        assert probe(f"http://127.0.0.1:{port}/healthz") == (200, b'{"status": "alive"}')
        metrics = probe(f"http://127.0.0.1:{port}/metrics")
        assert metrics is not None
        assert b'mention_router_build_info{model_version="labels"' in metrics[1]
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    # And SIGTERM stops it cleanly
    assert worker.returncode == 0


def test_a_worker_waiting_for_its_queue_is_alive_and_says_why_it_is_not_ready(
    tmp_path: Path,
) -> None:
    # Given a worker whose Kafka broker does not answer (nothing listens on the port)
    roster, taxonomy = write_config(tmp_path)
    port, dead = free_port(), free_port()
    env = dict(os.environ, MENTION_ROUTER_QUEUE__URL=f"kafka://127.0.0.1:{dead}",
               MENTION_ROUTER_QUEUE__STARTUP_TIMEOUT_SECONDS="60",
               MENTION_ROUTER_STATE_DIR=str(tmp_path / "var"))  # fmt: skip
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "run", "--role", "route", "--use-labels",
             "--roster", str(roster), "--taxonomy", str(taxonomy), "--metrics-port", str(port)],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    try:
        # When /readyz answers while the worker retries the broker (within 30 s)
        deadline, ready = time.monotonic() + 30, None
        while time.monotonic() < deadline and ready is None:
            ready = probe(f"http://127.0.0.1:{port}/readyz")
            time.sleep(0.2)
        assert ready is not None, (tmp_path / "worker.log").read_text()

        # Then it is alive but not ready, and names the queue as the reason
        status, body = ready
        assert status == 503
        failed = json.loads(body)["failed"]
        assert failed["queue"] == "queue not open yet"
        assert set(failed) == {"queue", "model"}  # nothing is built before the queue answers
        assert probe(f"http://127.0.0.1:{port}/healthz") == (200, b'{"status": "alive"}')
    finally:
        worker.terminate()
        worker.wait(timeout=20)
