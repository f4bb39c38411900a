"""The pipeline's plumbing per mention: the decision log, delivery, the summary, the tags.

    python -m benchmarks.plumbing [--mentions 20000] [--repeat 5]

Routes the airline tweets (on their labels, so no model is trained) the way a replay does,
then times, on the decisions that made, each piece of plumbing the old way and the way the
replay does it now, in one process pinned to one core: medians over ``--repeat`` rounds, in
microseconds per mention, with their ratio. Each pair is checked to give the same bytes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import one_core
from benchmarks.pipeline import TAXONOMY, build_stream, roster

if TYPE_CHECKING:
    from connectors.queues import EmbeddedQueue
    from routing.models import Employee, Mention, Outcome, Taxonomy


def _cpu(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return statistics.median(times)


def _lines(outcomes: list[Outcome]) -> list[bytes]:
    from connectors.codec import encode_outcome

    return [encode_outcome(o) for o in outcomes]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mentions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    one_core()
    from connectors.files import read_stream
    from connectors.queues import EmbeddedQueue
    from routing.models import Employee, Mention, Taxonomy
    from workers.heap import settled_heap

    taxonomy = Taxonomy.model_validate(TAXONOMY)
    employees = roster()["employees"]
    assert isinstance(employees, list)
    people = [Employee.model_validate(e) for e in employees]
    with tempfile.TemporaryDirectory(prefix="mr-plumbing-") as tmp:
        stream = Path(tmp) / "stream.jsonl"
        count = build_stream(stream, args.mentions)
        mentions = [x.result for x in read_stream(stream) if isinstance(x.result, Mention)]
        queue = EmbeddedQueue(Path(tmp) / "queue.db")
        with settled_heap():  # the collector settings a replay runs with
            _run(args.repeat, count, mentions, people, taxonomy, queue)
        queue.close()


def _run(
    repeat: int,
    count: int,
    mentions: list[Mention],
    people: list[Employee],
    taxonomy: Taxonomy,
    queue: EmbeddedQueue,
) -> None:
    from connectors.codec import encode_outcome
    from routing.models import Classification
    from routing.router import Router
    from routing.tagger import Tagger
    from routing.trusted import trusted
    from workers.decisionlog import DecisionEncoder, encode_decision
    from workers.summary import Finals, Summary

    tagger, router = Tagger(None, taxonomy, use_labels=True), Router(people, taxonomy)
    tagged = [c for i in range(0, count, 512) for c in tagger.tag(mentions[i : i + 512])]
    decisions = [
        d for m, c in zip(mentions, tagged, strict=True) for d in router.route(m, c, m.created_at)
    ]
    outcomes = [d.outcome for d in decisions if d.outcome is not None]
    assert len(outcomes) == len(decisions)  # no feedback in a replay of a stream
    lines = [encode_outcome(o) for o in outcomes]
    encoder = DecisionEncoder()
    assert [encoder.encode(d)[0] for d in decisions] == [encode_decision(d) for d in decisions]
    fields = [c.model_dump() for c in tagged]

    def finals() -> Summary:
        gathered = Finals()
        gathered.add(outcomes)
        return gathered.summary(people)

    for i in range(0, len(lines), 1024):
        queue.publish("assignments", [(None, line) for line in lines[i : i + 1024]])

    def read_back() -> Summary:
        return Summary.from_lines((r.value for r in queue.scan("assignments")), people)

    assert finals().as_dict() == read_back().as_dict()
    pairs = {
        "decision record and outcome line": (
            lambda: [
                (encode_decision(d), line)
                for d, line in zip(decisions, _lines(outcomes), strict=True)
            ],
            lambda: list(map(DecisionEncoder().encode, decisions)),  # one encoder a run
        ),
        "summary (topic read back / delivered)": (read_back, finals),
        "classification": (
            lambda: [Classification(**f) for f in fields],
            lambda: [trusted(Classification, **f) for f in fields],
        ),
    }
    print(f"{count} mentions, {len(decisions)} decisions; CPU us per mention, median of {repeat}")
    print(f"{'piece':<38} {'before':>8} {'now':>8} {'ratio':>6}")
    for name, (before, now) in pairs.items():
        old, new = (_cpu(run, repeat) / count * 1e6 for run in (before, now))
        print(f"{name:<38} {old:>8.1f} {new:>8.1f} {old / new:>6.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
