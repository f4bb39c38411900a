"""The inbox API against the real app, a real route stage and the queue: actions, budgets,
re-routing and who may see and do what."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.queues import MemoryQueue, open_queue
from routing.models import Urgency
from tests.asgi import TestClient
from tests.inbox_world import NOW, TOPICS, World, build_world, mention
from workers.decisionlog import decisions_in
from workers.inbox import create_app


@pytest.fixture(params=["memory", "embedded"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    queue = MemoryQueue() if request.param == "memory" else open_queue(f"embedded:{tmp_path}/q.db")
    yield build_world(queue, tmp_path)
    queue.close()


@pytest.fixture
def client(world: World) -> TestClient:
    return TestClient(create_app(world.inbox))


def _assigned(world: World, mention_id: str = "m1", text: str = "my invoice is wrong") -> None:
    world.publish(mention(mention_id, text=text, url=f"https://x.com/u/status/{mention_id}"))
    world.settle()


def _feedback(world: World) -> list[str]:
    return [d.feedback.kind for d in decisions_in(world.queue, TOPICS.decisions) if d.feedback]


def _holder(client: TestClient, world: World, mention_id: str, lead: str = "lena") -> str | None:
    got = client.get(f"/api/assignments/{mention_id}", headers=world.headers(lead)).json()
    return got["employee_id"] if got["state"] in ("assigned", "accepted") else None


def test_an_employee_sees_their_assignment_with_everything_to_answer_it(
    client: TestClient, world: World
) -> None:
    # Given a billing mention the router gives to anna (the best billing skill)
    _assigned(world)

    # When anna lists her inbox
    got = client.get("/api/assignments", headers=world.headers("anna"))

    # Then it holds the mention, its author, link, account, deadline and why it came to her
    assert got.status_code == 200
    [item] = got.json()["items"]
    assert item["mention_id"] == "m1"
    assert item["text"] == "my invoice is wrong"
    assert item["author"] == "@customer"
    assert item["url"] == "https://x.com/u/status/m1"
    assert item["account"] == "@anna"
    assert item["due_at"].startswith("2026-03-02T13:00")  # a normal SLA of 240 minutes
    assert "best match of" in item["why"]
    assert client.get("/api/assignments", headers=world.headers("bert")).json()["items"] == []


def test_accept_becomes_an_event_the_router_applies(client: TestClient, world: World) -> None:
    _assigned(world)
    got = client.post("/api/assignments/m1/accept", headers=world.headers("anna"))
    assert got.status_code == 202
    assert got.json()["kind"] == "accept"

    world.settle()

    assert _feedback(world) == ["accepted"]
    item = client.get("/api/assignments/m1", headers=world.headers("anna")).json()
    assert item["state"] == "accepted"


def test_done_corrects_the_ledger_by_the_difference_and_a_restart_sees_it(
    client: TestClient, world: World
) -> None:
    # Given anna's assignment, estimated at 10 minutes
    _assigned(world)
    before = _budget(client, world, "anna")
    assert before["used_today"] == 10

    # When she reports it done in 25 minutes
    got = client.post(
        "/api/assignments/m1/done", json={"minutes": 25}, headers=world.headers("anna")
    )
    assert got.status_code == 202
    world.settle()

    # Then her books show 25 minutes, the assignment left her queue, and a router rebuilt
    # from the decision log (a restart) has the same 25 minutes on its ledger
    assert _budget(client, world, "anna")["used_today"] == 25
    assert client.get("/api/assignments", headers=world.headers("anna")).json()["items"] == []
    rebuilt = world.new_router()
    rebuilt.rebuild(decisions_in(world.queue, TOPICS.decisions))
    assert rebuilt.ledger.used("anna", NOW) == 25


def _budget(client: TestClient, world: World, who: str) -> dict[str, object]:
    rows = client.get("/api/team/budgets", headers=world.headers("lena")).json()
    by_id: dict[str, dict[str, object]] = {r["employee_id"]: r for r in rows}
    return by_id[who]


def test_decline_reroutes_to_the_next_best_and_gives_the_time_back(
    client: TestClient, world: World
) -> None:
    _assigned(world)

    got = client.post(
        "/api/assignments/m1/decline", json={"reason": "on leave"}, headers=world.headers("anna")
    )
    assert got.status_code == 202
    world.settle()

    assert _holder(client, world, "m1") == "bert"
    assert client.get("/api/assignments", headers=world.headers("anna")).json()["items"] == []
    [mine] = client.get("/api/assignments", headers=world.headers("bert")).json()["items"]
    assert mine["mention_id"] == "m1"
    assert _budget(client, world, "anna")["used_today"] == 0
    assert _budget(client, world, "bert")["used_today"] == 10
    assert _feedback(world) == ["declined"]


def test_a_correction_is_stored_as_labeled_data_and_logged(
    client: TestClient, world: World, tmp_path: Path
) -> None:
    _assigned(world)

    got = client.post(
        "/api/assignments/m1/correct",
        json={"topic": "outage", "urgency": "high"},
        headers=world.headers("anna"),
    )
    assert got.status_code == 202
    world.settle()

    [line] = (tmp_path / "corrections.jsonl").read_text().splitlines()
    stored = json.loads(line)
    assert stored["labels"] == {"topic": "outage", "urgency": "high"}
    assert stored["previous"] == {"topic": "billing", "urgency": "normal"}
    assert stored["text"] == "my invoice is wrong"
    assert stored["corrected_by"] == "anna"
    item = client.get("/api/assignments/m1", headers=world.headers("anna")).json()
    assert (item["topic"], item["urgency"]) == ("outage", "high")
    assert _feedback(world) == ["corrected"]
    assert _budget(client, world, "anna")["used_today"] == 10  # a correction moves no budget


def test_a_lead_reassigns_within_the_team(client: TestClient, world: World) -> None:
    _assigned(world)

    got = client.post(
        "/api/assignments/m1/reassign",
        json={"to": "bert", "reason": "anna is in a meeting"},
        headers=world.headers("lena"),
    )
    assert got.status_code == 202
    world.settle()

    assert _holder(client, world, "m1") == "bert"
    item = client.get("/api/assignments/m1", headers=world.headers("bert")).json()
    assert item["why"] == "reassigned by hand by lena: anna is in a meeting"
    assert _budget(client, world, "anna")["used_today"] == 0
    assert _budget(client, world, "bert")["used_today"] == 10
    rebuilt = world.new_router()
    rebuilt.rebuild(decisions_in(world.queue, TOPICS.decisions))
    assert (rebuilt.ledger.used("anna", NOW), rebuilt.ledger.used("bert", NOW)) == (0, 10)


def test_a_lead_hands_out_an_escalated_mention(client: TestClient, world: World) -> None:
    # Given a Spanish outage mention nobody speaks: escalated at once, visible to every lead
    world.publish(mention("m9"), topic="outage", lang="es")
    world.settle()
    [escalated] = client.get("/api/team", headers=world.headers("tara")).json()["escalated"]
    assert escalated["mention_id"] == "m9"

    # When tech's lead hands it to carl
    got = client.post(
        "/api/assignments/m9/reassign", json={"to": "carl"}, headers=world.headers("tara")
    )
    assert got.status_code == 202
    world.settle()

    # Then carl holds it
    [mine] = client.get("/api/assignments", headers=world.headers("carl")).json()["items"]
    assert mine["mention_id"] == "m9"


# --- the permission matrix --------------------------------------------------------------

ACTIONS = [
    ("accept", None),
    ("done", {"minutes": 5}),
    ("decline", {"reason": "no"}),
    ("correct", {"topic": "praise"}),
]


@pytest.mark.parametrize(("action", "body"), ACTIONS)
def test_an_employee_cannot_act_on_someone_elses_assignment(
    client: TestClient, world: World, action: str, body: dict[str, object] | None
) -> None:
    _assigned(world, text="secret customer text")
    got = client.post(f"/api/assignments/m1/{action}", json=body, headers=world.headers("bert"))
    assert got.status_code == 403
    assert "secret" not in got.text
    world.settle()
    assert _feedback(world) == []


def test_an_employee_cannot_read_someone_elses_assignment(client: TestClient, world: World) -> None:
    _assigned(world, text="secret customer text")
    got = client.get("/api/assignments/m1", headers=world.headers("bert"))
    assert got.status_code == 403
    assert "secret" not in got.text
    assert "anna" not in got.text
    assert client.get("/api/assignments/nope", headers=world.headers("bert")).status_code == 404


def test_employees_get_no_team_views(client: TestClient, world: World) -> None:
    for path in ("/api/team", "/api/team/budgets", "/api/team/sla"):
        assert client.get(path, headers=world.headers("anna")).status_code == 403
    _assigned(world)
    got = client.post(
        "/api/assignments/m1/reassign", json={"to": "bert"}, headers=world.headers("anna")
    )
    assert got.status_code == 403


def test_a_lead_cannot_act_outside_their_team(client: TestClient, world: World) -> None:
    _assigned(world, text="secret customer text")  # anna's, in care
    tara = world.headers("tara")  # leads tech

    assert client.get("/api/assignments/m1", headers=tara).status_code == 403
    got = client.post("/api/assignments/m1/reassign", json={"to": "carl"}, headers=tara)
    assert got.status_code == 403
    assert "secret" not in got.text
    # nor can care's lead hand anna's mention to someone in tech, or look at tech's books
    lena = world.headers("lena")
    assert (
        client.post("/api/assignments/m1/reassign", json={"to": "carl"}, headers=lena).status_code
        == 403
    )
    assert client.get("/api/team?team=tech", headers=lena).status_code == 403
    assert all(r["team"] == "care" for r in client.get("/api/team/budgets", headers=lena).json())
    # and a lead does not finish a member's assignment for them
    assert (
        client.post("/api/assignments/m1/done", json={"minutes": 1}, headers=lena).status_code
        == 403
    )
    world.settle()
    assert _feedback(world) == []


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", "Basic YW5uYTpwdw==", "Bearer ", "Bearer " + "x" * 5000],
)
def test_missing_or_wrong_credentials_get_401_and_no_data(
    client: TestClient, world: World, header: str | None
) -> None:
    _assigned(world, text="secret customer text")
    headers = {"Authorization": header} if header is not None else {}
    for path in ("/api/me", "/api/assignments", "/api/assignments/m1", "/api/team"):
        got = client.get(path, headers=headers)
        assert got.status_code == 401, path
        assert got.json() == {"detail": "missing or invalid token"}
        assert got.headers["www-authenticate"] == "Bearer"
    assert client.post("/api/assignments/m1/accept", headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("done", {"minutes": -1}),
        ("done", {"minutes": 99999}),
        ("done", {}),
        ("done", {"minutes": 3, "extra": 1}),
        ("decline", {"reason": "   "}),
        ("correct", {}),
        ("correct", {"topic": "Not A Topic"}),
        ("correct", {"urgency": "whenever"}),
    ],
)
def test_invalid_input_is_refused_with_422_and_nothing_queued(
    client: TestClient, world: World, action: str, body: dict[str, object]
) -> None:
    _assigned(world)
    got = client.post(f"/api/assignments/m1/{action}", json=body, headers=world.headers("anna"))
    assert got.status_code == 422
    assert world.queue.end_offset(TOPICS.actions) == 0


def test_an_action_on_a_finished_assignment_is_a_conflict(client: TestClient, world: World) -> None:
    _assigned(world)
    client.post("/api/assignments/m1/done", json={"minutes": 3}, headers=world.headers("anna"))
    world.settle()
    got = client.post("/api/assignments/m1/accept", headers=world.headers("anna"))
    assert got.status_code == 409


def test_a_stale_action_is_dead_lettered_and_routing_goes_on(world: World) -> None:
    # Given two done actions for one assignment (a double click raced the read model)
    _assigned(world)
    for _ in range(2):
        world.inbox.act("done", "m1", "anna", "anna", minutes=4)

    # When the router takes them
    world.settle()

    # Then the first counts, the second is refused with the reason, and routing goes on
    assert _feedback(world) == ["done"]
    [letter] = [json.loads(r.value) for r in world.queue.scan(TOPICS.dead_letters)]
    assert letter["topic"] == TOPICS.actions
    assert "action refused" in letter["reason"]
    _assigned(world, "m2")
    assert [i.mention_id for i in world.inbox.model.open_of("anna")] == ["m2"]


def test_team_views_show_open_backlogged_and_sla(client: TestClient, world: World) -> None:
    _assigned(world, "m1")
    client.post("/api/assignments/m1/done", json={"minutes": 8}, headers=world.headers("anna"))
    world.publish(mention("m2"), urgency=Urgency.HIGH)
    world.settle()

    team = client.get("/api/team", headers=world.headers("lena")).json()
    assert [i["mention_id"] for i in team["open"]] == ["m2"]
    assert team["totals"] == {"open": 1, "backlogged": 0, "escalated": 0}
    sla = client.get("/api/team/sla", headers=world.headers("lena")).json()
    assert sla == [
        {"day": "2026-03-02", "urgency": "normal", "met": 1, "total": 1, "attainment": 1.0}
    ]


def test_logs_carry_neither_tokens_nor_mention_text(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _assigned(world, text="very private words")
    client.post("/api/assignments/m1/accept", headers=world.headers("anna"))
    client.get("/api/assignments/m1", headers={"Authorization": "Bearer not-a-token"})
    world.inbox.act("done", "m1", "bert", "bert", minutes=1)  # refused: logged
    world.settle()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused" in logged
    assert "very private words" not in logged
    assert all(token not in logged for token in world.tokens.values())


def test_mentions_and_actions_share_one_decision_log_in_order(world: World) -> None:
    _assigned(world)
    world.inbox.act("accept", "m1", "anna", "anna")
    world.publish(mention("m2"))
    world.settle()
    logged = [
        d.outcome.status if d.outcome else d.feedback.kind
        for d in decisions_in(world.queue, TOPICS.decisions)
        if d.outcome or d.feedback
    ]
    assert logged == ["assigned", "assigned", "accepted"]  # a batch: mentions, then actions
