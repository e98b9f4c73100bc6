"""Team work in real Chromium: a note and a reply from the same box (switched with the key),
a saved reply inserted with "/" and sent, a mention reaching a teammate."""

import re

import pytest
import responses

from inbox.models import Message
from team.models import Mention, Note, SavedReply
from tests.factories import UserFactory
from tests.webhooks import CUSTOMER

from .conftest import log_in, save

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_MS = 3000


@pytest.fixture
def meta(account):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            f"{account.graph_api_url}/{account.ig_id}/messages",
            json={"recipient_id": CUSTOMER, "message_id": "m_browser_team"},
        )
        yield mock


@pytest.fixture
def colleague(account):
    user = UserFactory(username="bob", first_name="Bob")
    account.members.add(user)
    return user


def open_thread(page, conversation, username="alice"):
    log_in(page, username)
    page.goto(f"/c/{conversation.pk}/")
    page.wait_for_selector("#reply-text")


def test_a_note_and_a_reply_from_the_same_box(page, agent, colleague, conversation, meta):
    open_thread(page, conversation)
    assert page.locator("#note-text").is_hidden()
    # The key switches to note mode, visibly: the note box replaces the reply box.
    page.locator("body").press("n")
    note = page.locator("#note-text")
    assert note.is_visible()
    assert page.locator("#reply-text").is_hidden()
    assert page.locator(".send-note").is_visible()
    assert page.evaluate("document.activeElement.id") == "note-text"
    note.fill("VIP: @bob please follow up")
    note.press("Enter")
    shown = page.locator(".internal-note", has_text="VIP:")
    shown.wait_for(timeout=LIVE_MS)
    assert "Internal note" in shown.text_content()
    assert shown.locator("mark.mention").inner_text() == "@bob"
    assert note.input_value() == ""
    # Back to replying with the other key; the same box sends to Instagram.
    page.locator("#note-text").blur()
    page.locator("body").press("r")
    reply = page.locator("#reply-text")
    assert reply.is_visible()
    reply.fill("Thanks for waiting!")
    reply.press("Enter")
    page.locator(".msg-out", has_text="Thanks for waiting!").wait_for(timeout=LIVE_MS)
    assert Note.objects.get().text == "VIP: @bob please follow up"
    assert Mention.objects.get().user == colleague
    [sent] = Message.objects.filter(direction="out")
    assert sent.text == "Thanks for waiting!"
    assert len(meta.calls) == 1  # the reply; the note never went to Meta
    assert b"VIP" not in meta.calls[0].request.body


def test_a_saved_reply_inserted_with_slash_and_sent(page, agent, conversation, meta):
    SavedReply.objects.create(title="Opening hours", shortcut="hours", text="We open at 9.")
    SavedReply.objects.create(
        title="Thanks", shortcut="thanks", text="Thanks {first_name}, see you soon!"
    )
    open_thread(page, conversation)
    reply = page.locator("#reply-text")
    reply.click()
    reply.type("/")
    menu = page.locator("#slash-menu")
    menu.wait_for()
    assert menu.locator("li").count() == 2
    reply.type("th")
    assert menu.locator("li").count() == 1
    assert "/thanks" in menu.locator("li.is-active").inner_text()
    reply.press("Enter")  # inserts, does not send
    assert menu.count() == 0
    assert reply.input_value() == "Thanks Jane, see you soon!"
    # Editable before sending.
    reply.press("End")
    reply.type(" 🙂")
    assert "31 / 1000 bytes" in page.inner_text("#byte-counter")
    reply.press("Enter")
    page.locator(".msg-out", has_text="see you soon! 🙂").wait_for(timeout=LIVE_MS)
    assert Message.objects.get(direction="out").text == "Thanks Jane, see you soon! 🙂"
    assert len(meta.calls) == 1


def test_a_saved_reply_from_the_menu_button_and_escape_closes_the_slash_menu(
    page, agent, conversation
):
    SavedReply.objects.create(title="Opening hours", shortcut="hours", text="We open at 9.")
    open_thread(page, conversation)
    reply = page.locator("#reply-text")
    reply.click()
    reply.type("Hello /ho")
    page.locator("#slash-menu").wait_for()
    reply.press("Escape")
    assert page.locator("#slash-menu").count() == 0
    assert reply.input_value() == "Hello /ho"
    reply.fill("Hi! ")
    page.click("#saved-replies summary")
    page.click("[data-saved-reply]")
    assert reply.input_value() == "Hi! We open at 9."
    assert re.search(r"\d+ / 1000 bytes", page.inner_text("#byte-counter"))


def test_without_javascript_the_switch_still_writes_a_note(
    browser, live_server, agent, conversation
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        open_thread(page, conversation)
        assert page.locator("#note-text").is_hidden()
        page.click("label[for=mode-note]")  # CSS alone swaps the boxes
        assert page.locator("#reply-text").is_hidden()
        page.fill("#note-text", "Plain HTML note")
        page.click(".send-note")
        page.wait_for_load_state()
        assert "Note added." in page.inner_text("body")
        assert "Plain HTML note" in page.inner_text(".internal-note")
        assert Note.objects.get().text == "Plain HTML note"
        assert not Message.objects.filter(direction="out").exists()
    finally:
        context.close()


def test_a_mention_shows_on_the_teammates_open_inbox_and_goes_once_read(
    page, agent, colleague, conversation
):
    """Bob has the inbox open; Alice's note mentioning him lights his Mentions link within
    a poll, and reading it (in another tab) takes the count away again."""
    from team.services import mentions_mark_read, note_create

    log_in(page, "bob")
    link = page.locator(".mentions-link")
    assert link.inner_text() == "Mentions"
    note_create(conversation=conversation, author=agent, text="@bob the parcel came back")
    page.locator("#mentions-count", has_text="1").wait_for(timeout=LIVE_MS)
    assert "has-unread" in (link.get_attribute("class") or "")
    save(page, "mentions-live")
    mentions_mark_read(user=colleague)
    page.wait_for_function("() => !document.querySelector('#mentions-count')", timeout=LIVE_MS)
    assert link.inner_text() == "Mentions"
    assert "has-unread" not in (link.get_attribute("class") or "")
