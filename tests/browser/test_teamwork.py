"""Team work in real Chromium: labels, snooze, presence between two agents, alerts."""

import re
import time

import pytest
import responses
from django.test import Client

from inbox.models import Message
from tests.factories import ConversationFactory, UserFactory
from tests.webhooks import CUSTOMER, message_item, post_signed, webhook_body

from .conftest import LAPTOP, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_MS = 3000


@pytest.fixture
def meta(account):
    """Meta at the requests layer (the customer's profile is read after a webhook)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            f"{account.graph_api_url}/{account.ig_id}/messages",
            json={"recipient_id": CUSTOMER, "message_id": "m_team_reply"},
        )
        mock.add(
            responses.GET,
            re.compile(rf"{re.escape(account.graph_api_url)}/\d+"),
            json={"name": "Jane Doe", "username": "jane.doe"},
        )
        yield mock


def customer_writes(mid: str, text: str) -> None:
    body = webhook_body(message_item(mid, text, ts=int(time.time() * 1000)))
    assert post_signed(Client(), body).status_code == 200


def open_thread(page, conversation, username="alice"):
    log_in(page, username)
    page.click(f'.row[data-id="{conversation.pk}"]')
    page.wait_for_url(f"**/c/{conversation.pk}/**")
    page.wait_for_selector("#reply-text")


def test_a_label_is_added_and_the_list_filtered_by_it(page, agent, account, conversation):
    ConversationFactory(account=account, customer_name="Unlabelled Ulla")
    open_thread(page, conversation)
    page.fill("#label-input", "VIP")
    page.press("#label-input", "Enter")
    chip = page.locator(".thread-tools .label", has_text="VIP")
    chip.wait_for(timeout=LIVE_MS)
    page.locator(f'.row[data-id="{conversation.pk}"] .label', has_text="VIP").wait_for(
        timeout=LIVE_MS + 1000
    )
    page.goto("/")
    page.click(".label-filter summary")
    page.check('.label-filter input[value="VIP"]')
    page.click(".label-filter button[type=submit]")
    page.wait_for_url("**/?label=VIP")
    assert page.locator(".row").count() == 1
    assert page.locator(".row", has_text="Jane Doe").is_visible()
    # Taking it off again, in place.
    page.click(".row >> text=Jane Doe")
    page.click(".thread-tools .label-remove")
    chip.wait_for(state="detached", timeout=LIVE_MS)


def test_a_snooze_wakes_when_the_customer_writes(page, agent, account, conversation, meta):
    open_thread(page, conversation)
    page.keyboard.press("s")  # opens the snooze menu
    page.click(".snooze-preset >> text=Tomorrow 9:00")
    page.locator(".snoozed-note", has_text="Snoozed until").wait_for(timeout=LIVE_MS)
    page.goto("/")
    assert page.locator(".row", has_text="Jane Doe").count() == 0
    page.click(".tabs >> text=Snoozed")
    page.locator(".row", has_text="Jane Doe").wait_for()
    page.click(".tabs >> text=Open")
    page.locator(".tabs a.is-active", has_text="Open").wait_for()
    customer_writes("m_wake_1", "Any news about my order?")
    row = page.locator(".row", has_text="Any news about my order?")
    row.wait_for(timeout=LIVE_MS + 1000)
    assert "is-unread" in row.get_attribute("class")
    conversation.refresh_from_db()
    assert conversation.snoozed_until is None


def test_two_agents_see_each_other_viewing_and_typing(browser, live_server, account, conversation):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob", first_name="Bob")
    account.members.add(alice, bob)
    contexts = [browser.new_context(viewport=LAPTOP, base_url=live_server.url) for _ in range(2)]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.set_default_timeout(5000)
        open_thread(pages[0], conversation, "alice")
        open_thread(pages[1], conversation, "bob")
        pages[0].locator("#presence", has_text="Bob is also viewing").wait_for(timeout=LIVE_MS * 2)
        pages[1].locator("#presence", has_text="alice is also viewing").wait_for(
            timeout=LIVE_MS * 2
        )
        pages[1].type("#reply-text", "I'll take this one")
        pages[0].locator("#presence", has_text="Bob is typing a reply…").wait_for(
            timeout=LIVE_MS * 2
        )
    finally:
        for context in contexts:
            context.close()


NOTIFICATION_SPY = """
(() => {
  const Real = window.Notification;
  window.__shown = [];
  window.__asked = 0;
  class Spy extends Real {
    constructor(title, options) {
      super(title, options);
      window.__shown.push(title + ": " + ((options || {}).body || ""));
    }
    static requestPermission(...args) {
      window.__asked += 1;
      return Real.requestPermission(...args);
    }
  }
  window.Notification = Spy;
})();
"""


def wait_for_shown(page, count: int, timeout_ms: int = 5000) -> None:
    """Until `count` notifications were shown (wait_for_function would need eval, which the
    page's CSP refuses)."""
    for _ in range(timeout_ms // 100):
        if page.evaluate("window.__shown.length") >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"shown: {page.evaluate('window.__shown')}")


def test_a_desktop_notification_is_asked_for_only_when_switched_on_and_shown(
    browser, live_server, agent, account, conversation, meta
):
    context = browser.new_context(viewport=LAPTOP, base_url=live_server.url)
    context.grant_permissions(["notifications"], origin=live_server.url)
    context.add_init_script(NOTIFICATION_SPY)
    try:
        page = context.new_page()
        page.set_default_timeout(5000)
        log_in(page)
        assert page.evaluate("window.__asked") == 0
        page.click("#alert-settings summary")
        page.check('input[data-alert-kind="desktop"]')
        wait_for_shown(page, 1)
        assert page.evaluate("window.__asked") == 1
        customer_writes("m_alert_1", "Hello, is anyone there?")
        wait_for_shown(page, 2, LIVE_MS + 2000)
        assert page.evaluate("window.__shown[1]") == "Jane Doe: Hello, is anyone there?"
        # The setting survives a reload and asks nothing again.
        page.reload()
        assert page.is_checked('input[data-alert-kind="desktop"]')
        assert page.evaluate("window.__asked") == 0
        # The tab's title keeps the unread count.
        assert page.title().startswith("(1) ")
    finally:
        context.close()


def test_sending_into_a_colleagues_conversation_asks_once(page, agent, account, conversation, meta):
    bob = UserFactory(username="bob", first_name="Bob")
    account.members.add(bob)
    conversation.assignee = bob
    conversation.save()
    open_thread(page, conversation)
    page.fill("#reply-text", "Hello from Alice")
    page.press("#reply-text", "Enter")
    question = page.locator("#composer-error", has_text="Bob is assigned to this conversation")
    question.wait_for(timeout=LIVE_MS)
    assert page.input_value("#reply-text") == "Hello from Alice"  # the draft stays
    assert not Message.objects.filter(direction="out").exists()
    page.press("#reply-text", "Enter")  # Enter now means "Send anyway"
    page.locator(".msg", has_text="Hello from Alice").wait_for(timeout=LIVE_MS)
    assert page.input_value("#reply-text") == ""
    page.fill("#reply-text", "And a second one")
    page.press("#reply-text", "Enter")  # asked once: this one goes at once
    page.locator(".msg", has_text="And a second one").wait_for(timeout=LIVE_MS)
    assert Message.objects.filter(direction="out").count() == 2
