"""Webhook health: the daily subscription check, the admins' alerts, and the accounts page."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from accounts.models import InstagramAccount
from accounts.tasks import webhook_health_check_task
from accounts.webhook_health import CheckOutcome, webhook_health_check
from instagram.client import SUBSCRIBED_FIELDS
from tests.factories import AccountFactory

from .fakes import GRAPH, payload

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
SUBSCRIBED_APPS = f"{GRAPH}/me/subscribed_apps"
GATEWAY = "https://gateway.example.com/v24.0"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture
def mailed(settings, admin_user):
    settings.ACCOUNTS_ALERT_EMAILS = True
    admin_user.email = "root@example.com"
    admin_user.save()


def healthy(**fields) -> InstagramAccount:
    """An account that heard from Meta an hour ago."""
    values = {"last_webhook_at": T0 - timedelta(hours=1), **fields}
    return AccountFactory(**values)


def subscribe_calls(meta) -> list[str]:
    return [
        parse_qs(urlsplit(call.request.url).query)["subscribed_fields"][0]
        for call in meta.calls
        if call.request.method == "POST"
    ]


def banner(client, admin_user) -> str:
    client.force_login(admin_user)
    html = client.get("/").content.decode()
    start = html.find('class="account-alerts"')
    return html[start : html.find("</section>", start)] if start >= 0 else ""


# --- the daily check --------------------------------------------------------------------
def test_it_records_a_complete_subscription_and_changes_nothing(meta):
    meta.get(SUBSCRIBED_APPS, json=payload("subscribed_apps_complete"))
    account = healthy()
    [result] = webhook_health_check()
    assert result.outcome == CheckOutcome.COMPLETE
    assert subscribe_calls(meta) == []
    account.refresh_from_db()
    assert account.subscription_checked_at == T0
    assert account.subscription_problem == ""
    assert set(account.subscribed_fields.split(",")) == set(SUBSCRIBED_FIELDS.split(","))


def test_it_subscribes_the_missing_fields_again(meta, mailoutbox, mailed):
    meta.get(SUBSCRIBED_APPS, json=payload("subscribed_apps_incomplete"))
    meta.get(SUBSCRIBED_APPS, json=payload("subscribed_apps_complete"))
    meta.post(SUBSCRIBED_APPS, json=payload("subscribed"))
    account = healthy()
    [result] = webhook_health_check()
    assert result.outcome == CheckOutcome.RESUBSCRIBED
    # Every field: Meta replaces the list with the one posted.
    assert subscribe_calls(meta) == [SUBSCRIBED_FIELDS]
    account.refresh_from_db()
    assert account.subscription_problem == ""
    assert "messaging_optins" in account.subscribed_fields
    assert mailoutbox == []


def test_either_spelling_of_a_field_counts(meta):
    answer = payload("subscribed_apps_complete")
    fields = answer["data"][0]["subscribed_fields"]
    fields[fields.index("messaging_referral")] = "messaging_referrals"
    fields[fields.index("message_reactions")] = "messaging_reactions"
    meta.get(SUBSCRIBED_APPS, json=answer)
    healthy()
    assert [r.outcome for r in webhook_health_check()] == [CheckOutcome.COMPLETE]
    assert subscribe_calls(meta) == []


def test_admins_are_told_when_the_subscription_cannot_be_completed(
    meta, client, admin_user, mailoutbox, mailed
):
    meta.get(SUBSCRIBED_APPS, json=payload("subscribed_apps_incomplete"))
    meta.post(SUBSCRIBED_APPS, status=400, json=payload("error_permission"))
    account = healthy(username="acme.shop")
    [result] = webhook_health_check()
    assert result.outcome == CheckOutcome.UNREADABLE
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.ACTIVE
    assert "Meta refused" in account.subscription_problem
    shown = banner(client, admin_user)
    assert "@acme.shop" in shown
    assert "may miss messages" in shown
    [mail] = mailoutbox
    assert mail.to == ["root@example.com"]
    assert "webhooks" in mail.subject
    assert "@acme.shop" in mail.body
    assert "may miss messages" in mail.body
    assert account.access_token not in mail.body


def test_a_subscription_still_incomplete_after_subscribing_is_reported(meta, client, admin_user):
    meta.get(SUBSCRIBED_APPS, json=payload("subscribed_apps_incomplete"))
    meta.post(SUBSCRIBED_APPS, json={"success": False})
    account = healthy(username="acme.shop")
    [result] = webhook_health_check()
    assert result.outcome == CheckOutcome.INCOMPLETE
    account.refresh_from_db()
    assert "message_reactions" in account.subscription_problem
    assert "messages," not in account.subscription_problem  # present, so not listed
    assert "message_reactions" in banner(client, admin_user)


def test_a_dead_token_marks_the_account_for_reconnection(meta, client, admin_user):
    meta.get(SUBSCRIBED_APPS, status=400, json=payload("error_190"))
    account = healthy()
    webhook_health_check()
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.NEEDS_RECONNECT
    assert "needs reconnecting" in banner(client, admin_user)


def test_a_transient_failure_records_nothing_and_alerts_nobody(meta, client, admin_user):
    meta.get(SUBSCRIBED_APPS, status=503, json=payload("error_transient"))
    account = healthy()
    assert [r.outcome for r in webhook_health_check()] == [CheckOutcome.RETRY_LATER]
    account.refresh_from_db()
    assert (account.subscription_checked_at, account.subscription_problem) == (None, "")
    assert banner(client, admin_user) == ""


def test_environment_accounts_are_read_but_never_subscribed_again(
    meta, client, admin_user, mailoutbox, mailed
):
    meta.get(f"{GATEWAY}/me/subscribed_apps", json=payload("subscribed_apps_incomplete"))
    account = healthy(source=InstagramAccount.Source.ENV, graph_api_url=GATEWAY)
    [result] = webhook_health_check()
    assert result.outcome == CheckOutcome.INCOMPLETE
    assert subscribe_calls(meta) == []
    account.refresh_from_db()
    assert "gateway" in account.subscription_problem
    # Reported on the page, not as an alarm: the gateway owns that subscription.
    assert banner(client, admin_user) == ""
    assert mailoutbox == []
    assert "gateway" in client.get("/accounts/").content.decode()


def test_an_environment_gateway_that_refuses_the_read_is_left_alone(meta):
    meta.get(f"{GATEWAY}/me/subscribed_apps", status=400, json=payload("error_190"))
    account = healthy(source=InstagramAccount.Source.ENV, graph_api_url=GATEWAY)
    [result] = webhook_health_check()
    assert result.outcome == CheckOutcome.UNREADABLE
    account.refresh_from_db()
    # Its sends may work all the same: an optional read does not stop them.
    assert account.status == InstagramAccount.Status.ACTIVE
    assert subscribe_calls(meta) == []


def test_accounts_not_active_are_not_checked(meta):
    AccountFactory(status=InstagramAccount.Status.DISCONNECTED, token_ciphertext="")
    AccountFactory(status=InstagramAccount.Status.NEEDS_RECONNECT)
    assert webhook_health_check() == []
    assert len(meta.calls) == 0


def test_the_beat_task_runs_the_daily_check(meta, settings):
    meta.get(SUBSCRIBED_APPS, json=payload("subscribed_apps_complete"))
    healthy()
    entry = settings.CELERY_BEAT_SCHEDULE["webhook-health-daily"]
    assert entry["task"] == webhook_health_check_task.name
    assert webhook_health_check_task.delay().get() == {"complete": 1}


# --- silence ----------------------------------------------------------------------------
@pytest.mark.parametrize(("hours", "alerted"), [(71, False), (73, True)])
def test_admins_are_told_when_an_account_hears_nothing_for_three_days(
    meta, client, admin_user, mailoutbox, mailed, hours, alerted
):
    meta.get(SUBSCRIBED_APPS, json=payload("subscribed_apps_complete"))
    healthy(username="quiet.shop", last_webhook_at=T0 - timedelta(hours=hours))
    webhook_health_check()
    shown = banner(client, admin_user)
    assert ("has received no webhook for 3" in shown) is alerted
    assert len(mailoutbox) == int(alerted)
    if alerted:
        assert "has received no webhook for 3\xa0days" in mailoutbox[0].body
        assert "@quiet.shop" in mailoutbox[0].body


def test_the_silence_setting_is_read(client, admin_user, settings):
    settings.ACCOUNTS_WEBHOOK_SILENCE_DAYS = 1
    healthy(username="quiet.shop", last_webhook_at=T0 - timedelta(hours=25))
    assert "has received no webhook" in banner(client, admin_user)


def test_a_new_account_that_never_heard_anything_is_silent_only_after_the_delay(client, admin_user):
    AccountFactory(username="fresh.shop")  # created now
    assert banner(client, admin_user) == ""
    InstagramAccount.objects.update(created_at=T0 - timedelta(days=4))
    assert "has received no webhook since it was added" in banner(client, admin_user)


def test_silent_accounts_that_are_not_active_raise_no_alarm(client, admin_user):
    AccountFactory(
        status=InstagramAccount.Status.DISCONNECTED,
        last_webhook_at=T0 - timedelta(days=30),
    )
    assert banner(client, admin_user) == ""


# --- the accounts page ------------------------------------------------------------------
def test_the_page_shows_the_last_webhook_and_the_subscription(admin_client):
    from .test_accounts_page import card

    fresh = healthy(
        subscribed_fields=SUBSCRIBED_FIELDS,
        subscription_checked_at=T0 - timedelta(hours=2),
    )
    quiet = AccountFactory(
        last_webhook_at=T0 - timedelta(days=5),
        subscription_checked_at=T0 - timedelta(hours=2),
        subscription_problem="Meta still lists no subscription to messaging_optins after "
        "subscribing again.",
    )
    never = AccountFactory()
    html = admin_client.get("/accounts/").content.decode()
    assert 'Last received: <span class="health health-ok">1\xa0hour ago' in card(html, fresh)
    assert "Complete: every field the inbox needs" in card(html, fresh)
    assert "checked 10 Mar 2025, 10:00" in card(html, fresh)
    assert 'health-warn">5\xa0days ago' in card(html, quiet)
    assert 'health-bad">Meta still lists no subscription to messaging_optins' in card(html, quiet)
    assert "None received yet" in card(html, never)
    assert "Not checked yet" in card(html, never)
