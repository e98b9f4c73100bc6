"""The inbox in real Chromium: log in, read, reply with Enter, live webhook delivery,
closed windows, the byte counter, the keyboard."""

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import responses
from django.test import Client
from django.utils import timezone

from inbox.models import Message
from tests.factories import ConversationFactory, UserFactory
from tests.webhooks import CUSTOMER, message_item, post_signed, webhook_body

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_MS = 3000  # the promise: live changes show within 3 seconds


@pytest.fixture
def meta(account):
    """Meta, faked at the requests layer. The patch is process-wide, so it also answers the
    calls made by live_server's thread (sends run inline there: Celery is eager)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            f"{account.graph_api_url}/{account.ig_id}/messages",
            json={"recipient_id": CUSTOMER, "message_id": "m_browser_reply"},
        )
        mock.add(
            responses.GET,
            re.compile(rf"{re.escape(account.graph_api_url)}/\d+"),
            json={"name": "New Customer", "username": "new.customer"},
        )
        yield mock


def open_thread(page, conversation):
    log_in(page)
    page.click(f'.row[data-id="{conversation.pk}"]')
    page.wait_for_url(f"**/c/{conversation.pk}/**")
    page.wait_for_selector("#reply-text")


def test_it_logs_in_and_opens_a_conversation(page, agent, conversation):
    page.goto("/")
    assert page.locator("input[name=username]").is_visible()
    log_in(page)
    assert page.locator(".row", has_text="Jane Doe").is_visible()
    page.click(".row >> text=Jane Doe")
    page.wait_for_selector("#messages")
    assert "Is the linen dress in stock?" in page.inner_text("#messages")
    assert page.locator(".thread-title h1").inner_text() == "Jane Doe"


def test_it_replies_with_enter_and_shows_the_status(page, agent, conversation, meta):
    open_thread(page, conversation)
    box = page.locator("#reply-text")
    box.fill("Yes, sizes S to L")
    box.press("Shift+Enter")
    box.type("Shall I reserve one?")
    assert box.input_value() == "Yes, sizes S to L\nShall I reserve one?"
    box.press("Enter")
    sent = page.locator(".msg-out", has_text="Shall I reserve one?")
    sent.wait_for(timeout=LIVE_MS)
    assert "Sent" in sent.locator(".status").inner_text(timeout=LIVE_MS)
    assert box.input_value() == ""
    message = Message.objects.get(direction="out")
    assert message.text == "Yes, sizes S to L\nShall I reserve one?"
    assert message.status == Message.Status.SENT
    assert len(meta.calls) == 1


def test_a_webhook_message_appears_live_and_the_draft_survives(
    page, agent, account, conversation, meta
):
    ConversationFactory(
        account=account,
        customer_name="Older Olga",
        last_message_at=timezone.now() - timedelta(days=1),
    )
    open_thread(page, conversation)
    page.evaluate("document.querySelector('.row:not(.is-current)').__kept = true")
    page.evaluate("window.__notReloaded = true")
    # The message already on screen must not be re-created (no flicker, no lost state).
    page.evaluate("document.querySelector('#messages .msg').__kept = true")
    page.fill("#reply-text", "half-written answer")
    now_ms = int(time.time() * 1000)
    body = webhook_body(
        message_item("m_live_1", "Also, do you ship to Sweden? <b>now</b>", ts=now_ms)
    )
    assert post_signed(Client(), body).status_code == 200
    arrived = page.locator(".msg-in", has_text="do you ship to Sweden?")
    arrived.wait_for(timeout=LIVE_MS)
    assert "<b>now</b>" in arrived.inner_text()  # the customer's markup stays text
    assert page.evaluate("window.__notReloaded") is True
    assert page.input_value("#reply-text") == "half-written answer"
    assert page.locator("#messages .msg").count() == 2
    assert page.evaluate("document.querySelector('#messages .msg').__kept") is True
    # The list beside it catches up too, changing only the row that changed.
    page.locator(".row.is-current", has_text="do you ship to Sweden?").wait_for(
        timeout=LIVE_MS + 1000
    )
    assert page.evaluate("document.querySelector('.row:not(.is-current)').__kept") is True


def test_a_new_conversation_appears_in_the_list_live(page, agent, account, conversation, meta):
    log_in(page)
    page.evaluate("window.__notReloaded = true")
    now_ms = int(time.time() * 1000)
    body = webhook_body(
        message_item("m_new_1", "Hello from someone new", ts=now_ms, sender="111222333")
    )
    assert post_signed(Client(), body).status_code == 200
    row = page.locator(".row", has_text="Hello from someone new")
    row.wait_for(timeout=LIVE_MS + 1000)  # the list polls every 3 s
    assert "is-unread" in row.get_attribute("class")
    assert page.evaluate("window.__notReloaded") is True


def test_a_closed_window_blocks_sending(page, agent, conversation, meta):
    conversation.last_customer_message_at = timezone.now() - timedelta(days=8)
    conversation.save()
    open_thread(page, conversation)
    assert page.locator("#reply-text").is_disabled()
    assert page.locator("#composer .send").is_disabled()
    notice = page.locator(".notice-blocked").inner_text()
    assert "No reply can be sent now" in notice
    assert "More than 7 days" in notice
    assert page.locator("#thread .win-closed").inner_text() == "reply window ended"
    assert not Message.objects.filter(direction="out").exists()


def test_the_byte_counter_refuses_1001_bytes(page, agent, conversation, meta):
    open_thread(page, conversation)
    box = page.locator("#reply-text")
    box.fill("é" * 500 + "x")  # 501 characters, 1001 bytes
    counter = page.locator("#byte-counter")
    assert counter.inner_text().startswith("1001 / 1000 bytes")
    assert "is-over" in counter.get_attribute("class")
    assert page.locator("#composer .send").is_disabled()
    box.press("Enter")
    page.wait_for_timeout(500)
    assert not Message.objects.filter(direction="out").exists()
    assert box.input_value() == "é" * 500 + "x"
    box.press("Backspace")
    assert counter.inner_text() == "1000 / 1000 bytes"
    assert page.locator("#composer .send").is_enabled()


def test_the_keyboard_moves_opens_searches_and_goes_back(page, agent, account, conversation):
    ConversationFactory(account=account, customer_name="Zed Zimmer", last_message_at=timezone.now())
    log_in(page)
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert "Jane Doe" in page.locator(".row.is-selected").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/c/{conversation.pk}/**")
    page.keyboard.press("Escape")
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.type("zed")
    page.locator(".row", has_text="Jane Doe").wait_for(state="detached")
    assert page.locator(".row", has_text="Zed Zimmer").is_visible()


def test_assign_in_place_then_close_and_go_on(page, agent, account, conversation):
    colleague = UserFactory(username="bob")
    account.members.add(colleague)
    following = ConversationFactory(
        account=account,
        customer_name="Next Nora",
        last_message_at=timezone.now() - timedelta(hours=2),
    )
    open_thread(page, conversation)
    page.evaluate("window.__notReloaded = true")
    page.select_option("#assignee", str(colleague.pk))
    page.locator("#assignee option:checked", has_text="bob").wait_for(state="attached")
    # Taking it back from a colleague asks first.
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    # Once the header knows bob has it (until then the server asks on a page of its own).
    page.locator("form[hx-confirm] .assign-me").wait_for(timeout=LIVE_MS)
    page.click("text=Assign to me")
    page.locator("#assignee option:checked", has_text="Me").wait_for(
        state="attached", timeout=LIVE_MS
    )
    assert questions == ["bob is assigned to this conversation. Take it from them?"]
    assert page.evaluate("window.__notReloaded") is True
    # Resolve (the key e) and go on to the next open conversation.
    page.keyboard.press("e")
    page.wait_for_url(f"**/c/{following.pk}/**")
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    assert conversation.status == "closed"
    assert page.locator(".flash", has_text="Resolved.").is_visible()


def test_the_reply_windows_time_left_ticks_in_the_browser(page, agent, conversation):
    """The live polls' version leaves out the minutes left: the page counts them down."""
    conversation.last_customer_message_at = timezone.now() - timedelta(hours=23, minutes=2.5)
    conversation.save()
    page.clock.install(time=time.time())
    log_in(page)
    page.goto(f"/c/{conversation.pk}/")
    header = page.locator(".thread-head .win")
    assert header.inner_text() == "57 min left"
    page.clock.fast_forward("10:00")
    page.wait_for_function(
        "() => document.querySelector('.thread-head .win').textContent === '47 min left'"
    )
    assert page.locator(".composer-state strong").inner_text() == "47 min left"
    assert page.locator(".row.is-current .win").inner_text() == "47 min left"
