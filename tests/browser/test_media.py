"""Expired media in real Chromium: an image or a video whose link answers 404 becomes the
"No longer available on Instagram" note, on the first page and when the live poll brings it;
a link that still works is left alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import AccountFactory, ConversationFactory, MessageFactory
from tests.webhooks import CUSTOMER, IG_ID

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPIRED = "No longer available on Instagram"
LIVE_MS = 3000


@pytest.fixture
def account(db):
    return AccountFactory(ig_id=IG_ID)


@pytest.fixture
def conversation(account, agent):
    recent = timezone.now() - timedelta(minutes=30)
    return ConversationFactory(
        account=account,
        customer_igsid=CUSTOMER,
        customer_name="Jane Doe",
        last_customer_message_at=recent,
        last_message_at=recent,
    )


def media_message(conversation, kind, url, text=""):
    return MessageFactory(
        conversation=conversation,
        kind="attachment",
        text=text,
        attachments=[{"type": kind, "url": url}],
        timestamp=timezone.now() - timedelta(minutes=5),
    )


def test_an_image_whose_link_answers_404_shows_the_placeholder(
    page, live_server, agent, conversation
):
    gone = media_message(conversation, "image", f"{live_server.url}/cdn/gone.jpg", "look")
    working = media_message(conversation, "image", f"{live_server.url}/static/sandbox/shop.svg")
    log_in(page)
    page.goto(f"/c/{conversation.pk}/")
    note = page.locator(f"#m-{gone.pk} .media-expired")
    note.wait_for(timeout=LIVE_MS)
    assert note.inner_text() == EXPIRED
    assert page.locator(f"#m-{gone.pk} img").count() == 0
    assert "look" in page.inner_text(f"#m-{gone.pk}")  # the text stays
    assert page.locator(f"#m-{gone.pk} .media-refresh button").is_visible()
    assert page.locator(f"#m-{working.pk} img").count() == 1
    assert page.locator(f"#m-{working.pk} .media-expired").count() == 0


def test_media_the_live_poll_brings_later_gets_the_placeholder_too(
    page, live_server, agent, conversation
):
    log_in(page)
    page.goto(f"/c/{conversation.pk}/")
    page.wait_for_selector("#messages")
    later = media_message(conversation, "video", f"{live_server.url}/cdn/gone.mp4")
    conversation.last_message_at = timezone.now()
    conversation.save()
    note = page.locator(f"#m-{later.pk} .media-expired")
    note.wait_for(timeout=LIVE_MS * 2)
    assert note.inner_text() == EXPIRED
