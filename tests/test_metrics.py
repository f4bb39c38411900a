"""The /metrics endpoint answers during a replay with the documented names and true values."""

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
from workers.replay import Replay, ReplayOptions

README = Path(__file__).resolve().parents[1] / "README.md"


def documented_metrics() -> set[str]:
    """Metric names listed in the README's metrics table."""
    return set(re.findall(r"^\| `(mention_router_[a-z_]+)` \|", README.read_text(), re.MULTILINE))


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
    # Given a replay of 300 mentions wired to a metrics endpoint on a free port
    stream = write_stream(tmp_path / "stream.jsonl", 300)
    world = app.load_world(*write_config(tmp_path))
    metrics = Metrics(CollectorRegistry())
    options = ReplayOptions(
        stream, tmp_path / "state", tmp_path / "out.jsonl", tmp_path / "dead.jsonl"
    )
    tagger = app.build_tagger(None, world, use_labels=True)
    replay = Replay(
        options, app.embedded_queue, TopicNames(), tagger, app.build_router(world), metrics
    )
    with MetricsServer(metrics.registry, "127.0.0.1", 0) as server:
        port = server.start()
        # When the replay runs and the endpoint is scraped
        result = replay.run()
        samples = scrape(port)
    # Then every documented metric is there, and the counts agree with the replay
    exported = {key.split("{")[0] for key in samples}
    for name in documented_metrics():
        assert any(e == name or e.startswith(name + "_") for e in exported), name
    assert total(samples, "mention_router_mentions_in_total", connector="replay") == 300
    assert total(samples, "mention_router_mentions_classified_total") == 300
    finals = result.summary.statuses
    assigned = total(samples, "mention_router_outcomes_total", outcome="assigned")
    assert assigned == finals.get("assigned", 0)
    assert total(samples, "mention_router_backlog_mentions") == finals.get("backlogged", 0)
    assert total(samples, "mention_router_stage_duration_seconds_count", stage="route") > 0
    assert total(samples, "mention_router_budget_remaining_minutes", team="care-nl") >= 0
    assert "mention_router_budget_remaining_minutes{team=care-en}" in samples


def test_every_exported_metric_is_documented_and_every_documented_one_exported() -> None:
    metrics = Metrics(CollectorRegistry())
    suffix = {"counter": "_total", "info": "_info"}
    exported = {f.name + suffix.get(f.type, "") for f in metrics.registry.collect()}
    assert exported == documented_metrics()
