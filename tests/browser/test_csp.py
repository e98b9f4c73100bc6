"""The Content-Security-Policy in real Chromium: every kind of page works under it with no
violation (htmx, live updates, the photo viewer, Django admin, the simulator)."""

import time

import pytest
from django.test import Client

from sandbox.account import sandbox_account_sync
from tests.factories import UserFactory
from tests.webhooks import message_item, post_signed, webhook_body

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_MS = 4000
# Chromium reports a violation both as a console error and as an event on the document.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture
def watched(page):
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(RECORD_VIOLATIONS)
    return page, console


def violations(page, console) -> list[str]:
    return console + page.evaluate("window.__violations || []")


@pytest.fixture
def admin(conversation):
    user = UserFactory(username="alice", is_staff=True, is_superuser=True)
    user.set_password("secret-pass-123")
    user.save()
    return user


def test_the_inbox_and_a_thread_work_with_no_violation(watched, admin, conversation, fake_meta):
    page, console = watched
    log_in(page)
    page.fill("input[name=q]", "linen")  # htmx search
    page.locator(".row", has_text="Jane Doe").wait_for()
    page.click(".row")
    page.wait_for_url(f"**/c/{conversation.pk}/**")
    body = webhook_body(message_item("m_csp_1", "Still there?", ts=int(time.time() * 1000)))
    assert post_signed(Client(), body).status_code == 200
    page.locator(".msg-in", has_text="Still there?").wait_for(timeout=LIVE_MS)  # live update
    # An htmx form, after the live update: its refresh could otherwise race the poll.
    page.select_option("#assignee", str(admin.pk))
    page.keyboard.press("?")  # inbox.js: the shortcuts dialog
    page.locator("dialog#shortcuts[open]").wait_for()
    assert violations(page, console) == []


def test_accounts_admin_and_the_simulator_work_with_no_violation(
    watched, admin, conversation, live_server, settings
):
    settings.SANDBOX_ENABLED = True
    settings.SITE_URL = live_server.url
    sandbox_account_sync()
    page, console = watched
    log_in(page)
    page.goto("/accounts/")
    page.locator("text=Connect an Instagram account").wait_for()
    page.goto("/admin/")
    page.goto(f"/admin/inbox/conversation/{conversation.pk}/change/")
    page.locator("#content").wait_for()
    page.goto("/admin/inbox/conversation/")
    page.locator("#result_list").wait_for()
    page.goto("/sandbox/")
    page.fill("#id_name", "Maya Lopez")
    page.click("text=Add a customer")
    page.fill("#sim-text", "Hello shop")
    page.click("#sim-send")
    page.locator(".bubble", has_text="Hello shop").wait_for()
    page.wait_for_timeout(2500)  # one htmx poll of the simulator's thread
    assert violations(page, console) == []
