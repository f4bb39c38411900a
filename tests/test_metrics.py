"""The metrics catalogue: the README documents exactly what is exported, with true values."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from config.settings import TopicNames
from tests.streams import write_config, write_stream
from workers import app
from workers.metrics import Metrics, MetricsServer
from workers.replay import Replay, ReplayOptions, ReplayResult

README = Path(__file__).resolve().parents[1] / "README.md"
_ROW = re.compile(r"^\| `(mention_router_[a-z_]+)` \| ([a-z]+) \|([^|]*)\|([^|]+)\|$", re.M)


def catalogue() -> dict[str, tuple[str, frozenset[str]]]:
    """The README's catalogue: name -> (type, labels), from rows with a meaning."""
    rows = _ROW.findall(README.read_text(encoding="utf-8"))
    assert rows, "no catalogue rows found in the README"
    return {
        name: (kind, frozenset(re.findall(r"`([a-z_]+)`", labels)))
        for name, kind, labels, meaning in rows
        if meaning.strip()
    }


def exported(metrics: Metrics) -> dict[str, tuple[str, frozenset[str]]]:
    """What the registry exports: name as scraped -> (type, label names but histogram's le)."""
    suffix = {"counter": "_total", "info": "_info"}
    found = {}
    for family in metrics.registry.collect():
        labels = {key for s in family.samples for key in s.labels} - {"le"}
        found[family.name + suffix.get(family.type, "")] = (family.type, frozenset(labels))
    return found


def replayed(
    tmp_path: Path, metrics: Metrics, count: int = 300, bad_lines: int = 0
) -> ReplayResult:
    stream = write_stream(tmp_path / "stream.jsonl", count)
    with stream.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "x:broken", "text": "no author"}\n' * bad_lines)
    world = app.load_world(*write_config(tmp_path))
    options = ReplayOptions(
        stream, tmp_path / "state", tmp_path / "out.jsonl", tmp_path / "dead.jsonl"
    )
    tagger = app.build_tagger(None, world, use_labels=True)
    replay = Replay(
        options, app.embedded_queue, TopicNames(), tagger, app.build_router(world), metrics
    )
    return replay.run()


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def total(samples: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f"{k}={v}" for k, v in labels.items()]
    return sum(
        value
        for key, value in samples.items()
        if key.split("{")[0] == name and all(w in key for w in wanted)
    )


def test_metrics_endpoint_serves_the_documented_names_with_true_values(tmp_path: Path) -> None:
    # Given a metrics endpoint on a free port
    metrics = Metrics(CollectorRegistry())
    with MetricsServer(metrics.registry, "127.0.0.1", 0) as server:
        port = server.start()
        # When a replay of 300 mentions and 2 malformed lines runs and the endpoint is scraped
        result = replayed(tmp_path, metrics, bad_lines=2)
        samples = scrape(port)
    # Then every documented metric is there, and the counts agree with the replay
    names = {key.split("{")[0] for key in samples}
    for name in catalogue():
        assert any(n == name or n.startswith(name + "_") for n in names), name
    assert total(samples, "mention_router_mentions_in_total", connector="replay") == 300
    assert total(samples, "mention_router_mentions_classified_total") == 300
    finals = result.summary.statuses
    assigned = total(samples, "mention_router_outcomes_total", outcome="assigned")
    assert assigned == finals.get("assigned", 0)
    assert total(samples, "mention_router_backlog_mentions") == finals.get("backlogged", 0)
    assert total(samples, "mention_router_stage_records_total", stage="route") == 300
    assert total(samples, "mention_router_stage_duration_seconds_count", stage="route") > 0
    assert total(samples, "mention_router_budget_remaining_minutes", team="care-nl") >= 0
    assert "mention_router_budget_remaining_minutes{team=care-en}" in samples
    assert samples["mention_router_connector_up{connector=replay}"] == 1
    assert samples["mention_router_malformed_mentions_total{connector=replay}"] == 2
    assert samples["mention_router_connector_errors_total{connector=replay,kind=malformed}"] == 2
    # Every assignment has its age from ingest; the counts of the histogram agree
    assert total(
        samples, "mention_router_latency_seconds_count", span="ingest_to_assigned"
    ) == finals.get("assigned", 0)


def test_the_readme_catalogue_is_exactly_what_is_exported(tmp_path: Path) -> None:
    # Given metrics that have seen a replay and a connector's every kind of report
    metrics = Metrics(CollectorRegistry())
    replayed(tmp_path, metrics, count=50)
    metrics.connectors.duplicate("x")
    metrics.connectors.error("x", "rate_limited")
    metrics.set_build("test-model")

    # Then the README documents every exported metric with its type and labels, and no more
    assert exported(metrics) == catalogue()


def test_labels_stay_bounded_when_connectors_report_odd_names() -> None:
    metrics = Metrics(CollectorRegistry())
    # Given a connector reporting many distinct and malformed error kinds
    for i in range(100):
        metrics.connectors.error("x", f"kind_{i}")
    metrics.connectors.error("x", "Not A Kind: https://example.com/?id=123")

    kinds = {
        s.labels["kind"]
        for f in metrics.registry.collect()
        if f.name == "mention_router_connector_errors"
        for s in f.samples
        if s.name.endswith("_total")
    }
    # Then the label keeps at most 32 real values and the rest count as other
    assert len(kinds) == 33
    assert "other" in kinds
    assert all(re.fullmatch(r"[a-z][a-z0-9_-]*", k) for k in kinds)
