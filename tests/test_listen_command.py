"""``mention-router listen`` as a process: ack means durable, and a lost platform stays local."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from connectors.codec import decode_mention
from connectors.files import read_stream
from connectors.queues import open_queue
from tests.factories import free_port
from tests.webhook_payloads import generic_mention
from workers.listening import listen as listening_command

REPO = Path(__file__).resolve().parents[1]
STARTUP = 20.0


def settings_file(tmp: Path, port: int) -> Path:
    path = tmp / "settings.yaml"
    path.write_text(
        f"queue: {{url: 'embedded:{tmp / 'queue.db'}'}}\n"
        f"state_dir: '{tmp / 'state'}'\n"
        f"listening: {{rules: '{REPO / 'config' / 'listening.yaml'}',"
        f" webhook: {{enabled: true, port: {port}}}}}\n"
    )
    return path


@contextmanager
def listening(
    tmp: Path,
    port: int,
    *extra: str,
    env: dict[str, str] | None = None,
    metrics_port: int = 0,
) -> Iterator[subprocess.Popen[bytes]]:
    """The listen command in a child process, once its webhook answers."""
    cmd = [
        sys.executable,
        "-m",
        "workers.cli",
        "--config",
        str(settings_file(tmp, port)),
        "listen",
        "--metrics-port",
        str(metrics_port),
        *extra,
    ]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("MENTION_ROUTER_")}
    child = subprocess.Popen(
        cmd, cwd=REPO, env={**child_env, **(env or {})}, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + STARTUP
        while True:
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the webhook server did not start"
                time.sleep(0.1)
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        if child.stderr is not None:
            child.stderr.close()


def queued_ids(tmp: Path) -> list[str]:
    queue = open_queue(f"embedded:{tmp / 'queue.db'}")
    try:
        return [decode_mention(r.value).id for r in queue.scan("mentions")]
    finally:
        queue.close()


@pytest.mark.slow
def test_a_mention_acknowledged_survives_a_kill_right_after(tmp_path: Path) -> None:
    port = free_port()
    body = json.dumps({"mentions": [generic_mention(1), generic_mention(2)]})
    with listening(tmp_path, port) as child:
        answer = httpx.post(f"http://127.0.0.1:{port}/webhooks/mentions", content=body, timeout=10)
        child.send_signal(signal.SIGKILL)  # right after the acknowledgement
        child.wait(10)
    assert answer.status_code == 200
    assert queued_ids(tmp_path) == ["zendesk:1", "zendesk:2"]
    # After a restart the same batch is recognized as already ingested
    with listening(tmp_path, port):
        again = httpx.post(f"http://127.0.0.1:{port}/webhooks/mentions", content=body, timeout=10)
    assert again.json() == {"accepted": 0, "duplicates": 2}
    assert queued_ids(tmp_path) == ["zendesk:1", "zendesk:2"]


@pytest.mark.slow
def test_losing_x_leaves_webhooks_running_and_health_names_x(tmp_path: Path) -> None:
    port, dead_port, metrics_port = free_port(), free_port(), free_port()  # none on dead_port
    record = tmp_path / "recorded.jsonl"
    env = {
        "MENTION_ROUTER_LISTENING__X__ENABLED": "true",
        "MENTION_ROUTER_LISTENING__X__BEARER_TOKEN": "token-for-a-dead-platform",
        "MENTION_ROUTER_LISTENING__X__API_BASE_URL": f"http://127.0.0.1:{dead_port}",
        "MENTION_ROUTER_LISTENING__X__BACKOFF_INITIAL_SECONDS": "0.2",
    }
    with listening(
        tmp_path, port, "--record", str(record), env=env, metrics_port=metrics_port
    ) as child:
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        ready = httpx.get(f"http://127.0.0.1:{metrics_port}/readyz", timeout=5)
        exported = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        answer = httpx.post(f"http://127.0.0.1:{port}/webhooks/mentions",
                            content=json.dumps(generic_mention(7)), timeout=10)  # fmt: skip
        child.send_signal(signal.SIGTERM)
        assert child.wait(15) == 0
        stderr = child.stderr.read().decode() if child.stderr else ""
    assert health.status_code == 503
    assert health.json()["down"] == ["x"]
    assert ready.status_code == 503
    assert "x" in ready.json()["failed"]["connectors"]
    assert 'mention_router_connector_up{connector="x"} 0.0' in exported
    assert answer.status_code == 200
    assert queued_ids(tmp_path) == ["zendesk:7"]
    assert [line.result.id for line in read_stream(record)] == ["zendesk:7"]  # type: ignore[union-attr]
    assert "token-for-a-dead-platform" not in stderr


def test_listen_without_a_connector_is_a_configuration_error(tmp_path: Path) -> None:
    from workers.cli import main

    settings = tmp_path / "settings.yaml"
    settings.write_text(f"queue: {{url: 'memory://'}}\nstate_dir: '{tmp_path}'\n")
    assert main(["--config", str(settings), "listen"]) == 2


def test_x_without_a_token_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.cli import main

    monkeypatch.setenv("MENTION_ROUTER_LISTENING__X__ENABLED", "true")
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"queue: {{url: 'memory://'}}\nstate_dir: '{tmp_path}'\n")
    assert main(["--config", str(settings), "listen"]) == 2
    assert "MENTION_ROUTER_LISTENING__X__BEARER_TOKEN" in capsys.readouterr().err


def test_x_and_webhooks_in_one_process_share_deduplication_and_recording(tmp_path: Path) -> None:
    import argparse
    import threading

    from config.settings import Settings
    from tests.xapi import running_api, stream_line, tweet

    port = free_port()
    record = tmp_path / "recorded.jsonl"
    with running_api() as api:
        api.streams.append([stream_line(tweet(70))])
        settings = Settings.model_validate({
            "queue": {"url": f"embedded:{tmp_path / 'queue.db'}"},
            "state_dir": tmp_path / "state",
            "listening": {
                "rules": REPO / "config" / "listening.yaml",
                "x": {"enabled": True, "bearer_token": "t0ken", "api_base_url": api.url},
                "webhook": {"enabled": True, "port": port},
            },
        })  # fmt: skip
        answers: dict[str, httpx.Response] = {}

        def until(stop: threading.Event) -> None:
            deadline = time.monotonic() + STARTUP
            while "x:70" not in queued_ids(tmp_path):
                assert time.monotonic() < deadline, "the streamed tweet never arrived"
                time.sleep(0.05)
            base = f"http://127.0.0.1:{port}"
            answers["health"] = httpx.get(f"{base}/healthz", timeout=5)
            same = {**generic_mention(1), "id": "x:70", "platform": "x"}  # pushed by a tool too
            answers["post"] = httpx.post(f"{base}/webhooks/mentions", content=json.dumps(same))

        args = argparse.Namespace(record=record, metrics_port=0)
        assert listening_command(args, settings, until=until) == 0
        rules = {r["tag"] for r in api.rules.values()}
    assert answers["health"].json() == {"connectors": {"webhook": True, "x": True}, "down": []}
    assert answers["post"].json() == {"accepted": 0, "duplicates": 1}
    assert queued_ids(tmp_path) == ["x:70"]
    assert rules == {"mention-router:contoso", "mention-router:fabrikam"}
    recorded = [line.result for line in read_stream(record)]
    assert [m.id for m in recorded] == ["x:70"]  # type: ignore[union-attr]
    assert recorded[0].raw["author"]["username"] == "user_u0"  # type: ignore[union-attr,index]
