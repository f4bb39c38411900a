"""``mention-router run`` (all roles) also runs the listening connectors the settings enable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.factories import free_port
from tests.streams import write_config
from tests.webhook_payloads import generic_mention

REPO = Path(__file__).resolve().parents[1]


def test_a_mention_pushed_to_the_webhook_of_a_running_worker_gets_its_outcome(
    tmp_path: Path,
) -> None:
    # Given one worker running every role, with the webhook connector turned on
    roster, taxonomy = write_config(tmp_path)
    hook, metrics, out = free_port(), free_port(), tmp_path / "out.jsonl"
    env = dict(os.environ, MENTION_ROUTER_QUEUE__URL=f"embedded:{tmp_path / 'queue.db'}",
               MENTION_ROUTER_STATE_DIR=str(tmp_path / "var"),
               MENTION_ROUTER_LISTENING__RULES=str(REPO / "config" / "listening.yaml"),
               MENTION_ROUTER_LISTENING__WEBHOOK__ENABLED="true",
               MENTION_ROUTER_LISTENING__WEBHOOK__PORT=str(hook))  # fmt: skip
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "run", "--use-labels", "--roster", str(roster),
             "--taxonomy", str(taxonomy), "--out", str(out), "--metrics-port", str(metrics)],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    try:
        # When a platform pushes a mention once the webhook answers (within 30 s)
        deadline, answer = time.monotonic() + 30, None
        body = json.dumps(generic_mention(1, platform="x"))
        while answer is None:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            try:
                answer = httpx.post(f"http://127.0.0.1:{hook}/webhooks/mentions", content=body)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer.status_code == 200, answer.text

        # Then the same process classifies, routes and delivers it (within 30 s)
        deadline, outcomes = time.monotonic() + 30, []
        while not outcomes:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
            lines = out.read_text().splitlines() if out.exists() else []
            outcomes = [json.loads(line) for line in lines]
        assert [o["mention_id"] for o in outcomes] == ["zendesk:1"]
        assert outcomes[0]["status"] in {"assigned", "backlogged", "escalated"}
        exported = httpx.get(f"http://127.0.0.1:{metrics}/metrics").text
        assert 'mention_router_mentions_in_total{connector="webhook"} 1.0' in exported
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert worker.returncode == 0
