"""The shared cache (Redis) down: the inbox goes on working without it. Logins, pages, live
polls, replies, notes, labels, snoozes, webhooks and the manager's pages each answer as
usual (nothing that only the cache spared is skipped: a page may cost more, never fail), and
what went without the cache is logged, not raised."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import ConversationFactory, MessageFactory
from tests.webhooks import CUSTOMER, IG_ID, message_item, webhook_body

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # the factories' password


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.KeptClientRedisCache",
            "LOCATION": "redis://127.0.0.1:6390/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }


def test_an_agent_works_a_day_with_the_cache_down(cache_down, agent, account, deliver, caplog):
    account.ig_id = IG_ID
    account.save(update_fields=["ig_id"])
    conversation = ConversationFactory(
        account=account, customer_igsid=CUSTOMER, profile_fetched_at=timezone.now()
    )
    MessageFactory(conversation=conversation, text="Hello?")
    browser = Client()

    logged = browser.post("/login/", {"username": "alice", "password": PASSWORD})
    assert logged.status_code == 302
    assert browser.get("/").status_code == 200
    page = f"/c/{conversation.pk}/"
    assert browser.get(page).status_code == 200
    assert browser.get("/?fragment=rows", HTTP_X_INBOX_POLL="1").status_code == 200
    poll = browser.get(f"{page}updates/", {"typing": "1"}, HTTP_X_INBOX_POLL="1")
    assert poll.status_code == 200
    assert poll["X-Inbox-Presence"] == "[]"  # presence needs the cache

    assert deliver(webhook_body(message_item("m-outage", "Are you open today?"))).status_code == 200
    assert "Are you open today?" in browser.get(page).content.decode()
    for form in ({"note": "Checking with the shop"}, {"label": "VIP"}):
        assert browser.post(page, form).status_code in (200, 302), form
    assert browser.post(f"{page}snooze/", {"preset": "tomorrow"}).status_code in (200, 302)
    thread = browser.get(page).content.decode()
    assert "Checking with the shop" in thread
    assert "VIP" in thread
    assert browser.get("/mentions/").status_code == 200
    assert browser.post("/logout/").status_code == 302
    assert "the cache is unreachable" in caplog.text


@pytest.mark.parametrize("username", ["maria", "root"])
def test_a_manager_and_an_admin_review_with_the_cache_down(
    cache_down, manager, admin_user, username
):
    browser = Client()
    assert browser.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    for path in ("/reports/", "/admin/", "/admin/inbox/conversation/", "/mentions/"):
        assert browser.get(path).status_code == 200, path
    if username == "root":
        assert browser.get("/accounts/").status_code == 200
        assert browser.get("/accounts/alerts/").status_code in (200, 204)
