"""The sandbox end to end in real Chromium: the customer simulator and the inbox side by side,
every message crossing the real webhook intake and the real send path to the fake Meta."""

import time

import pytest
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Message
from inbox.outbound.sweep import REQUEUE_AFTER, messages_sweep
from inbox.outbound.tasks import message_send_task
from sandbox.account import sandbox_account_sync
from sandbox.models import SimulatedMessage
from tests.factories import UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_MS = 3000  # the inbox's promise: live changes show within 3 seconds


@pytest.fixture
def sandbox(live_server, settings):
    settings.SANDBOX_ENABLED = True
    settings.SITE_URL = live_server.url
    return sandbox_account_sync()


@pytest.fixture
def admin(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def simulator(page, sandbox, admin):
    """The inbox in `page`, the simulator in a second tab of the same session."""
    log_in(page, "root")
    sim = page.context.new_page()
    sim.goto("/sandbox/")
    sim.click("text=Add a customer")
    sim.wait_for_selector("#sim-text")
    return sim


def customer_says(sim, text):
    sim.fill("#sim-text", text)
    sim.click("#sim-send")
    sim.locator(".bubble.mine", has_text=text).wait_for()


def open_conversation(page, preview):
    page.goto("/")
    page.locator(".row", has_text=preview).click()
    page.wait_for_selector("#reply-text")


def reply(page, text):
    box = page.locator("#reply-text")
    box.fill(text)
    box.press("Enter")
    return page.locator(".msg-out", has_text=text)


def wait_for_next_attempt(text):
    """Eager Celery (the test suite) cannot run a countdown: the retry stays queued with its
    time. Let that time come, then run the task as the countdown would have."""
    message = Message.objects.get(text=text)
    assert message.status == Message.Status.QUEUED, message.error_reason
    assert message.next_attempt_at is not None
    time.sleep(max(0.0, (message.next_attempt_at - timezone.now()).total_seconds()) + 0.1)
    message_send_task(message.pk)


def sweep_a_minute_later():
    """What the beat's sweep does a minute on: re-queue replies that waited."""
    for message_id in messages_sweep(now=timezone.now() + REQUEUE_AFTER * 2):
        message_send_task(message_id)


def status_of(page, text):
    return page.locator(".msg-out", has_text=text).locator(".status")


def test_a_round_trip_between_the_simulator_and_the_inbox(page, simulator):
    customer_says(simulator, "Hi! Is the blue mug in stock?")
    open_conversation(page, "Is the blue mug in stock?")
    reply(page, "Yes, three left.")
    status_of(page, "Yes, three left.").filter(has_text="Sent").wait_for(timeout=LIVE_MS)
    simulator.locator(".bubble.theirs", has_text="Yes, three left.").wait_for(timeout=LIVE_MS)
    # The echo Meta sent back was recognised as our reply, not shown twice.
    assert Message.objects.filter(direction="out").count() == 1
    assert Message.objects.get(direction="out").origin == Message.Origin.AGENT


def test_an_injected_500_is_retried_and_delivered_once(page, simulator):
    customer_says(simulator, "Do you ship to Oslo?")
    simulator.select_option("#id_kind", "500")
    simulator.click("#sim-fault")
    open_conversation(page, "Do you ship to Oslo?")
    reply(page, "We do, in 3 days.").wait_for(timeout=LIVE_MS)
    wait_for_next_attempt("We do, in 3 days.")
    status_of(page, "We do, in 3 days.").filter(has_text="Sent").wait_for(timeout=LIVE_MS)
    simulator.locator(".bubble.theirs", has_text="We do, in 3 days.").wait_for(timeout=LIVE_MS)
    assert SimulatedMessage.objects.filter(text="We do, in 3 days.").count() == 1
    assert Message.objects.get(text="We do, in 3 days.").attempts == 2


def test_an_injected_190_raises_the_reconnect_banner(page, simulator, sandbox):
    customer_says(simulator, "Hello?")
    simulator.select_option("#id_kind", "190")
    simulator.click("#sim-fault")
    open_conversation(page, "Hello?")
    reply(page, "Hi there").wait_for(timeout=LIVE_MS)
    sandbox.refresh_from_db()
    assert sandbox.status == InstagramAccount.Status.NEEDS_RECONNECT
    page.reload()
    banner = page.locator(".account-alerts")
    assert "sandbox_shop" in banner.inner_text()
    # The reply waits rather than failing; reconnecting lets it go out.
    assert Message.objects.get(text="Hi there").status == Message.Status.QUEUED
    simulator.click("#sim-restore")
    sweep_a_minute_later()
    simulator.locator(".bubble.theirs", has_text="Hi there").wait_for(timeout=LIVE_MS)
    page.reload()
    assert page.locator(".account-alerts").count() == 0


def test_time_travel_shows_the_tag_then_closes_the_window(page, simulator):
    customer_says(simulator, "Any news on my order?")
    simulator.fill("#id_hours", "25")
    simulator.click("#sim-age")
    open_conversation(page, "Any news on my order?")
    assert "human agent tag" in page.locator(".notice-tag").inner_text()
    reply(page, "It ships tomorrow.").wait_for(timeout=LIVE_MS)
    simulator.locator(".bubble.theirs", has_text="It ships tomorrow.").wait_for(timeout=LIVE_MS)
    assert SimulatedMessage.objects.get(text="It ships tomorrow.").tag == "HUMAN_AGENT"
    assert Message.objects.get(text="It ships tomorrow.").tag == "HUMAN_AGENT"

    simulator.fill("#id_hours", str(6 * 24))
    simulator.click("#sim-age")
    page.reload()
    assert page.locator("#reply-text").is_disabled()
    assert "More than 7 days" in page.locator(".notice-blocked").inner_text()
