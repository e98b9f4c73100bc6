"""A failed reply shows on its list row; Meta's window refusal is not shown beside "23 h
left"; the reply window and the conversation's status have words of their own everywhere."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import MessageFactory, UserFactory

from .conftest import log_in
from .themes import themed_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

themed = themed_fixture()


@pytest.fixture
def agent(account):
    user = UserFactory(username="alice")
    account.members.add(user)
    return user


def failed_reply(conversation, *, code, reason):
    return MessageFactory(
        conversation=conversation,
        direction="out",
        origin="agent",
        status="failed",
        text="Yes, it is in stock",
        error_code=code,
        error_reason=reason,
        timestamp=timezone.now() - timedelta(minutes=5),
    )


def test_a_failed_reply_shows_on_its_row_and_meta_contradicting_our_clock_says_so(
    themed, agent, conversation
):
    page = themed
    failed_reply(
        conversation,
        code="10/2534022",
        reason="Instagram refused it: the reply window has ended.",
    )
    conversation.last_message_preview = "You: Yes, it is in stock"
    conversation.save()
    log_in(page)
    row = page.locator(f'.row[data-id="{conversation.pk}"]')
    assert "Not delivered" in row.locator(".pill-failed").inner_text()

    row.click()
    page.wait_for_selector("#reply-text")
    header = page.locator(".thread-head")
    assert "Instagram says: reply window ended" in header.inner_text()
    assert "h left" not in header.inner_text()  # not "23 h left" beside the refusal
    notice = page.locator(".notice-meta")
    assert "Instagram disagrees with our clock" in notice.inner_text()
    assert page.locator(".msg-error", has_text="reply window has ended").is_visible()


def test_a_reply_that_failed_for_another_reason_keeps_the_window_label(themed, agent, conversation):
    page = themed
    failed_reply(conversation, code="551", reason="This person isn't available right now.")
    log_in(page)
    page.click(f'.row[data-id="{conversation.pk}"]')
    page.wait_for_selector("#reply-text")
    assert "23 h left" in page.locator(".thread-head .win").inner_text()
    assert page.locator(".notice-meta").count() == 0


def test_the_window_and_the_status_have_words_of_their_own(themed, agent, conversation):
    page = themed
    conversation.last_customer_message_at = timezone.now() - timedelta(days=8)
    conversation.save()
    log_in(page)
    row = page.locator(f'.row[data-id="{conversation.pk}"]')
    assert row.locator(".win").inner_text() == "reply window ended"
    row.click()
    page.wait_for_selector("#reply-text")
    assert page.locator(".thread-head .win").inner_text() == "reply window ended"
    # An open conversation whose window ended: no "Closed" anywhere to confuse the two.
    shown = page.locator("#thread").inner_text() + page.locator("#panel").inner_text()
    assert "closed" not in shown.lower()
    page.click("text=✓ Resolve")  # and go on: no other conversation is open, so to the list
    page.locator(".flash", has_text="Resolved.").wait_for()
    conversation.refresh_from_db()
    assert conversation.status == "closed"  # the stored value and ?status= stay "closed"

    page.goto("/?status=closed")
    tab = page.locator(".tabs a[aria-current=page]")
    assert tab.inner_text() == "Resolved"
    assert page.locator(f'.row[data-id="{conversation.pk}"] .pill').inner_text() == "Resolved"
    page.goto(f"/c/{conversation.pk}/")
    if page.locator(".panel-toggle").is_visible():
        page.click(".panel-toggle")
    panel = page.locator("#panel")
    assert "Resolved" in panel.inner_text()
    assert "Reply window ended" in panel.inner_text()


def test_admin_uses_the_same_words(page, conversation):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    conversation.status = "closed"
    conversation.last_customer_message_at = timezone.now() - timedelta(days=8)
    conversation.save()
    log_in(page, "root")
    page.goto("/admin/inbox/conversation/")
    row = page.locator("#result_list tbody tr").first
    assert "Resolved" in row.inner_text()
    assert "reply window ended" in row.inner_text()
