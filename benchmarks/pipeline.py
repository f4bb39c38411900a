"""End-to-end and per-stage throughput of a replay on the embedded queue, on one core.

    python -m benchmarks.pipeline [--mentions 100000] [--repeat 3]

Builds a stream of the airline tweets (../shared/data) repeated with new ids and shifted
dates, trains a model on the tweets once, then times: the whole replay at speed 0, and each
stage alone (decode, ingest, classify, route, deliver). Each measurement runs in a fresh
process pinned to one core; figures are medians over ``--repeat`` runs, with the CPU seconds
the process used (steadier than wall time on a shared machine) and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import one_core

if TYPE_CHECKING:
    from routing.models import Mention
    from routing.tagger import Tagger
    from workers.app import World

REPO = Path(__file__).resolve().parents[1]
AIRLINE = REPO.parent / "shared" / "data" / "airline_sentiment" / "Tweets.csv"
STAGES = ("end_to_end", "decode", "ingest", "classify", "route", "deliver")

TAXONOMY = {
    "topics": {
        t: {"handling_minutes": m}
        for t, m in {
            "positive": 2, "neutral": 3, "customer_service_issue": 12, "late_flight": 8,
            "cancelled_flight": 10, "lost_luggage": 10, "bad_flight": 6, "cant_tell": 6,
            "flight_booking_problems": 10, "flight_attendant_complaints": 8, "longlines": 5,
            "damaged_luggage": 10, "unknown": 8,
        }.items()
    },
    "urgency": {
        "low": {"sla_minutes": 1440, "weight": 1}, "normal": {"sla_minutes": 240, "weight": 2},
        "high": {"sla_minutes": 60, "weight": 4}, "critical": {"sla_minutes": 15, "weight": 8},
    },
}  # fmt: skip


def roster(size: int = 40) -> dict[str, object]:
    """A deterministic roster of ``size`` people with mixed skills, hours and budgets."""
    topics = sorted(TAXONOMY["topics"])
    hours = ["mon-fri 08:00-16:00", "mon-fri 12:00-20:00", "sat-sun 09:00-17:00; mon 09:00-13:00",
             "mon-sun 06:00-23:00"]  # fmt: skip
    zones = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London"]
    people = []
    for i in range(size):
        skills = {
            topics[(i + k) % len(topics)]: round(0.3 + 0.1 * ((i * 7 + k) % 7), 2) for k in range(5)
        }
        people.append(
            {
                "id": f"agent{i:03d}", "name": f"Agent {i}", "team": f"team{i % 4}",
                "languages": ["en"], "accounts": {"x": f"@agent{i:03d}"}, "skills": skills,
                "budget_minutes_per_day": 30 + 15 * (i % 5), "timezone": zones[i % 4],
                "hours": hours[i % 4],
            }
        )  # fmt: skip
    return {"employees": people}


def build_stream(path: Path, count: int) -> int:
    """Write ``count`` mentions: the airline tweets repeated, each round 7 days later."""
    from connectors.codec import encode_mention
    from connectors.datasets import airline_tweets

    if not AIRLINE.exists():
        sys.exit(f"benchmark needs {AIRLINE} (the public datasets beside the repository)")
    base = list(airline_tweets(AIRLINE))
    written = 0
    with path.open("wb") as out:
        for round_ in range(count // len(base) + 1):
            shift = timedelta(days=7 * round_)
            for m in base:
                if written == count:
                    return written
                copy = m.model_copy(
                    update={"id": f"{m.id}-{round_}", "created_at": m.created_at + shift}
                )
                out.write(encode_mention(copy) + b"\n")
                written += 1
    return written


def measure(stage: str, work: Path) -> dict[str, float]:
    """Run one stage in this process; returns its count, seconds, CPU seconds and peak RSS.

    Every stage runs with the collector settings a replay uses (``settled_heap``), so the
    stages alone and the whole replay pay the same for garbage collection.
    """
    one_core()
    from connectors.files import read_stream
    from routing.models import Mention
    from workers import app
    from workers.heap import settled_heap

    world = app.load_world(work / "roster.yaml", work / "taxonomy.yaml")
    tagger = app.build_tagger(work / "model.skops", world)
    state = work / f"state-{stage}-{os.getpid()}"
    mentions: list[Mention] = []
    if stage != "end_to_end":
        stream = read_stream(work / "stream.jsonl")
        mentions = [line.result for line in stream if isinstance(line.result, Mention)]
    with nullcontext() if stage == "end_to_end" else settled_heap():  # a replay settles its own
        count, seconds, cpu = _timed(stage, work, state, tagger, world, mentions)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"count": count, "seconds": seconds, "cpu_seconds": cpu, "per_second": count / seconds,
            "peak_mib": peak_mib}  # fmt: skip


def _timed(
    stage: str, work: Path, state: Path, tagger: Tagger, world: World, mentions: list[Mention]
) -> tuple[int, float, float]:
    """Count, seconds and CPU seconds of one stage; setup before the clock starts."""
    from config.settings import TopicNames
    from connectors.codec import encode_mention
    from connectors.files import OutcomeFile, read_stream
    from connectors.queues import open_queue
    from workers import app
    from workers.replay import Replay, ReplayOptions

    stream = work / "stream.jsonl"
    if stage in ("route", "deliver"):
        classified = [c for i in range(0, len(mentions), 512)
                      for c in tagger.tag(mentions[i : i + 512])]  # fmt: skip
        router = app.build_router(world)
    started, cpu = time.perf_counter(), time.process_time()
    if stage == "end_to_end":
        options = ReplayOptions(stream, state, state / "out.jsonl", state / "dead.jsonl",
                                fresh=True)  # fmt: skip
        result = Replay(options, app.embedded_queue, TopicNames(), tagger, app.build_router(world),
                        app.build_metrics()).run()  # fmt: skip
        count = result.lines
    elif stage == "decode":
        count = sum(1 for _ in read_stream(stream))
    elif stage == "ingest":
        queue = open_queue(f"embedded:{state / 'queue.db'}")
        for i in range(0, len(mentions), 512):
            queue.publish("mentions", [(m.id, encode_mention(m)) for m in mentions[i : i + 512]])
        count = len(mentions)
    elif stage == "classify":
        for i in range(0, len(mentions), 512):
            tagger.tag(mentions[i : i + 512])
        count = len(mentions)
    elif stage in ("route", "deliver"):
        decisions = [d for m, c in zip(mentions, classified, strict=True)
                     for d in router.route(m, c, m.created_at)]  # fmt: skip
        if stage == "deliver":
            started, cpu = time.perf_counter(), time.process_time()
            state.mkdir(parents=True, exist_ok=True)
            with OutcomeFile.open(state / "out.jsonl") as out:
                for i in range(0, len(decisions), 512):
                    batch = [d.outcome for d in decisions[i : i + 512]]
                    out.write_many(batch)
                    out.flush_durable()
        count = len(mentions)
    return count, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(measure(args.stage, args.work)))
        return
    import yaml

    from workers import training

    with tempfile.TemporaryDirectory(prefix="mr-bench-") as tmp:
        work = Path(tmp)
        count = build_stream(work / "stream.jsonl", args.mentions)
        (work / "taxonomy.yaml").write_text(yaml.safe_dump(TAXONOMY))
        (work / "roster.yaml").write_text(yaml.safe_dump(roster()))
        heads = {"topic": "labels.topic", "sentiment": "labels.sentiment"}
        # The model learns from the tweets once (the first round), as a deployment would.
        build_stream(work / "train.jsonl", count=min(count, 10_262))
        training.train(work / "train.jsonl", "text", heads, work / "model.skops")
        env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        results: dict[str, list[dict[str, float]]] = {s: [] for s in STAGES}
        for _ in range(args.repeat):
            for stage in STAGES:
                cmd = [
                    sys.executable,
                    "-m",
                    "benchmarks.pipeline",
                    "--stage",
                    stage,
                    "--work",
                    str(work),
                ]
                out = subprocess.run(
                    cmd, env=env, cwd=REPO, check=True, capture_output=True, text=True
                )
                results[stage].append(json.loads(out.stdout.strip().splitlines()[-1]))
    stages = {
        s: {
            "median_per_second": round(statistics.median(r["per_second"] for r in runs)),
            "median_seconds": round(statistics.median(r["seconds"] for r in runs), 3),
            "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in runs), 3),
            "peak_mib": round(max(r["peak_mib"] for r in runs), 1),
        }
        for s, runs in results.items()
    }
    report = {"mentions": count, "repeat": args.repeat, "stages": stages}
    print(f"{count:,} mentions, median of {args.repeat} runs, one core\n")
    print(f"{'stage':<12} {'mentions/s':>12} {'seconds':>9} {'CPU s':>9} {'peak MiB':>9}")
    for stage, r in stages.items():
        rate, seconds, peak = r["median_per_second"], r["median_seconds"], r["peak_mib"]
        cpu = r["median_cpu_seconds"]
        print(f"{stage:<12} {rate:>12,} {seconds:>9.2f} {cpu:>9.2f} {peak:>9.1f}")
    results_dir = REPO / "benchmarks" / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / "pipeline.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
