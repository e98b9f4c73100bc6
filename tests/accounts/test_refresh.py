"""Token refresh: eligibility at the edges, outcomes, claims, the command and the task."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from accounts.actions import account_disconnect
from accounts.models import InstagramAccount
from accounts.refresh import RefreshOutcome, tokens_refresh
from accounts.tasks import tokens_refresh_task
from tests.factories import AccountFactory

from .fakes import GRAPH_ROOT, REFRESHED_TOKEN, payload, query_of

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 6, 1, 3, 17, tzinfo=UTC)
REFRESH_URL = f"{GRAPH_ROOT}/refresh_access_token"
OLD_TOKEN = "IGAAcurrentLongLivedToken77777777777777777"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def due_account(**overrides):
    """An OAuth account refreshed 40 days ago, expiring in 20 days: due."""
    fields = {
        "username": "acme.shop",
        "access_token": OLD_TOKEN,
        "token_refreshed_at": T0 - timedelta(days=40),
        "token_expires_at": T0 + timedelta(days=20),
    }
    return AccountFactory(**{**fields, **overrides})


def refresh_ok(meta, body=None):
    meta.get(REFRESH_URL, json=body or payload("refresh"))


# --- eligibility ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("refreshed_ago", "expires_in", "due"),
    [
        (timedelta(hours=23), timedelta(days=10), False),  # too young for Meta
        (timedelta(hours=23, minutes=59, seconds=59), timedelta(days=10), False),
        (timedelta(hours=24), timedelta(days=10), True),  # exactly 24 h old
        (timedelta(days=40), timedelta(days=30), True),  # at the horizon
        (timedelta(days=40), timedelta(days=30, seconds=1), False),  # just outside
        (timedelta(days=10), timedelta(days=50), False),  # far from expiry
        (timedelta(days=59), timedelta(seconds=1), True),  # about to expire, still alive
    ],
)
def test_it_refreshes_only_tokens_old_enough_and_within_the_horizon(
    meta, refreshed_ago, expires_in, due
):
    refresh_ok(meta)
    account = due_account(token_refreshed_at=T0 - refreshed_ago, token_expires_at=T0 + expires_in)
    results = tokens_refresh()
    assert len(meta.calls) == (1 if due else 0)
    assert [r.account_id for r in results] == ([account.pk] if due else [])


def test_the_horizon_is_a_setting(meta, settings):
    settings.ACCOUNTS_TOKEN_REFRESH_HORIZON_DAYS = 45
    refresh_ok(meta)
    due_account(token_expires_at=T0 + timedelta(days=44))
    assert [r.outcome for r in tokens_refresh()] == [RefreshOutcome.REFRESHED]


def test_it_never_refreshes_an_expired_token_and_asks_for_a_reconnect(meta):
    account = due_account(token_expires_at=T0 - timedelta(seconds=1))
    [result] = tokens_refresh()
    assert len(meta.calls) == 0
    assert result.outcome == RefreshOutcome.EXPIRED
    assert result.failed
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.NEEDS_RECONNECT
    assert "expired" in account.status_reason


def test_a_token_expiring_exactly_now_counts_as_expired(meta):
    due_account(token_expires_at=T0)
    assert [r.outcome for r in tokens_refresh()] == [RefreshOutcome.EXPIRED]
    assert len(meta.calls) == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"source": InstagramAccount.Source.ENV, "graph_api_url": "https://gw.test/v24.0"},
        {"status": InstagramAccount.Status.NEEDS_RECONNECT},
        {"status": InstagramAccount.Status.DISCONNECTED},
        {"access_token": ""},
    ],
)
def test_it_leaves_environment_broken_and_disconnected_accounts_alone(meta, overrides):
    refresh_ok(meta)
    due_account(**overrides)
    assert tokens_refresh() == []
    assert len(meta.calls) == 0


def test_an_environment_token_is_never_refreshed_even_when_expired(meta):
    account = due_account(
        source=InstagramAccount.Source.ENV, token_expires_at=T0 - timedelta(days=1)
    )
    assert tokens_refresh() == []
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.ACTIVE


def test_an_unknown_token_age_counts_as_due(meta):
    refresh_ok(meta)
    due_account(token_refreshed_at=None)
    assert [r.outcome for r in tokens_refresh()] == [RefreshOutcome.REFRESHED]


# --- outcomes ---------------------------------------------------------------------------
def test_it_stores_the_refreshed_token_and_its_expiry(meta):
    refresh_ok(meta)
    account = due_account()
    [result] = tokens_refresh()

    request = meta.calls[0].request
    assert request.url.startswith(f"{REFRESH_URL}?")  # no version segment
    assert query_of(request.url) == {"grant_type": "ig_refresh_token", "access_token": OLD_TOKEN}
    account.refresh_from_db()
    assert account.access_token == REFRESHED_TOKEN
    assert account.token_expires_at == T0 + timedelta(seconds=5184000)
    assert account.token_refreshed_at == T0
    assert result.outcome == RefreshOutcome.REFRESHED
    assert not result.failed
    assert result.expires_at == account.token_expires_at


def test_it_accepts_the_same_token_string_back(meta):
    refresh_ok(meta, {"access_token": OLD_TOKEN, "expires_in": "5183999"})
    account = due_account()
    [result] = tokens_refresh()
    account.refresh_from_db()
    assert result.outcome == RefreshOutcome.REFRESHED
    assert account.access_token == OLD_TOKEN
    assert account.token_expires_at == T0 + timedelta(seconds=5183999)


def test_it_refreshes_through_the_accounts_own_base_url(meta):
    meta.get("http://127.0.0.1:18302/refresh_access_token", json=payload("refresh"))
    due_account(graph_api_url="http://127.0.0.1:18302/v24.0")
    assert [r.outcome for r in tokens_refresh()] == [RefreshOutcome.REFRESHED]


def test_a_dead_token_marks_the_account_for_reconnection(meta, client, admin_user):
    meta.get(REFRESH_URL, status=400, json=payload("error_190"))
    account = due_account()
    [result] = tokens_refresh()
    assert result.outcome == RefreshOutcome.NEEDS_RECONNECT
    assert result.failed
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.NEEDS_RECONNECT
    assert "user changed their password" in account.status_reason
    assert "190/460" in account.status_reason
    assert not account.can_send
    # The token is kept (webhooks keep flowing; the admin reconnects).
    assert account.access_token == OLD_TOKEN
    client.force_login(admin_user)
    inbox = client.get("/").content.decode()
    assert "account-alerts" in inbox
    assert "@acme.shop" in inbox
    assert "needs reconnecting" in inbox


def test_a_transient_failure_is_left_for_the_next_run(meta):
    meta.get(REFRESH_URL, status=503, json=payload("error_transient"))
    account = due_account()
    [result] = tokens_refresh()
    assert result.outcome == RefreshOutcome.RETRY_LATER
    assert result.failed
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.ACTIVE
    assert account.access_token == OLD_TOKEN
    # The claim was given back: tomorrow's run picks it up again.
    assert account.token_refreshed_at == T0 - timedelta(days=40)
    refresh_ok(meta)
    assert [r.outcome for r in tokens_refresh(now=T0 + timedelta(days=1))] == [
        RefreshOutcome.REFRESHED
    ]


def test_an_unreachable_meta_is_transient(meta):
    due_account()  # nothing registered: a connection error
    assert [r.outcome for r in tokens_refresh()] == [RefreshOutcome.RETRY_LATER]


def test_another_refusal_is_a_failure_without_reconnect(meta):
    meta.get(REFRESH_URL, status=400, json=payload("error_permission"))
    account = due_account()
    [result] = tokens_refresh()
    assert result.outcome == RefreshOutcome.FAILED
    assert "permission" in result.detail
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.ACTIVE


def test_an_answer_without_a_token_is_a_failure(meta):
    refresh_ok(meta, {"token_type": "bearer"})
    account = due_account()
    assert [r.outcome for r in tokens_refresh()] == [RefreshOutcome.FAILED]
    account.refresh_from_db()
    assert account.access_token == OLD_TOKEN


def test_one_failing_account_does_not_stop_the_others(meta):
    meta.get(REFRESH_URL, status=500, json=payload("error_transient"))
    refresh_ok(meta)
    first = due_account(username="first", token_expires_at=T0 + timedelta(days=5))
    second = due_account(username="second", token_expires_at=T0 + timedelta(days=6))
    results = {r.account_id: r.outcome for r in tokens_refresh()}
    assert results == {first.pk: RefreshOutcome.RETRY_LATER, second.pk: RefreshOutcome.REFRESHED}


# --- two refreshes at once --------------------------------------------------------------
def test_a_second_run_during_a_refresh_makes_no_call(meta):
    account = due_account()
    inner = []

    def meta_answers(request):
        inner.append(tokens_refresh())  # another run starts while Meta is answering
        return 200, {}, '{"access_token": "IGAArefreshedToken5555555555aaaaabbbbbcccccddddd"}'

    meta.add_callback("GET", REFRESH_URL, callback=meta_answers)
    [result] = tokens_refresh()
    assert inner == [[]]
    assert len(meta.calls) == 1
    assert result.outcome == RefreshOutcome.REFRESHED
    account.refresh_from_db()
    assert account.access_token == REFRESHED_TOKEN


def test_a_reconnect_during_a_refresh_wins(meta):
    account = due_account()

    def meta_answers(request):
        fresh = InstagramAccount.objects.get(pk=account.pk)
        fresh.access_token = "IGAAreconnectedToken999999999999999999999"
        fresh.save()
        return 200, {}, '{"access_token": "IGAArefreshedToken5555555555aaaaabbbbbcccccddddd"}'

    meta.add_callback("GET", REFRESH_URL, callback=meta_answers)
    [result] = tokens_refresh()
    assert result.outcome == RefreshOutcome.SKIPPED
    assert not result.failed
    account.refresh_from_db()
    assert account.access_token == "IGAAreconnectedToken999999999999999999999"


def test_a_disconnect_during_a_refresh_wins(meta):
    account = due_account()
    meta.delete(f"{account.graph_api_url}/me/subscribed_apps", json={"success": True})

    def meta_answers(request):
        account_disconnect(account_id=account.pk)
        return 200, {}, '{"access_token": "IGAArefreshedToken5555555555aaaaabbbbbcccccddddd"}'

    meta.add_callback("GET", REFRESH_URL, callback=meta_answers)
    assert [r.outcome for r in tokens_refresh()] == [RefreshOutcome.SKIPPED]
    account.refresh_from_db()
    assert account.token_ciphertext == ""
    assert account.status == InstagramAccount.Status.DISCONNECTED


# --- alerts -----------------------------------------------------------------------------
def test_admins_are_mailed_when_an_account_needs_reconnecting(
    meta, settings, mailoutbox, admin_user, django_capture_on_commit_callbacks
):
    settings.ACCOUNTS_ALERT_EMAILS = True
    admin_user.email = "root@example.com"
    admin_user.save()
    meta.get(REFRESH_URL, status=400, json=payload("error_190"))
    due_account()
    with django_capture_on_commit_callbacks(execute=True):
        tokens_refresh()
    [mail] = mailoutbox
    assert mail.to == ["root@example.com"]
    assert "@acme.shop needs reconnecting" in mail.subject
    assert "http://testserver/accounts/" in mail.body
    assert OLD_TOKEN not in mail.body


def test_no_mail_without_email_configured(
    meta, settings, mailoutbox, admin_user, django_capture_on_commit_callbacks
):
    settings.ACCOUNTS_ALERT_EMAILS = False
    admin_user.email = "root@example.com"
    admin_user.save()
    meta.get(REFRESH_URL, status=400, json=payload("error_190"))
    due_account()
    with django_capture_on_commit_callbacks(execute=True):
        tokens_refresh()
    assert mailoutbox == []


def test_admins_are_mailed_about_tokens_expiring_within_three_days(
    meta, settings, mailoutbox, admin_user
):
    settings.ACCOUNTS_ALERT_EMAILS = True
    admin_user.email = "root@example.com"
    admin_user.save()
    meta.get(REFRESH_URL, status=503, json=payload("error_transient"))
    due_account(token_expires_at=T0 + timedelta(days=2, hours=1))
    tokens_refresh()
    [mail] = mailoutbox
    assert "expire soon" in mail.subject
    assert "expires in 2 days" in mail.body


@pytest.mark.parametrize(("days", "shown"), [(2, True), (3, True), (4, False)])
def test_the_banner_shows_tokens_within_three_days_of_expiry(client, admin_user, days, shown):
    due_account(
        token_expires_at=T0 + timedelta(days=days), token_refreshed_at=T0 - timedelta(days=57)
    )
    client.force_login(admin_user)
    inbox = client.get("/").content.decode()
    assert ("could not be refreshed" in inbox) is shown


# --- the command and the task -----------------------------------------------------------
def test_the_command_prints_one_line_per_account_and_exits_zero(meta):
    refresh_ok(meta)
    due_account(username="acme.shop")
    out = StringIO()
    call_command("refresh_tokens", stdout=out)
    expiry = (T0 + timedelta(seconds=5184000)).strftime("%Y-%m-%d %H:%M")
    assert out.getvalue().splitlines() == [f"@acme.shop refreshed expires {expiry} UTC"]


def test_the_command_says_when_nothing_is_due(meta):
    out = StringIO()
    call_command("refresh_tokens", stdout=out)
    assert out.getvalue().strip() == "No token is due for refresh."


def test_the_command_exits_non_zero_when_a_refresh_failed(meta):
    meta.get(REFRESH_URL, status=400, json=payload("error_190"))
    refresh_ok(meta)
    due_account(username="broken", token_expires_at=T0 + timedelta(days=3))
    due_account(username="fine", token_expires_at=T0 + timedelta(days=4))
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("refresh_tokens", stdout=out)
    assert failure.value.returncode == 1
    assert "1 of 2" in str(failure.value)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("@broken needs reconnect expires ")
    assert lines[1].startswith("@fine refreshed expires ")
    assert OLD_TOKEN not in out.getvalue()
    assert REFRESHED_TOKEN not in out.getvalue()


def test_the_beat_task_runs_the_same_service(meta, settings):
    refresh_ok(meta)
    account = due_account()
    assert settings.CELERY_BEAT_SCHEDULE["refresh-tokens-daily"]["task"] == (
        "accounts.tasks.tokens_refresh_task"
    )
    assert tokens_refresh_task.name == "accounts.tasks.tokens_refresh_task"
    assert tokens_refresh_task.delay().get() == {"refreshed": 1}
    account.refresh_from_db()
    assert account.access_token == REFRESHED_TOKEN
