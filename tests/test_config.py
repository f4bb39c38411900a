"""Operator files: a bad roster, taxonomy or settings file stops start-up with a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import load_roster, load_settings, load_taxonomy
from routing.errors import ConfigError
from tests.streams import ROSTER_YAML, TAXONOMY_YAML, write_config, write_stream
from workers.cli import main

SHIPPED = Path(__file__).resolve().parents[1] / "config"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_roster_and_taxonomy_load() -> None:
    taxonomy = load_taxonomy(SHIPPED / "taxonomy.yaml")
    roster = load_roster(SHIPPED / "roster.yaml", taxonomy)
    assert len(roster) >= 5
    assert {"low", "normal", "high", "critical"} == {u.value for u in taxonomy.urgency}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (("Europe/Amsterdam", "Europe/Amsterdma"), "employees.0.timezone", "unknown IANA timezone"),
        (('"mon-fri 09:00-17:00"', '"mon-fry 09:00-17:00"'), "employees.0.hours", "unknown day"),
        (("budget_minutes_per_day: 60", "budget_minutes_per_day: -5"), "employees.0.budget", ""),
        (("languages: [nl, en]", "languages: [dutch]"), "employees.0.languages", "pattern"),
        (("skills: {billing: 0.9", "skills: {billing: 1.9"), "employees.0.skills.billing", "1"),
        (
            ("skills: {billing: 0.9", "skills: {invoices: 0.9"),
            "employees.0.skills.invoices",
            "unknown topic",
        ),
        (("id: bram", "id: anna"), "employees.1.id", "duplicate id 'anna'"),
    ],
)
def test_bad_roster_names_file_field_and_reason(
    tmp_path: Path, change: tuple[str, str], field: str, reason: str
) -> None:
    taxonomy = load_taxonomy(write(tmp_path, "taxonomy.yaml", TAXONOMY_YAML))
    roster = write(tmp_path, "roster.yaml", ROSTER_YAML.replace(*change, 1))
    with pytest.raises(ConfigError) as caught:
        load_roster(roster, taxonomy)
    assert caught.value.source == str(roster)
    assert caught.value.field.startswith(field)
    assert reason in caught.value.reason


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "roster.yaml", "employees:\n  - id: [unclosed\n")
    with pytest.raises(ConfigError, match=r"roster.yaml: invalid YAML at line \d+"):
        load_roster(path)


def test_missing_file_and_missing_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_roster(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="missing top-level key 'employees'"):
        load_roster(write(tmp_path, "roster.yaml", "people: []\n"))


def test_taxonomy_needs_every_urgency_level(tmp_path: Path) -> None:
    path = write(
        tmp_path, "t.yaml", TAXONOMY_YAML.replace("  critical: {sla_minutes: 15, weight: 8}\n", "")
    )
    with pytest.raises(ConfigError, match="urgency levels missing: critical"):
        load_taxonomy(path)


def test_settings_file_and_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "s.yaml", "queue:\n  url: embedded:/tmp/q.db\nmetrics:\n  port: 9999\n")
    monkeypatch.setenv("MENTION_ROUTER_METRICS__PORT", "9100")
    settings = load_settings(path)
    assert settings.queue.url == "embedded:/tmp/q.db"
    assert settings.metrics.port == 9100


def test_routing_settings_reach_the_router(tmp_path: Path) -> None:
    from workers.app import router_options

    path = write(tmp_path, "s.yaml", "routing:\n  plan_hold_minutes: 0\n  max_declines: 3\n")
    options = router_options(load_settings(path))
    assert (options.plan_hold_minutes, options.max_declines) == (0, 3)
    with pytest.raises(ConfigError, match=r"routing.plan_hold_minutes"):
        load_settings(write(tmp_path, "s2.yaml", "routing:\n  plan_hold_minutes: -5\n"))


def test_unknown_or_invalid_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"s.yaml: queue.urll: Extra inputs"):
        load_settings(write(tmp_path, "s.yaml", "queue:\n  urll: embedded:q.db\n"))
    with pytest.raises(ConfigError, match=r"metrics.port"):
        load_settings(write(tmp_path, "s2.yaml", "metrics:\n  port: 70000\n"))


def test_cli_refuses_to_start_on_a_bad_roster_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stream and a roster with a broken timezone
    roster, taxonomy = write_config(tmp_path)
    roster.write_text(ROSTER_YAML.replace("Europe/London", "Mars/Olympus"), encoding="utf-8")
    stream = write_stream(tmp_path / "s.jsonl", 10)
    # When a replay starts
    code = main(
        ["replay", str(stream), "--use-labels", "--no-metrics", "--roster", str(roster),
         "--taxonomy", str(taxonomy), "--state", str(tmp_path / "state")]
    )  # fmt: skip
    # Then it stops with the file, the field and the reason, before touching any state
    assert code == 2
    err = capsys.readouterr().err
    assert f"{roster}: employees.2.timezone: unknown IANA timezone" in err
    assert not (tmp_path / "state").exists()
