"""Connector throughput: normalized mentions per second from recorded X payloads, and webhooks.

    python -m benchmarks.connectors [--tweets N] [--stream-tweets 1000] [--requests 500]

Payloads are X API v2 filtered-stream lines (tweet, expanded author, matching rules) made at
run time from the airline tweets (``../shared/data/airline_sentiment/Tweets.csv``; synthetic
tweets when it is absent). Stages, each timed ``--repeat`` times (the median is reported):

- ``parse``: ``parse_stream_line`` alone (bytes to a normalized ``Mention``);
- ``parse+match``: plus the listening rules (six airline brands);
- ``catch-up``: pages of 100 tweets as recent search returns them, through ``XFeeds``: parse,
  match, deduplicate and publish to the embedded queue (one durable publish per page);
- ``stream``: line by line through ``TweepySource.on_line`` into the embedded queue (one
  durable publish per tweet, as on the live stream);
- ``webhook``: sequential HTTP POSTs of one generic mention to the FastAPI endpoint on
  uvicorn (127.0.0.1), each acknowledged after its durable publish; and of batches of 100.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TWEETS = REPO.parent / "shared" / "data" / "airline_sentiment" / "Tweets.csv"
REPORT = REPO / "benchmarks" / "results" / "connectors.json"
_CSV_TIME = "%Y-%m-%d %H:%M:%S %z"
AIRLINES = ["united", "USAirways", "AmericanAir", "SouthwestAir", "JetBlue", "VirginAmerica"]


def _rules() -> Any:
    from connectors.listening import ListeningRules

    brands = {a.lower(): {"handles": [f"@{a}"], "keywords": [a]} for a in AIRLINES}
    return ListeningRules.model_validate({"brands": brands})


def _tweet(i: int, text: str, author: str, at: datetime) -> dict[str, Any]:
    author_id = str(zlib.crc32(author.encode()))
    return {
        "data": {
            "id": str(1_600_000_000_000_000_000 + i),
            "text": text,
            "author_id": author_id,
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conversation_id": str(1_600_000_000_000_000_000 + i),
            "lang": "en",
        },
        "includes": {"users": [{"id": author_id, "username": author,
                                "public_metrics": {"followers_count": int(author_id) % 50_000}}]},
        "matching_rules": [{"id": "1", "tag": "mention-router:airlines"}],
    }  # fmt: skip


def payloads(limit: int | None) -> tuple[list[dict[str, Any]], str]:
    """Stream payloads from the airline tweets (or synthetic ones) and where they came from."""
    if TWEETS.exists():
        with TWEETS.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))[:limit]
        made = [
            _tweet(i, r["text"], r["name"], datetime.strptime(r["tweet_created"], _CSV_TIME))
            for i, r in enumerate(rows)
        ]
        return made, f"{TWEETS.name} ({len(made)} tweets)"
    rng, limit = random.Random(7), limit or 10_000
    at = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
    made = [
        _tweet(i, f"@{rng.choice(AIRLINES)} flight {i} delayed again", f"user{i % 977}", at)
        for i in range(limit)
    ]
    return made, f"synthetic ({len(made)} tweets)"


def _median_rate(count: int, run: Callable[[], None], repeat: int) -> dict[str, float]:
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        rates.append(count / (time.perf_counter() - started))
    return {"per_second": round(statistics.median(rates), 1), "runs": len(rates)}


def bench_parsing(lines: list[bytes], repeat: int) -> dict[str, Any]:
    from connectors.listening import RuleMatcher
    from connectors.x import TweetLine, parse_stream_line

    matcher = RuleMatcher(_rules())

    def parse() -> None:
        for line in lines:
            parse_stream_line(line)

    def parse_and_match() -> None:
        for line in lines:
            event = parse_stream_line(line)
            assert isinstance(event, TweetLine)
            matcher.matches(event.mention.text, event.mention.lang)

    matched = sum(1 for line in lines if _matches(matcher, line))
    return {
        "parse": _median_rate(len(lines), parse, repeat),
        "parse+match": _median_rate(len(lines), parse_and_match, repeat),
        "matched_share": round(matched / len(lines), 3),
    }


def _matches(matcher: Any, line: bytes) -> bool:
    from connectors.x import parse_stream_line

    m = parse_stream_line(line).mention  # type: ignore[union-attr]
    return bool(matcher.matches(m.text, m.lang))


def _ingestor(work: Path) -> Any:
    from connectors.dedup import SeenIds
    from connectors.ingest import Ingestor
    from connectors.queues import open_queue

    queue = open_queue(f"embedded:{work / 'queue.db'}")
    return Ingestor(queue, "mentions", SeenIds(work / "seen.db")), queue


def _fresh(repeat: int, count: int, stage: Callable[[Any], None]) -> dict[str, float]:
    """``stage(ingestor)`` timed on a new queue and seen-ids table each time."""
    rates = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            ingestor, queue = _ingestor(Path(tmp))
            started = time.perf_counter()
            stage(ingestor)
            rates.append(count / (time.perf_counter() - started))
            assert queue.end_offset("mentions") == count, "every mention must be queued once"
            ingestor.close()
            queue.close()
    return {"per_second": round(statistics.median(rates), 1), "runs": len(rates)}


def bench_ingest(tweets: list[dict[str, Any]], stream_count: int, repeat: int) -> dict[str, Any]:
    from pydantic import SecretStr

    from connectors.x import Cursor, TweepySource, XOptions, page_mentions
    from routing.errors import PayloadError

    chunks = [tweets[i : i + 100] for i in range(0, len(tweets), 100)]
    pages = [
        {
            "data": [t["data"] for t in chunk],
            "includes": {"users": [u for t in chunk for u in t["includes"]["users"]]},
        }
        for chunk in chunks
    ]

    def catch_up(ingestor: Any) -> None:
        for page in pages:
            found = [m for m in page_mentions(page) if not isinstance(m, PayloadError)]
            ingestor.ingest("x", found)

    lines = [json.dumps(t).encode() for t in tweets[:stream_count]]

    def stream(ingestor: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            options = XOptions(bearer_token=SecretStr("benchmark"))
            source = TweepySource(options, _rules(), ingestor, Cursor(Path(tmp) / "c.json"))
            for line in lines:
                source.on_line(line)

    return {
        "catch-up": _fresh(repeat, len(tweets), catch_up),
        "stream": _fresh(repeat, len(lines), stream),
        "stream_tweets": len(lines),
    }


def _mention(i: int) -> dict[str, Any]:
    return {
        "id": f"zendesk:{i}",
        "platform": "zendesk",
        "author": {"id": f"c{i}"},
        "text": "my order never arrived",
        "created_at": "2026-03-02T09:14:05+01:00",
    }


def _post_rate(bodies: list[str], per_request: int, repeat: int) -> dict[str, float]:
    """Mentions per second over sequential POSTs, the server started before the clock."""
    import httpx

    from connectors.observer import NullObserver
    from workers.webhook_server import WebhookServer
    from workers.webhooks import WebhookOptions, create_app

    rates = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            ingestor, queue = _ingestor(Path(tmp))
            app = create_app(ingestor, WebhookOptions(max_body_bytes=10_000_000))
            server = WebhookServer(app, "127.0.0.1", 0, NullObserver())
            server.start()
            assert server.wait_started(10)
            with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as client:
                client.get("/healthz")  # the connection is open before timing
                started = time.perf_counter()
                for body in bodies:
                    assert client.post("/webhooks/mentions", content=body).status_code == 200
                rates.append(len(bodies) * per_request / (time.perf_counter() - started))
            server.stop()
            assert queue.end_offset("mentions") == len(bodies) * per_request
            ingestor.close()
            queue.close()
    rate = round(statistics.median(rates), 1)
    return {"per_second": rate, "requests_per_second": round(rate / per_request, 1)}


def bench_webhook(requests: int, repeat: int) -> dict[str, Any]:
    single = [json.dumps(_mention(r)) for r in range(requests)]
    batches = [
        json.dumps({"mentions": [_mention(r * 100 + k) for k in range(100)]})
        for r in range(max(requests // 10, 1))
    ]
    return {
        "webhook-single": _post_rate(single, 1, repeat),
        "webhook-batch-100": _post_rate(batches, 100, repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=None, help="default: all")
    parser.add_argument("--stream-tweets", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tweets, source = payloads(args.tweets)
    lines = [json.dumps(t).encode() for t in tweets]
    report: dict[str, Any] = {"cpus": os.cpu_count(), "source": source, "repeat": args.repeat}
    report |= bench_parsing(lines, args.repeat)
    report |= bench_ingest(tweets, min(args.stream_tweets, len(tweets)), args.repeat)
    report["ratios"] = {
        "catch-up/parse": round(
            report["catch-up"]["per_second"] / report["parse"]["per_second"], 3
        ),
        "stream/catch-up": round(
            report["stream"]["per_second"] / report["catch-up"]["per_second"], 3
        ),
    }
    report |= bench_webhook(args.requests, args.repeat)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
