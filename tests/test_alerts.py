"""The alert rules: valid for promtool, each tested firing and quiet, each with its runbook."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.factories import REPO, need_outside_part

RULES = REPO / "config" / "alerts.yml"
RULE_TESTS = REPO / "tests" / "prometheus" / "alerts_test.yml"


def alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    need_outside_part(path is not None, "promtool (Debian package prometheus)")
    assert path is not None
    return path


def run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=120, check=False, cwd=REPO
    )


def test_promtool_accepts_the_rule_file(promtool: str) -> None:
    done = run(promtool, "check", "rules", str(RULES))

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alerts()) + 2} rules found" in done.stdout  # and 2 recording rules


def test_promtool_unit_tests_pass(promtool: str) -> None:
    done = run(promtool, "test", "rules", str(RULE_TESTS))

    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_unit_tests_can_fail(promtool: str, tmp_path: Path) -> None:
    # Proof the unit tests bite: expect the SLA alert quiet where its series is in trouble
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    tests["rule_files"] = [str(RULES)]
    for case in tests["tests"][0]["alert_rule_test"]:
        case["exp_alerts"] = []
    mutated = tmp_path / "alerts_test.yml"
    mutated.write_text(yaml.safe_dump(tests), encoding="utf-8")

    done = run(promtool, "test", "rules", str(mutated))

    assert done.returncode != 0
    assert "MentionRouterSlaBreaches" in done.stdout + done.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    cases = [
        case
        for group in yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
        for case in group.get("alert_rule_test", [])
    ]
    for rule in alerts():
        name = rule["alert"]
        mine = [c for c in cases if c["alertname"] == name]
        assert any(c["exp_alerts"] for c in mine), f"{name} is never tested firing"
        assert any(not c["exp_alerts"] for c in mine), f"{name} is never tested quiet"


def test_every_alert_has_a_summary_and_its_runbook_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for rule in alerts():
        annotations = rule["annotations"]
        assert annotations["summary"].strip()
        row = next(line for line in readme.splitlines() if f"| `{rule['alert']}` |" in line)
        assert f"| {annotations['runbook']} |" in row


def test_promtool_accepts_the_compose_prometheus_config(promtool: str, tmp_path: Path) -> None:
    # Given config/prometheus.yml with its rule file where compose mounts it
    config = yaml.safe_load((REPO / "config" / "prometheus.yml").read_text(encoding="utf-8"))
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    config["rule_files"] = [str(RULES)]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config), encoding="utf-8")

    done = run(promtool, "check", "config", str(copy))

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alerts()) + 2} rules found" in done.stdout
