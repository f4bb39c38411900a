"""The webhook endpoint: signatures, the handshake, batches, bad and oversized bodies."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connectors.observer import NullObserver
from connectors.queues import MemoryQueue
from connectors.status import ConnectorStatus
from connectors.webhooks import sign
from tests.factories import free_port
from tests.listening_fixtures import RecordingObserver, ingestor, queued
from tests.webhook_payloads import feed_change, generic_mention, meta_body
from workers.webhook_server import WebhookServer
from workers.webhooks import WebhookOptions, create_app

APP_SECRET = "meta-app-secret"
OPTIONS = WebhookOptions(
    max_body_bytes=4096, max_batch=10, meta_app_secret=APP_SECRET, meta_verify_token="tok"
)


class Harness:
    def __init__(self, tmp: Path, options: WebhookOptions = OPTIONS) -> None:
        self.queue, self.observer = MemoryQueue(), RecordingObserver()
        self.status = ConnectorStatus(["webhook", "x"], forward=self.observer)
        self.status.state("webhook", True)
        self.ingest = ingestor(self.queue, tmp, self.observer)
        app = create_app(self.ingest, options, observer=self.observer, status=self.status)
        self.server = WebhookServer(app, "127.0.0.1", 0, NullObserver())

    def __enter__(self) -> httpx.Client:
        self.server.start()
        assert self.server.wait_started(10)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.server.port}", timeout=10)
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.server.stop()
        self.ingest.close()

    def ids(self) -> list[str]:
        return [m.id for m in queued(self.queue)]


@pytest.fixture
def hooks(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    with harness:
        yield harness


def test_the_webhook_is_up_in_its_own_health_from_its_first_answer(tmp_path: Path) -> None:
    # Given a webhook server whose status starts down, started without waiting for it
    status = ConnectorStatus(["webhook"])
    ingest = ingestor(MemoryQueue(), tmp_path, NullObserver())
    port = free_port()
    server = WebhookServer(create_app(ingest, OPTIONS, status=status), "127.0.0.1", port, status)
    server.start()
    try:
        # When its health is asked from the first moment it answers at all
        answer = None
        deadline = time.monotonic() + 10
        while answer is None:
            assert time.monotonic() < deadline, "the webhook server did not start"
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            except httpx.TransportError:
                time.sleep(0.001)
        # Then that first answer already has the webhook up
        assert answer.status_code == 200
        assert answer.json()["down"] == []
    finally:
        server.stop()
        ingest.close()


def test_a_generic_batch_is_acknowledged_once_queued(hooks: Harness) -> None:
    body = {"mentions": [generic_mention(1), generic_mention(2), generic_mention(1)]}
    answer = hooks.client.post("/webhooks/mentions", content=json.dumps(body))
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 2, "duplicates": 1}
    assert hooks.ids() == ["zendesk:1", "zendesk:2"]
    again = hooks.client.post("/webhooks/mentions", content=json.dumps(generic_mention(2)))
    assert again.json() == {"accepted": 0, "duplicates": 1}


def test_a_malformed_body_gets_400_with_the_reason_and_nothing_is_queued(hooks: Harness) -> None:
    body = {"mentions": [generic_mention(1), generic_mention(2, created_at="noon")]}
    answer = hooks.client.post("/webhooks/mentions", content=json.dumps(body))
    assert answer.status_code == 400
    assert "mentions[1].created_at" in answer.json()["error"]
    assert hooks.ids() == []
    assert hooks.observer.errors == [("webhook", "malformed")]


def test_an_oversized_body_gets_413(hooks: Harness) -> None:
    text = "x" * 5000
    answer = hooks.client.post(
        "/webhooks/mentions", content=json.dumps(generic_mention(1, text=text))
    )
    assert answer.status_code == 413
    assert "4096 bytes" in answer.json()["error"]
    assert hooks.ids() == []


def test_an_oversized_body_without_a_length_is_cut_off(hooks: Harness) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    answer = hooks.client.post("/webhooks/mentions", content=chunks())
    assert answer.status_code == 413


def test_meta_handshake(hooks: Harness) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "8842"}
    ok = hooks.client.get("/webhooks/meta", params=params)
    assert (ok.status_code, ok.text) == (200, "8842")
    bad = hooks.client.get("/webhooks/meta", params={**params, "hub.verify_token": "guess"})
    assert bad.status_code == 403


def test_meta_post_with_a_valid_signature_is_ingested(hooks: Harness) -> None:
    body = meta_body(feed_change("comment"), feed_change("status", post_id="1000_78"))
    answer = hooks.client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": sign(body, APP_SECRET)}
    )
    assert answer.status_code == 200
    assert hooks.ids() == ["facebook:1000_77_9", "facebook:1000_78"]
    assert hooks.observer.accepted["meta"] == 2


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Hub-Signature-256": "sha256=" + "0" * 64}, {"X-Hub-Signature-256": "garbage"}],
    ids=["missing", "wrong", "malformed"],
)
def test_meta_post_with_a_bad_signature_gets_401_and_nothing_is_ingested(
    hooks: Harness, headers: dict[str, str]
) -> None:
    body = meta_body(feed_change("comment"))
    answer = hooks.client.post("/webhooks/meta", content=body, headers=headers)
    assert answer.status_code == 401
    assert "X-Hub-Signature-256" in answer.json()["error"]
    assert hooks.ids() == []
    assert hooks.observer.errors == [("meta", "unauthorized")]


def test_a_generic_secret_requires_a_signature(tmp_path: Path) -> None:
    harness = Harness(tmp_path, WebhookOptions(secret="tool-secret"))
    body = json.dumps(generic_mention(1)).encode()
    with harness as client:
        refused = client.post("/webhooks/mentions", content=body)
        signed = client.post("/webhooks/mentions", content=body,
                             headers={"X-Signature-256": sign(body, "tool-secret")})  # fmt: skip
    assert (refused.status_code, signed.status_code) == (401, 200)
    assert harness.ids() == ["zendesk:1"]


def test_health_names_the_connectors_that_are_down(hooks: Harness) -> None:
    answer = hooks.client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"connectors": {"webhook": True, "x": False}, "down": ["x"]}
    hooks.status.state("x", True)
    assert hooks.client.get("/healthz").status_code == 200


def test_meta_is_off_until_configured(tmp_path: Path) -> None:
    harness = Harness(tmp_path, WebhookOptions())
    with harness as client:
        assert client.post("/webhooks/meta", content=meta_body()).status_code == 404
