"""What each ``mention-router`` subcommand does, given its arguments and the settings."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from config.settings import Settings
from connectors.codec import decode_mention
from connectors.datasets import CONVERTERS
from connectors.files import StreamWriter
from connectors.queues import Queue, open_queue
from routing.errors import ConfigError, MalformedMentionError
from routing.models import Mention
from workers import app, listening, roles, training
from workers.endpoint import metrics_endpoint
from workers.health import Readiness, Status
from workers.metrics import Metrics
from workers.replay import Replay, ReplayOptions, ReplayResult
from workers.stages import ClassifyStage, queue_lag

log = logging.getLogger("mention_router")

DEMO_HEADS = {"topic": "topic", "urgency": "urgency", "sentiment": "sentiment"}


def _world(args: argparse.Namespace, settings: Settings) -> app.World:
    return app.load_world(
        args.roster or settings.routing.roster, args.taxonomy or settings.routing.taxonomy
    )


def _report(result: ReplayResult, out: Path, as_json: bool) -> None:
    if as_json:
        data = result.summary.as_dict() | {
            "lines": result.lines,
            "malformed": result.malformed,
            "resumed_after_line": result.resumed_after_line,
            "out": str(out),
        }
        print(json.dumps(data, indent=2, sort_keys=True))
        return
    if result.resumed_after_line:
        print(f"resumed after line {result.resumed_after_line}")
    rate = result.lines / result.seconds if result.seconds else 0.0
    print(f"replayed {result.lines:,} lines in {result.seconds:.2f} s ({rate:,.0f}/s)")
    if result.malformed:
        print(f"{result.malformed} malformed lines went to the dead-letter file")
    print(result.summary.render())
    print(f"\noutcomes written to {out}")


def _replay(
    args: argparse.Namespace,
    settings: Settings,
    world: app.World,
    model: Path | None,
    state: Path,
    out: Path,
) -> ReplayResult:
    metrics = app.build_metrics()
    tagger = app.build_tagger(
        model,
        world,
        use_labels=getattr(args, "use_labels", False),
        classifier=settings.classifier,
    )
    metrics.set_build(tagger.version)
    options = ReplayOptions(
        stream=args.stream,
        state_dir=state,
        out=out,
        dead_letters=getattr(args, "dead_letters", None) or state / "dead-letters.jsonl",
        speed=args.speed,
        batch_size=settings.queue.batch_size,
        fresh=getattr(args, "fresh", False),
    )
    runner = Replay(
        options,
        app.embedded_queue,
        settings.queue.topics,
        tagger,
        app.build_router(world, app.router_options(settings)),
        metrics,
    )
    readiness = _readiness(metrics, runner.queue_status, model_check=Status(None))
    with metrics_endpoint(args, settings, metrics, readiness) as port:
        show = app.progress_printer("mentions")
        try:
            result = runner.run(show)
        finally:
            app.end_progress(show)
        linger = getattr(args, "linger", 0.0)
        if port is not None and linger > 0:
            log.info("replay done; serving /metrics for %.0f s more", linger)
            time.sleep(linger)
        return result


def _readiness(metrics: Metrics, queue: Status, model_check: Status) -> Readiness:
    """The checks behind /readyz; connectors add theirs through ``metrics.connectors``."""
    readiness = Readiness()
    readiness.add("queue", queue)
    readiness.add("model", model_check)
    readiness.add("connectors", metrics.connectors.readiness)
    return readiness


def replay(args: argparse.Namespace, settings: Settings) -> int:
    if args.speed < 0:
        raise ConfigError("--speed", "speed", "must be 0 (as fast as possible) or more")
    world = _world(args, settings)
    state = args.state or settings.state_dir / "replay" / args.stream.stem
    out = args.out or state / "assignments.jsonl"
    result = _replay(args, settings, world, args.model or settings.classifier.model, state, out)
    _report(result, out, args.json)
    return 0


def demo(args: argparse.Namespace, settings: Settings) -> int:
    state: Path = args.state
    model = state / "model.skops"
    seed = app.DEMO_DIR / "seed_mentions.csv"
    if not model.exists() or model.stat().st_mtime < seed.stat().st_mtime:
        print(f"training the demo model on {seed.name} ...")
        training.train(seed, "text", DEMO_HEADS, model)
    world = app.load_world(app.DEMO_ROSTER, app.DEMO_TAXONOMY)
    args.stream = app.DEMO_DIR / "stream.jsonl"
    args.fresh = True
    out = state / "assignments.jsonl"
    print(f"replaying {args.stream.name} against {len(world.roster)} employees ...\n")
    result = _replay(args, settings, world, model, state / "replay", out)
    _report(result, out, as_json=False)
    return 0


class _Stop:
    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


def run(args: argparse.Namespace, settings: Settings) -> int:
    role = args.role
    if not log.isEnabledFor(logging.DEBUG):
        logging.getLogger("kafka").setLevel(logging.WARNING)  # it logs every connection at INFO
    world: list[app.World] = []  # loaded up front, so a bad roster stops start-up at once

    def load_world() -> app.World:
        if not world:
            world.append(_world(args, settings))
        return world[0]

    if role in ("classify", "route", "all"):
        load_world()
    model = args.model or settings.classifier.model
    parts = roles.Parts(
        tagger=lambda: app.build_tagger(
            model, load_world(), use_labels=args.use_labels, classifier=settings.classifier
        ),
        router=lambda: app.build_router(load_world(), app.router_options(settings)),
    )
    options = roles.RoleOptions(
        role=role,
        stream=args.stream,
        speed=args.speed,
        out=args.out or settings.output.assignments,
        until_idle=args.until_idle,
        clock=args.clock,
    )
    metrics = app.build_metrics()
    queue_status, model_status = Status("queue not open yet"), Status("model not loaded yet")
    readiness = _readiness(metrics, queue_status, model_status)
    # Served from the start: /healthz answers and /readyz says why while the queue is awaited.
    with metrics_endpoint(args, settings, metrics, readiness):
        queue = roles.open_ready_queue(settings.queue)
        queue_status.ok()
        _run_stages(args, settings, queue, options, parts, metrics, (queue_status, model_status))
    return 0


def _run_stages(
    args: argparse.Namespace,
    settings: Settings,
    queue: Queue,
    options: roles.RoleOptions,
    parts: roles.Parts,
    metrics: Metrics,
    statuses: tuple[Status, Status],
) -> None:
    queue_status, model_status = statuses
    stop = _Stop()
    signal.signal(signal.SIGTERM, stop)
    stages: list[roles.Stage] = []
    try:
        stages = roles.build_stages(options, queue, settings, parts, metrics)
        model_status.ok()  # loaded by the stages that classify; the others need none
        version = next((s.version for s in stages if isinstance(s, ClassifyStage)), "")
        metrics.set_build(version)
        metrics.watch_lag(queue_lag(queue, roles.watched(options.role, settings.queue.topics)))
        worker = roles.Worker(
            stages,
            settings.queue,
            lambda: stop.requested,
            until_idle=args.until_idle,
            queue_status=queue_status,
        )
        log.info("running as %s on %s", options.role, settings.queue.url)
        if options.role == "all" and listening.enabled(settings):
            # One process does it all: the configured connectors feed the same queue.
            with listening.connectors_running(settings, queue, metrics.connectors):
                worker.run()
        else:
            worker.run()
    finally:
        roles.close_all(stages)
        queue.close()


def record(args: argparse.Namespace, settings: Settings) -> int:
    if args.source == "queue":
        mentions = _queued_mentions(settings)
    else:
        if args.input is None:
            raise ConfigError("record", "input", f"--from {args.source} needs an input file")
        mentions = CONVERTERS[args.source](args.input)
    count = 0
    started = time.perf_counter()
    with StreamWriter(args.out) as writer:
        for mention in mentions:
            if args.limit is not None and count >= args.limit:
                break
            writer.write(mention)
            count += 1
    print(f"wrote {count:,} mentions to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def _queued_mentions(settings: Settings) -> Iterator[Mention]:
    queue = open_queue(settings.queue.url)
    try:
        for record in queue.scan(settings.queue.topics.mentions):
            try:
                yield decode_mention(record.value)
            except MalformedMentionError as exc:
                log.warning("skipping malformed record at offset %d: %s", record.offset, exc)
    finally:
        queue.close()


def train(args: argparse.Namespace, settings: Settings) -> int:
    heads = training.parse_label_specs(args.label)
    progress = _say if sys.stderr.isatty() else None
    report = training.train(
        args.data,
        args.text_column,
        heads,
        args.out,
        corrections=args.corrections or (),
        progress=progress,
    )
    print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def evaluate(args: argparse.Namespace, settings: Settings) -> int:
    heads = training.parse_label_specs(args.label)
    result = training.evaluate(args.model, args.data, args.text_column, heads)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print(f"model {result['model_version']}: {result['rows']} rows ({result['dropped']} dropped)")
    print(f"{'head':<12} {'accuracy':>9} {'macro-F1':>9} {'support':>8} {'classes':>8}")
    for head, s in sorted(result["heads"].items()):
        print(
            f"{head:<12} {s['accuracy']:>9.3f} {s['macro_f1']:>9.3f} "
            f"{s['support']:>8} {s['n_classes']:>8}"
        )
    return 0


__all__ = ["demo", "evaluate", "record", "replay", "run", "train"]
