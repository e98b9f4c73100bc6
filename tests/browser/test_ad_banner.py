"""A click-to-DM ad in real Chromium: its banner on the message and in the customer panel,
and the placeholder once Meta's link to its photo stops answering."""

import time

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import AccountFactory, ConversationFactory
from tests.webhooks import CUSTOMER, IG_ID, post_signed, webhook_fixture

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def account(db):
    return AccountFactory(ig_id=IG_ID, username="sunny_shop")


@pytest.fixture
def conversation(account):
    # Profile already fresh: no call to Meta for it.
    return ConversationFactory(
        account=account,
        customer_igsid=CUSTOMER,
        customer_name="Jane Doe",
        profile_fetched_at=timezone.now(),
    )


def ad_message(photo_url: str) -> dict:
    """The click-to-DM ad fixture, sent now, its photo served by the test server (the
    browser must not reach Meta's CDN)."""
    body = webhook_fixture("message_referral")
    item = body["entry"][0]["messaging"][0]
    item["timestamp"] = int(time.time() * 1000)
    item["message"]["referral"]["ads_context_data"]["photo_url"] = photo_url
    return body


def open_thread(page, conversation):
    log_in(page)
    page.goto(f"/c/{conversation.pk}/")
    page.wait_for_selector("#messages")


def test_the_ad_banner_shows_on_the_message_and_in_the_panel(
    page, agent, conversation, live_server
):
    photo = f"{live_server.url}/static/sandbox/shop.svg"
    assert post_signed(Client(), ad_message(photo)).status_code == 200
    open_thread(page, conversation)
    on_message = page.locator("#messages .msg-in .ad-banner")
    in_panel = page.locator("#panel .ad-banner")
    for banner in (on_message, in_panel):
        banner.wait_for()
        assert "Summer sale" in banner.inner_text()
        assert "120200000000000001" in banner.inner_text()
        image = banner.locator(".ad-photo img")
        image.wait_for()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
    assert "I saw your ad" in page.inner_text("#messages")


def test_a_photo_that_no_longer_loads_shows_the_placeholder(page, agent, conversation, live_server):
    gone = f"{live_server.url}/static/ads/expired-photo.jpg"  # answers 404
    assert post_signed(Client(), ad_message(gone)).status_code == 200
    open_thread(page, conversation)
    for scope in ("#messages", "#panel"):
        placeholder = page.locator(f"{scope} .ad-photo-gone")
        placeholder.wait_for(state="visible")
        assert placeholder.inner_text() == "No longer available on Instagram"
        page.locator(f"{scope} .ad-photo img").wait_for(state="detached")
        assert "Summer sale" in page.inner_text(f"{scope} .ad-banner")
