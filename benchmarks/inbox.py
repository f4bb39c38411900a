"""Inbox API latency: listing an inbox with 1,000 open assignments, and a lead's team view.

    python -m benchmarks.inbox [--open 1000] [--others 9] [--requests 300]

The read model holds ``--open`` open assignments for one employee and as many for each of
``--others`` team mates (10,000 in all by default), folded in from decisions as the inbox
folds the decision log. The app is served by uvicorn on 127.0.0.1 and asked over HTTP with
httpx (keep-alive), one request at a time; latency is per request, client included. A
baseline (``/api/me``: authentication and HTTP, no data) is measured in the same run, and each
median is also given as a multiple of it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from connectors.queues import MemoryQueue  # noqa: E402
from routing.decisions import Audit, Candidate, Decision  # noqa: E402
from routing.models import (  # noqa: E402
    Author,
    Classification,
    Employee,
    Mention,
    Sentiment,
    Urgency,
)
from routing.outcomes import assignment  # noqa: E402
from tests.inbox_world import TOPICS  # noqa: E402
from tests.kafka_broker import free_port  # noqa: E402
from workers.classifying import CorrectionStore  # noqa: E402
from workers.inbox import Inbox, InboxModel, People, TokenStore, create_app  # noqa: E402
from workers.inbox.people import Lead  # noqa: E402

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEXT = "My invoice for February is wrong again and nobody answers the phone. " * 4  # ~280 chars
URGENCIES = list(Urgency)


def _employee(i: int) -> Employee:
    return Employee.model_validate(
        {
            "id": f"e{i}", "name": f"Employee {i}", "team": "care", "languages": ["en"],
            "accounts": {"x": f"@e{i}"}, "skills": {"billing": 0.5 + i / 100},
            "budget_minutes_per_day": 1440, "timezone": "UTC", "hours": "mon-sun 00:00-24:00",
        }
    )  # fmt: skip


def _decision(n: int, employee: Employee) -> Decision:
    created = NOW - timedelta(minutes=n % 600)
    m = Mention(
        id=f"x:{n}", platform="x", author=Author(id=f"u{n}", handle=f"@customer{n}"),
        text=TEXT, created_at=created, url=f"https://x.com/customer{n}/status/{n}",
    )  # fmt: skip
    urgency = URGENCIES[n % 4]
    c = Classification(
        mention_id=m.id, topic="billing", urgency=urgency, language="en",
        sentiment=Sentiment.NEGATIVE, model_version="bench",
    )  # fmt: skip
    outcome = assignment(
        m, c, employee, value=1.0, minutes=0.1, at=created, due=created + timedelta(hours=4)
    )
    audit = Audit(
        policy="adaptive",
        considered=tuple(Candidate(employee_id=f"e{k}", value=1.0 - k / 10) for k in range(5)),
        chosen=employee.id, note="highest value",
    )  # fmt: skip
    return Decision(outcome=outcome, mention=m, classification=c, audit=audit)


def build(open_each: int, others: int, folder: Path) -> tuple[Inbox, dict[str, str]]:
    employees = tuple(_employee(i) for i in range(others + 1))
    people = People(employees, [Lead(id="lead", name="Lead", teams=frozenset({"care"}))])
    model = InboxModel(employees)
    started = time.perf_counter()
    for k, employee in enumerate(employees):
        for j in range(open_each):
            model.apply(_decision(k * open_each + j, employee))
    print(
        f"read model: {model.version:,} decisions folded in {time.perf_counter() - started:.2f} s"
    )
    tokens = TokenStore(folder / "tokens.json")
    issued = {"e0": tokens.issue("e0"), "lead": tokens.issue("lead")}
    inbox = Inbox(model, people, tokens, MemoryQueue(), TOPICS, CorrectionStore(folder / "c.jsonl"))
    return inbox, issued


def measure(client: httpx.Client, path: str, token: str, requests: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(5):
        client.get(path, headers=headers).raise_for_status()
    times, size = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        size = len(response.content)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "bytes": size,
        "requests": requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=1000, help="open assignments per employee")
    parser.add_argument("--others", type=int, default=9, help="team mates with as many")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inbox, tokens = build(args.open, args.others, Path(tmp))
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(inbox), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        results = {}
        with httpx.Client(base_url=base, timeout=30) as client:
            results["baseline /api/me"] = measure(client, "/api/me", tokens["e0"], args.requests)
            results["my inbox"] = measure(client, "/api/assignments", tokens["e0"], args.requests)
            team_requests = max(10, args.requests // 10)
            results["team view"] = measure(client, "/api/team", tokens["lead"], team_requests)
            results["team budgets"] = measure(
                client, "/api/team/budgets", tokens["lead"], args.requests
            )
        server.should_exit = True
        thread.join(timeout=10)
    base_ms = results["baseline /api/me"]["median_ms"]
    for row in results.values():
        row["x_baseline"] = round(row["median_ms"] / base_ms, 1)
    report = {"open_per_employee": args.open, "employees": args.others + 1, "results": results}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
