"""Decision-log digest: one hash over every decision the router logs, to compare revisions.

    python benchmarks/decisionlog.py [--code DIR] [--sizes 1000 10000]
                                     [--policies adaptive greedy] [--work DIR ...]

Routes the decision-time scenarios of `benchmarks/routing.py` (3,000 airline tweets over six
working hours, rosters of the given sizes) and, for each `--work` directory holding a
`roster.yaml`, `taxonomy.yaml`, `model.skops` and `stream.jsonl` (a replay's inputs), that
stream at its own times. It prints, per scenario, a digest of the `repr` of every decision
(outcome, mention, classification and audit, every field) and how many there were. `--code`
routes with the code of another checkout (its `routing`, `workers` and `benchmarks`), so two
revisions can be compared decision for decision: a speed-up must leave every digest as it was.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def digest(decisions: Iterable[Any]) -> tuple[str, int]:
    """The first 16 hex digits of a SHA-256 over each decision's ``repr``, and their count."""
    h, count = hashlib.sha256(), 0
    for decision in decisions:
        h.update(repr(decision).encode())
        h.update(b"\n")
        count += 1
    return h.hexdigest()[:16], count


def timing_scenario(size: int, policy: str) -> tuple[str, int]:
    """The decision-time benchmark's stream and roster, each mention routed at its arrival."""
    from benchmarks.routing import AIRLINE, TAXONOMY, airline_tweets, labeled, roster
    from routing.router import Router, RouterOptions

    count = 3000
    people = roster(size, daily_budget=size * 60.0)
    base = datetime(2015, 2, 16, 14, tzinfo=UTC)
    step = timedelta(hours=6) / count
    router = Router(people, TAXONOMY, RouterOptions(policy=policy))
    decisions = []
    for i, (mention, classification) in enumerate(labeled(list(airline_tweets(AIRLINE))[:count])):
        mention = mention.model_copy(update={"created_at": base + i * step})
        decisions += router.route(mention, classification, mention.created_at)
    return digest(decisions)


def recorded_stream(work: Path) -> tuple[str, int]:
    """A replay's stream, tagged by its model, each mention routed at its own time."""
    from connectors.files import read_stream
    from routing.models import Mention
    from workers import app

    world = app.load_world(work / "roster.yaml", work / "taxonomy.yaml")
    mentions = [
        line.result
        for line in read_stream(work / "stream.jsonl")
        if isinstance(line.result, Mention)
    ]
    tagger = app.build_tagger(work / "model.skops", world)
    classified = [
        c
        for start in range(0, len(mentions), 512)
        for c in tagger.tag(mentions[start : start + 512])
    ]
    router = app.build_router(world)
    decisions = []
    for mention, classification in zip(mentions, classified, strict=True):
        decisions += router.route(mention, classification, mention.created_at)
    return digest(decisions)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--code", type=Path, help="route with this checkout's code")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000])
    parser.add_argument("--policies", nargs="*", default=["adaptive", "greedy"])
    parser.add_argument("--work", type=Path, nargs="*", default=[], help="recorded streams")
    args = parser.parse_args()
    code = (args.code or Path(__file__).resolve().parents[1]).resolve()
    sys.path.insert(0, str(code))
    for size in args.sizes:
        for policy in args.policies:
            found, count = timing_scenario(size, policy)
            print(f"timing {size} {policy}: {found} {count}", flush=True)
    for work in args.work:
        found, count = recorded_stream(work)
        print(f"stream {work}: {found} {count}", flush=True)


if __name__ == "__main__":
    main()
