"""The ``mention-router`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from config.loader import load_settings
from config.settings import Settings
from routing.errors import MentionRouterError
from workers import classifying, commands, listening, logs, roles
from workers.inbox import serve as inbox_serve
from workers.simulating import SIMULATE_POLICIES, explain_command, simulate_command

log = logging.getLogger("mention_router")

Handler = Callable[[argparse.Namespace, Settings], int]


def _routing_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--roster", type=Path, help="roster YAML (overrides the configured one)")
    parser.add_argument(
        "--taxonomy", type=Path, help="taxonomy YAML (overrides the configured one)"
    )
    parser.add_argument("--model", type=Path, help="model file (overrides the configured one)")
    parser.add_argument(
        "--use-labels",
        action="store_true",
        help="route on the topic/urgency/sentiment labels recorded in the stream",
    )


def _metrics_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metrics-port", type=int, help="serve /metrics on this port (0: any)")
    parser.add_argument("--no-metrics", action="store_true", help="do not serve /metrics")


def _label_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="CSV or JSONL file")
    parser.add_argument("--text-column", required=True, help="column (or dotted key) of the text")
    parser.add_argument(
        "--label",
        action="append",
        required=True,
        metavar="HEAD=COLUMN",
        help="a head to learn and the column holding its labels; repeat for each head",
    )


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Options accepted before or after the command; after it they override."""
    unset = argparse.SUPPRESS
    parser.add_argument(
        "--config",
        type=Path,
        default=None if defaults else unset,
        help="settings YAML (default: config/mention-router.yaml when it exists)",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING" if defaults else unset,
        help="DEBUG, INFO, WARNING or ERROR (default WARNING)",
    )
    parser.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        default="text" if defaults else unset,
        help="text (default) or json: one JSON object per line, with a correlation id per mention",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mention-router",
        description="Listen for brand mentions, classify them and route each to an employee.",
    )
    _global_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, defaults=False)

    run = sub.add_parser(
        "run", parents=[common], help="the long-running worker: consume, classify, route, deliver"
    )
    _routing_overrides(run)
    _metrics_options(run)
    run.add_argument(
        "--role",
        choices=roles.ROLES,
        default="all",
        help="ingest, classify, route, deliver, or all but ingest in one process (default all)",
    )
    run.add_argument(
        "--stream", type=Path, metavar="STREAM.jsonl", help="ingest: the recorded stream to queue"
    )
    run.add_argument("--speed", type=float, default=0.0, help="ingest: 0 (default), 1 or N× pace")
    run.add_argument(
        "--clock",
        choices=sorted(roles.CLOCKS),
        default="wall",
        help="route: decide at the wall-clock time (default) or at each mention's own time",
    )
    run.add_argument("--out", type=Path, help="outcome JSONL file (default from settings)")
    run.add_argument("--until-idle", action="store_true", help="stop once the queue is drained")
    run.set_defaults(handler=commands.run)

    replay = sub.add_parser(
        "replay", parents=[common], help="replay a recorded stream through the whole pipeline"
    )
    replay.add_argument("stream", type=Path, metavar="STREAM.jsonl")
    replay.add_argument(
        "--speed",
        type=float,
        default=0.0,
        help="0: as fast as possible, 1: original pace, N: N× faster",
    )
    _routing_overrides(replay)
    _metrics_options(replay)
    replay.add_argument(
        "--out", type=Path, help="outcome JSONL file (default: STATE/assignments.jsonl)"
    )
    replay.add_argument(
        "--dead-letters", type=Path, help="malformed lines (default: STATE/dead-letters.jsonl)"
    )
    replay.add_argument(
        "--state", type=Path, help="state directory (default: var/replay/<stream name>)"
    )
    replay.add_argument("--fresh", action="store_true", help="start over instead of resuming")
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.add_argument(
        "--linger",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep serving /metrics this long after the replay ends, for a last scrape",
    )
    replay.set_defaults(handler=commands.replay)

    record = sub.add_parser(
        "record", parents=[common], help="write a mention stream (JSONL) for replay"
    )
    record.add_argument(
        "--from",
        dest="source",
        required=True,
        choices=["airline", "twcs", "queue"],
        help="airline: the airline tweets CSV; twcs: the customer-support tweets CSV; "
        "queue: the mentions the configured queue holds",
    )
    record.add_argument("input", type=Path, nargs="?", help="input file (for airline and twcs)")
    record.add_argument("--out", type=Path, required=True, help="the stream file to write")
    record.add_argument("--limit", type=int, help="stop after this many mentions")
    record.set_defaults(handler=commands.record)

    train = sub.add_parser(
        "train", parents=[common], help="train the classifier on labeled CSV or JSONL"
    )
    _label_options(train)
    train.add_argument("--out", type=Path, required=True, help="model file to write")
    train.add_argument(
        "--corrections",
        type=Path,
        action="append",
        metavar="FILE",
        help="corrections JSONL (people's fixes of tags) to learn from too; repeatable",
    )
    train.set_defaults(handler=commands.train)

    classify = sub.add_parser(
        "classify",
        parents=[common],
        help="classify mentions (stream JSONL or plain text lines) and print JSON lines",
    )
    classify.add_argument("--model", type=Path, help="model file (overrides the configured one)")
    classify.add_argument(
        "file", type=Path, nargs="?", metavar="FILE", help="input file (default: standard input)"
    )
    classify.set_defaults(handler=classifying.classify)

    evaluate = sub.add_parser(
        "evaluate", parents=[common], help="accuracy and macro-F1 per head of a model"
    )
    evaluate.add_argument("--model", type=Path, required=True)
    _label_options(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    evaluate.set_defaults(handler=commands.evaluate)

    simulate = sub.add_parser(
        "simulate",
        parents=[common],
        help="route a stream against a roster with no queue, and measure the result",
    )
    simulate.add_argument("--stream", type=Path, required=True, help="recorded stream (JSONL)")
    _routing_overrides(simulate)
    simulate.add_argument(
        "--policy",
        default="adaptive",
        choices=SIMULATE_POLICIES,
        help="routing policy; optimal is the best assignment with hindsight, for comparison",
    )
    simulate.add_argument("--out", type=Path, help="write the outcomes (replay --out format)")
    simulate.add_argument("--json", action="store_true", help="print the report as JSON")
    simulate.set_defaults(handler=simulate_command)

    explain = sub.add_parser("explain", parents=[common], help="why a mention was routed as it was")
    explain.add_argument("mention_id", metavar="MENTION_ID")
    explain.add_argument(
        "--state", type=Path, help="a replay's state directory (default: the configured queue)"
    )
    explain.add_argument("--json", action="store_true", help="one JSON object per decision")
    explain.set_defaults(handler=explain_command)

    demo = sub.add_parser(
        "demo", parents=[common], help="train the demo model and replay the demo stream"
    )
    demo.add_argument("--state", type=Path, default=Path("var/demo"), help="where demo files go")
    demo.add_argument("--speed", type=float, default=0.0)
    _metrics_options(demo)
    demo.set_defaults(handler=commands.demo)

    listen = sub.add_parser(
        "listen", parents=[common], help="run the configured connectors (X, webhooks) into queue"
    )
    listen.add_argument(
        "--record", type=Path, metavar="FILE", help="also append what is ingested to this stream"
    )
    _metrics_options(listen)
    listen.set_defaults(handler=listening.listen)

    inbox_serve.add_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure_logging(args.log_level, args.log_format)
    try:
        settings = load_settings(args.config)
        handler: Handler = args.handler
        return handler(args, settings)
    except MentionRouterError as exc:
        print(f"mention-router: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"mention-router: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mention-router: interrupted", file=sys.stderr)
        return 130


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


if __name__ == "__main__":
    sys.exit(main())
