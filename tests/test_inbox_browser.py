"""The web inbox in headless Chromium: sign in, a new assignment appears live, done, escaping."""

from __future__ import annotations

import importlib.util
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.queues import MemoryQueue
from tests.factories import need_outside_part
from tests.inbox_world import TOPICS, build_world, mention
from tests.served_inbox import Served, serving
from workers.decisionlog import decisions_in
from workers.inbox.context import utc_now

pytestmark = [pytest.mark.browser, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned=2"> <b>refund</b>'


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """Where this run's screenshots go (var/ is not committed)."""
    folder = REPO / "var" / "screenshots" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    need_outside_part(Path(chromium).exists(), "headless Chromium (Debian package chromium)")
    need_outside_part(
        importlib.util.find_spec("playwright") is not None, "Playwright (pip install playwright)"
    )
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    world = build_world(MemoryQueue(), tmp_path, clock=utc_now)
    with serving(world) as served:
        yield served


def _until(done: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _sign_in(page: Any, served: Served, who: str) -> None:
    page.goto(served.url + "/")
    page.fill("#token", served.world.tokens[who])
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#nav:not([hidden])", timeout=10_000)


def test_an_assignment_appears_live_is_shown_as_text_and_is_marked_done(
    browser: Any, served: Served, screenshots: Path
) -> None:
    world = served.world
    page = browser.new_page(locale="en-GB")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, served, "anna")
    assert page.is_visible("#queue-empty")

    # When a mention with markup in it is assigned to anna while her page is open
    now = utc_now()
    world.publish(mention("x:1", now, text=HOSTILE, url="javascript:alert(1)"))
    world.publish(mention("x:2", now, text="where is my parcel?", url="https://x.com/a/status/2"))
    card = page.wait_for_selector('[data-id="x:1"]', timeout=15_000)

    # Then it appears, its text shown verbatim as text: no script ran, no element was made
    assert card.query_selector("[data-testid=text]").text_content() == HOSTILE
    assert card.query_selector("[data-testid=text] b, [data-testid=text] img") is None
    assert page.evaluate("window.pwned") is None
    assert card.query_selector("a") is None  # a javascript: link is not made clickable
    assert page.query_selector('[data-id="x:2"] a').get_attribute("href") == (
        "https://x.com/a/status/2"
    )
    page.screenshot(path=str(screenshots / "employee.png"), full_page=True)

    # When she reports it done in 12 minutes
    card.query_selector("[data-testid=minutes]").fill("12")
    card.query_selector("button:has-text('Done')").click()

    # Then it leaves her queue and the decision log holds her 12 minutes
    page.wait_for_selector('[data-id="x:1"]', state="detached", timeout=15_000)
    done = [
        d.feedback for d in decisions_in(world.queue, TOPICS.decisions) if d.feedback is not None
    ]
    assert [(f.kind, f.mention_id, f.minutes) for f in done] == [("done", "x:1", 12)]
    assert errors == []


def test_a_lead_sees_coverage_in_dutch(browser: Any, served: Served, screenshots: Path) -> None:
    world = served.world
    now = utc_now()
    for i, topic in enumerate(["billing", "billing", "outage", "billing"]):
        world.publish(mention(f"x:{i}", now, text=f"mention {i}"), topic=topic)
    _until(lambda: world.inbox.model.version >= 4)
    world.inbox.act("done", "x:0", "anna", "anna", minutes=25)
    context = browser.new_context(locale="nl-NL", viewport={"width": 1200, "height": 1000})
    page = context.new_page()

    # When care's lead signs in and opens the team view
    page.goto(served.url + "/")
    assert page.text_content("#sign-in button") == "Aanmelden"
    _sign_in(page, served, "lena")
    page.click("#tab-team")
    page.wait_for_selector("[data-testid=budget-chart] rect[data-employee=anna]", timeout=15_000)
    _until(lambda: page.query_selector("[data-testid=sla-chart] circle") is not None)

    # Then the coverage view is in Dutch, with a bar per member and the open mentions
    assert page.text_content("#team-view h2 [data-i18n=coverage]") == "Dekking"
    bars = page.query_selector_all("[data-testid=budget-chart] rect[data-employee]")
    assert {b.get_attribute("data-employee") for b in bars} == {"anna", "bert", "lena"}
    assert page.query_selector_all("#team-open [data-testid=card]")
    page.screenshot(path=str(screenshots / "lead.png"), full_page=True)

    # When she hands anna's first open mention to bert
    card = page.query_selector("#team-open [data-testid=card]")
    mention_id = card.get_attribute("data-id")
    card.query_selector("[data-testid=reassign-to]").select_option("bert")
    card.query_selector("button:has-text('Toewijzen')").click()

    # Then the card shows bert as its holder, and so does the read model
    page.wait_for_selector(
        f'#team-open [data-id="{mention_id}"] [data-field=assignee]:has-text("Bert")',
        timeout=15_000,
    )
    assert world.inbox.model.items[mention_id].holder == "bert"
    context.close()
