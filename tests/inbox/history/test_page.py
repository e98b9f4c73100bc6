"""The history sync on the accounts page: its progress, its last result in words, the
"Sync history" button (admins only, CSRF, never two syncs at once) and the admin action."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from accounts.models import InstagramAccount
from inbox.history import sync as sync_module
from inbox.history.state import history_claim
from inbox.models import HistorySync
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2030, 1, 10, 10, 0, tzinfo=UTC)
SYNC_TASK = "inbox.tasks.history_sync_task"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def queued(monkeypatch):
    """The tasks the page queues (the broker is not the point here)."""
    calls = []
    monkeypatch.setattr(
        sync_module, "task_queue", lambda name, *args, **kw: calls.append((name, args)) or True
    )
    return calls


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def panel(html: str, account) -> str:
    match = re.search(
        rf'<div class="history-sync[^"]*" id="history-{account.pk}".*?</dd>', html, re.S
    )
    assert match, f"no history panel for {account}"
    return " ".join(match.group(0).split())


def page_panel(client, account) -> str:
    response = client.get("/accounts/")
    assert response.status_code == 200
    return panel(response.content.decode(), account)


def running(account, **values) -> HistorySync:
    defaults = {
        "state": HistorySync.State.RUNNING,
        "lease_until": NOW + timedelta(minutes=5),
        "started_at": NOW - timedelta(minutes=1),
        "conversations_found": 40,
        "conversations_done": 12,
        "messages_read": 240,
        "messages_stored": 230,
    }
    return HistorySync.objects.create(account=account, **{**defaults, **values})


# --- what the page shows -----------------------------------------------------------------
def test_it_offers_a_first_sync_to_admins(admin_client, account):
    html = page_panel(admin_client, account)
    assert "Not synced yet." in html
    assert "Sync history</button>" in html
    assert "hx-trigger" not in html  # nothing runs: no polling


def test_it_shows_a_running_sync_as_a_progress_bar_that_polls(admin_client, account):
    running(account)
    html = page_panel(admin_client, account)

    assert '<progress max="40" value="12"' in html
    assert "12 of 40 conversations found so far · 230 messages stored" in html
    assert f'hx-get="/accounts/{account.pk}/history/"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "Sync history</button>" not in html  # one sync at a time


def test_it_says_it_is_looking_before_any_conversation_is_found(admin_client, account):
    running(account, conversations_found=0, conversations_done=0, messages_stored=0)
    html = page_panel(admin_client, account)
    assert "looking for conversations" in html
    assert "<progress aria-label" in html  # indeterminate: no value yet


def test_it_tells_a_reconciliation_what_it_reads(admin_client, account):
    running(account, since=datetime(2030, 1, 10, 4, 0, tzinfo=UTC))
    html = page_panel(admin_client, account)
    assert "reading the conversations updated since 10 Jan 2030, 04:00" in html


def test_it_shows_the_last_sync_and_what_it_stored(admin_client, account):
    HistorySync.objects.create(
        account=account,
        state=HistorySync.State.DONE,
        started_at=NOW - timedelta(hours=1, minutes=5),
        finished_at=NOW - timedelta(hours=1),
        last_synced_at=NOW - timedelta(hours=1, minutes=5),
        conversations_found=40,
        conversations_done=40,
        messages_read=800,
        messages_stored=120,
    )
    html = page_panel(admin_client, account)

    assert "Last sync 10 Jan 2030, 09:00: 40 conversations read," in html
    assert "120 new messages stored</strong> (800 read)" in html
    assert "hx-trigger" not in html
    assert "Sync history</button>" in html


def test_it_tells_why_the_last_sync_stopped_in_words(admin_client, account):
    HistorySync.objects.create(
        account=account,
        state=HistorySync.State.FAILED,
        cursor="QVFIUpage2",
        finished_at=NOW - timedelta(minutes=3),
        conversations_found=25,
        conversations_done=25,
        messages_stored=61,
        error="Instagram asked us to slow down; the sync continues later (4).",
    )
    html = page_panel(admin_client, account)

    assert "Last sync stopped 10 Jan 2030, 09:57 after 25 of 25 conversations" in html
    assert "(61 messages stored)" in html
    assert "Instagram asked us to slow down; the sync continues later (4)." in html
    assert "The next sync continues where this one stopped." in html


def test_it_tells_of_a_sync_whose_worker_died(admin_client, account):
    running(account, lease_until=NOW - timedelta(seconds=1), cursor="QVFIUpage2")
    html = page_panel(admin_client, account)

    assert "stopped without finishing, after 12 of 40 conversations" in html
    assert "The next sync continues where this one stopped." in html
    assert "hx-trigger" not in html
    assert "Sync history</button>" in html  # a dead run does not block a new one


def test_an_account_that_is_not_connected_has_no_button(admin_client):
    gone = AccountFactory(status=InstagramAccount.Status.NEEDS_RECONNECT)
    html = page_panel(admin_client, gone)
    assert "Sync history</button>" not in html


def test_the_fragment_stops_polling_once_the_sync_ends(admin_client, account):
    sync = running(account)
    fragment = admin_client.get(f"/accounts/{account.pk}/history/").content.decode()
    assert 'hx-trigger="every 2s"' in fragment
    assert "<html" not in fragment

    HistorySync.objects.filter(pk=sync.pk).update(
        state=HistorySync.State.DONE, finished_at=NOW, conversations_done=40
    )
    fragment = admin_client.get(f"/accounts/{account.pk}/history/").content.decode()
    assert "hx-trigger" not in fragment
    assert "40 conversations read" in fragment


def test_the_page_reads_every_account_s_sync_in_one_query(
    admin_client, django_assert_max_num_queries
):
    accounts = [AccountFactory() for _ in range(3)]
    for account in accounts:
        running(account)
    admin_client.get("/accounts/")  # warm the session
    with django_assert_max_num_queries(12) as captured:
        admin_client.get("/accounts/")
    history_queries = [q for q in captured.captured_queries if "historysync" in q["sql"]]
    assert len(history_queries) == 1


# --- the button ----------------------------------------------------------------------------
def test_the_button_queues_a_sync_once_committed(
    admin_client, account, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/accounts/{account.pk}/history/sync/", follow=True)

    assert response.redirect_chain == [("/accounts/", 302)]
    assert queued == [(SYNC_TASK, (account.pk,))]
    html = response.content.decode()
    assert "History sync queued for" in html
    assert "Queued:</strong> the sync starts in a moment." in panel(html, account)
    assert HistorySync.objects.get(account=account).requested_at == NOW


def test_a_sync_the_broker_refused_is_not_shown_as_queued(
    admin_client, account, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(sync_module, "task_queue", lambda name, *args, **kw: False)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/accounts/{account.pk}/history/sync/")

    assert HistorySync.objects.get(account=account).requested_at is None
    html = page_panel(admin_client, account)
    assert "Queued" not in html
    assert "Sync history</button>" in html


def test_the_button_refuses_politely_while_a_sync_runs(
    admin_client, account, queued, django_capture_on_commit_callbacks
):
    running(account)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/accounts/{account.pk}/history/sync/", follow=True)

    assert response.status_code == 200
    assert "is already running" in response.content.decode()
    assert queued == []
    assert HistorySync.objects.get(account=account).requested_at is None


def test_a_second_click_before_the_sync_starts_queues_nothing_more(
    admin_client, account, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/accounts/{account.pk}/history/sync/")
        response = admin_client.post(f"/accounts/{account.pk}/history/sync/", follow=True)

    assert "is already queued" in response.content.decode()
    assert len(queued) == 1


def test_the_sync_that_starts_clears_the_queued_mark(admin_client, account, queued):
    admin_client.post(f"/accounts/{account.pk}/history/sync/")
    run = history_claim(account=account, reconcile=False)

    assert run is not None
    assert run.requested_at is None
    assert "Syncing:" in page_panel(admin_client, account)


def test_the_button_refuses_an_account_that_is_not_connected(admin_client, queued):
    gone = AccountFactory(status=InstagramAccount.Status.DISCONNECTED)
    response = admin_client.post(f"/accounts/{gone.pk}/history/sync/", follow=True)
    assert "is not connected: reconnect it" in response.content.decode()
    assert queued == []


def test_with_htmx_the_button_swaps_the_panel_in_place(
    admin_client, account, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/accounts/{account.pk}/history/sync/", headers={"HX-Request": "true"}
        )

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="history-{account.pk}"' in html
    assert "History sync queued for" in html
    assert 'hx-trigger="every 2s"' in html
    assert len(queued) == 1


def test_the_button_needs_a_csrf_token(admin_user, account, queued):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(f"/accounts/{account.pk}/history/sync/").status_code == 403
    assert queued == []
    assert 'name="csrfmiddlewaretoken"' in page_panel(client, account)


# --- who may --------------------------------------------------------------------------------
def test_a_member_who_is_not_an_admin_gets_403_and_no_button(client, agent, account, queued):
    client.force_login(agent)
    assert client.post(f"/accounts/{account.pk}/history/sync/").status_code == 403
    assert client.get(f"/accounts/{account.pk}/history/").status_code == 403
    assert client.get("/accounts/").status_code == 403  # the whole page is the admins'
    assert queued == []
    assert not HistorySync.objects.filter(requested_at__isnull=False).exists()


def test_other_accounts_are_404_for_agents_and_managers(client, agent, manager, queued):
    other = AccountFactory()
    for user in (agent, manager):
        client.force_login(user)
        assert client.post(f"/accounts/{other.pk}/history/sync/").status_code == 404
        assert client.get(f"/accounts/{other.pk}/history/").status_code == 404
    assert queued == []


def test_unknown_accounts_are_404_and_visitors_log_in(client, admin_client, account):
    assert admin_client.post("/accounts/999/history/sync/").status_code == 404
    anonymous = Client()
    response = anonymous.post(f"/accounts/{account.pk}/history/sync/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_status_is_read_only(admin_client, account):
    assert admin_client.post(f"/accounts/{account.pk}/history/").status_code == 405
    assert admin_client.get(f"/accounts/{account.pk}/history/sync/").status_code == 405


# --- Django admin -----------------------------------------------------------------------------
def test_admins_sync_history_from_django_admin(
    admin_client, account, queued, django_capture_on_commit_callbacks
):
    busy = AccountFactory()
    running(busy)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/accounts/instagramaccount/",
            {"action": "sync_history", "_selected_action": [account.pk, busy.pk]},
            follow=True,
        )

    html = response.content.decode()
    assert "History sync queued for" in html
    assert "is already running" in html
    assert queued == [(SYNC_TASK, (account.pk,))]


def test_managers_do_not_get_the_admin_action(client, manager, account):
    client.force_login(manager)
    html = client.get("/admin/accounts/instagramaccount/").content.decode()
    assert client.get("/admin/accounts/instagramaccount/").status_code == 200
    assert "sync_history" not in html
