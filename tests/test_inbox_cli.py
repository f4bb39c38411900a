"""``mention-router inbox``: tokens printed once and stored hashed, leads in the roster, serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from config.loader import load_settings
from routing.errors import ConfigError
from tests.factories import free_port
from tests.streams import ROSTER_YAML, write_config
from workers.cli import main
from workers.inbox import TokenStore, load_leads
from workers.inbox.serve import load_people

REPO = Path(__file__).resolve().parents[1]


def _config(tmp_path: Path, roster_extra: str = "") -> Path:
    roster, taxonomy = write_config(tmp_path)
    roster.write_text(ROSTER_YAML + roster_extra, encoding="utf-8")
    config = tmp_path / "settings.yaml"
    config.write_text(
        f"routing: {{roster: {roster}, taxonomy: {taxonomy}}}\n"
        f"inbox: {{tokens: {tmp_path / 'tokens.json'}}}\n"
        f"queue: {{url: 'embedded:{tmp_path / 'queue.db'}'}}\n"
        f"state_dir: {tmp_path}\n",
        encoding="utf-8",
    )
    return config


LEADS = """
leads:
  - {id: lisa, name: Lisa Bos, teams: [care-nl, care-en]}
"""


def test_a_token_is_printed_once_and_stored_only_as_a_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)

    assert main(["inbox", "token", "anna", "--config", str(config)]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["inbox", "token", "anna", "--config", str(config)]) == 0
    second = capsys.readouterr().out.strip()

    stored = (tmp_path / "tokens.json").read_text()
    assert first not in stored
    assert second not in stored
    assert json.loads(stored)["tokens"]["anna"]["sha256"]
    tokens = TokenStore(tmp_path / "tokens.json")
    assert tokens.who(second) == "anna"
    assert tokens.who(first) is None  # a new token replaces the old one
    assert (os.stat(tmp_path / "tokens.json").st_mode & 0o777) == 0o600


def test_no_token_for_someone_not_on_the_roster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert main(["inbox", "token", "mallory", "--config", str(config)]) == 2
    assert "no employee or lead with id 'mallory'" in capsys.readouterr().err
    assert not (tmp_path / "tokens.json").exists()


def test_leads_come_from_the_roster_and_old_rosters_have_none(tmp_path: Path) -> None:
    config = _config(tmp_path, LEADS)
    settings = load_settings(config)
    people = load_people(settings)
    lisa = people.get("lisa")
    assert lisa is not None
    assert lisa.leads == {"care-nl", "care-en"}
    assert lisa.role == "lead"
    anna = people.get("anna")
    assert anna is not None
    assert anna.role == "employee"
    (tmp_path / "old").mkdir()
    old_roster, _ = write_config(tmp_path / "old")
    assert load_leads(old_roster) == ()  # a roster from before leads is still valid
    demo = {lead.id for lead in load_leads(REPO / "config" / "roster.yaml")}
    assert demo == {"lisa", "oliver"}


def test_a_bad_leads_entry_is_refused_naming_the_field(tmp_path: Path) -> None:
    roster = tmp_path / "roster.yaml"
    roster.write_text(ROSTER_YAML + "leads:\n  - {id: lisa, name: Lisa, teams: []}\n")
    with pytest.raises(ConfigError, match=r"leads\.0\.teams"):
        load_leads(roster)


@pytest.mark.integration
def test_the_inbox_command_serves_the_api_and_the_page(tmp_path: Path) -> None:
    # Given the inbox started on a free port
    config = _config(tmp_path)
    port = free_port()
    log = tmp_path / "inbox.log"
    command = [sys.executable, "-m", "workers.cli", "inbox", "--config", str(config)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)], cwd=REPO, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                health = httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the inbox did not start"
                time.sleep(0.2)
        # Then it answers: health, the OpenAPI spec, the page, and 401 without a token
        assert health.json()["caught_up"] in (True, False)
        spec = httpx.get(f"{base}/openapi.json").json()
        assert "/api/assignments/{mention_id}/done" in spec["paths"]
        page = httpx.get(f"{base}/")
        assert "<title>Inbox" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert httpx.get(f"{base}/api/assignments").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_inbox_settings_from_a_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text(
        "inbox:\n  webhooks:\n"
        "    - {team: care-nl, format: slack, url: 'https://hooks.example/secret-path'}\n"
    )
    monkeypatch.setenv("MENTION_ROUTER_INBOX__PORT", "9999")
    settings = load_settings(config)
    assert settings.inbox.port == 9999
    [hook] = settings.inbox.webhooks
    assert hook.format == "slack"
    assert "secret-path" not in repr(settings)  # a webhook URL is a secret
    assert hook.url.get_secret_value() == "https://hooks.example/secret-path"


def test_a_webhook_names_exactly_one_recipient(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("inbox:\n  webhooks:\n    - {url: 'https://hooks.example/x'}\n")
    with pytest.raises(ConfigError, match=r"inbox\.webhooks\.0: a webhook names exactly one"):
        load_settings(config)
