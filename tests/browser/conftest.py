"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against live_server.

A failing test leaves a screenshot in test-artifacts/ named after it.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from tests.factories import AccountFactory, ConversationFactory, MessageFactory
from tests.webhooks import CUSTOMER, IG_ID

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAPTOP = {"width": 1366, "height": 820}
PHONE = {"width": 390, "height": 844}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    # Playwright's sync API runs its own event loop; Django must still allow DB access here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request, live_server):
    context = browser.new_context(viewport=LAPTOP, base_url=live_server.url)
    context.set_default_timeout(5000)
    page = context.new_page()
    in_flight: set = set()
    context.on("request", lambda r: in_flight.add(r))
    context.on("requestfinished", lambda r: in_flight.discard(r))
    context.on("requestfailed", lambda r: in_flight.discard(r))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    _requests_settle(page, in_flight)
    context.close()


def _requests_settle(page, in_flight: set, seconds: float = 3.0) -> None:
    """Let the live polls a page has in flight be answered, then leave the page, before the
    test's database is emptied: a request the server is still answering then would share
    the test's database connection with the teardown (SQLite in memory is one connection
    for both threads)."""
    if page.is_closed():
        return
    waited = 0.0
    while in_flight and waited < seconds:
        page.wait_for_timeout(50)
        waited += 0.05
    page.goto("about:blank")


def log_in(page, username: str = "alice", password: str = "secret-pass-123") -> None:
    page.goto("/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    page.wait_for_load_state()


def save(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# A shop with one customer who wrote half an hour ago: the inbox the browser tests open.
@pytest.fixture
def account(db):
    return AccountFactory(ig_id=IG_ID, username="sunny_shop")


@pytest.fixture
def conversation(account):
    recent = timezone.now() - timedelta(minutes=30)
    conversation = ConversationFactory(
        account=account,
        customer_igsid=CUSTOMER,
        customer_name="Jane Doe",
        customer_username="jane.doe",
        last_customer_message_at=recent,
        last_message_at=recent,
    )
    MessageFactory(conversation=conversation, text="Is the linen dress in stock?", timestamp=recent)
    return conversation
