"""An account alert changes nothing but itself; a waiting reply says why, live; banners
come and go live; reconnecting sends the held replies at once."""

import pytest

from accounts.models import InstagramAccount
from inbox.models import Message
from tests.factories import UserFactory

from .conftest import log_in
from .test_sandbox import customer_says, open_conversation, reply, status_of
from .themes import box, themed_fixture

themed = themed_fixture()

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_MS = 3000
# What an alert must not move: the thread's header, its avatar, the customer panel's avatar.
STEADY = (".thread-head", ".thread-head .avatar", ".panel .avatar", ".panel .button")


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def measure(page):
    sizes = {}
    for selector in STEADY:
        if page.locator(selector).first.is_visible():
            sizes[selector] = box(page, selector)
    return sizes


def test_an_account_alert_leaves_the_thread_header_as_it_was(themed, conversation, root):
    page = themed
    log_in(page, "root")
    page.goto(f"/c/{conversation.pk}/")
    page.wait_for_selector("#reply-text")
    assert page.locator(".account-alerts").count() == 0
    before = measure(page)
    assert ".thread-head" in before

    InstagramAccount.objects.filter(pk=conversation.account_id).update(
        status=InstagramAccount.Status.NEEDS_RECONNECT, status_reason="Meta refused its token."
    )
    page.reload()
    page.wait_for_selector("#reply-text")
    assert page.locator(".account-alerts").is_visible()
    assert measure(page) == before


def test_a_reply_waiting_for_a_reconnect_says_why_and_goes_out_on_reconnect(
    themed, live_server, settings
):
    from sandbox.account import sandbox_account_sync

    settings.SANDBOX_ENABLED = True
    settings.SITE_URL = live_server.url
    sandbox = sandbox_account_sync()
    UserFactory(username="root", is_superuser=True, is_staff=True)
    page = themed
    log_in(page, "root")
    sim = page.context.new_page()
    sim.goto("/sandbox/")
    sim.click("text=Add a customer")
    customer_says(sim, "Hello?")
    sim.select_option("#id_kind", "190")
    sim.click("#sim-fault")
    page.bring_to_front()
    open_conversation(page, "Hello?")
    reply(page, "Hi there").wait_for(timeout=LIVE_MS)

    # Live, without a reload: the reason under the reply, and the admins' banner.
    waiting = page.locator(".msg-out", has_text="Hi there").locator(".msg-wait")
    waiting.filter(has_text="Waiting for the account to be reconnected").wait_for(timeout=LIVE_MS)
    page.locator(".account-alerts", has_text="sandbox_shop").wait_for(timeout=LIVE_MS)
    assert Message.objects.get(text="Hi there").status == Message.Status.QUEUED

    # Reconnecting sends it at once (no sweep a minute later) and the banner goes, live.
    sim.click("#sim-restore")
    page.bring_to_front()
    status_of(page, "Hi there").filter(has_text="Sent").wait_for(timeout=LIVE_MS)
    page.locator(".account-alerts").wait_for(state="detached", timeout=LIVE_MS)
    assert waiting.count() == 0
    sandbox.refresh_from_db()
    assert sandbox.status == InstagramAccount.Status.ACTIVE
