"""The history sync on the accounts page, in Chromium: the progress bar follows a running
sync by itself and stops asking once it ends; the button works with and without JavaScript,
under the Content-Security-Policy."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.history import sync as sync_module
from inbox.models import HistorySync
from tests.factories import UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLL_MS = 6000  # the panel asks every 2 seconds


@pytest.fixture
def admin(db):
    user = UserFactory(username="alice", is_staff=True, is_superuser=True)
    user.set_password("secret-pass-123")
    user.save()
    return user


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(sync_module, "task_queue", lambda name, *a, **kw: calls.append(a) or True)
    return calls


def test_the_progress_bar_follows_a_running_sync(page, admin, account):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    sync = HistorySync.objects.create(
        account=account,
        state=HistorySync.State.RUNNING,
        lease_until=timezone.now() + timedelta(minutes=10),
        started_at=timezone.now(),
        conversations_found=10,
        conversations_done=3,
        messages_stored=41,
    )
    log_in(page)
    page.goto("/accounts/")
    panel = page.locator(f"#history-{account.pk}")
    panel.get_by_text("3 of 10 conversations found so far · 41 messages stored").wait_for()
    assert panel.locator("progress").get_attribute("value") == "3"

    HistorySync.objects.filter(pk=sync.pk).update(
        conversations_found=25, conversations_done=7, messages_stored=90
    )
    panel.get_by_text("7 of 25 conversations found so far · 90 messages stored").wait_for(
        timeout=POLL_MS
    )
    assert panel.locator("progress").get_attribute("max") == "25"

    HistorySync.objects.filter(pk=sync.pk).update(
        state=HistorySync.State.DONE,
        conversations_done=25,
        messages_read=500,
        finished_at=timezone.now(),
        lease_until=None,
    )
    panel.get_by_text("90 new messages stored").wait_for(timeout=POLL_MS)
    assert "25 conversations read" in panel.inner_text()
    assert panel.get_attribute("hx-trigger") is None  # done: no more polling
    assert panel.locator("progress").count() == 0
    assert violations == []


def test_the_button_queues_a_sync_and_shows_it_in_place(page, admin, account, queued):
    log_in(page)
    page.goto("/accounts/")
    panel = page.locator(f"#history-{account.pk}")
    panel.get_by_text("Not synced yet.").wait_for()
    panel.get_by_role("button", name="Sync history").click()

    panel.get_by_text("History sync queued for").wait_for()
    panel.get_by_text("the sync starts in a moment").wait_for()
    assert page.url.endswith("/accounts/")  # swapped in place, no reload
    assert queued == [(account.pk,)]
    assert panel.get_by_role("button", name="Sync history").count() == 0


def test_without_javascript_the_button_is_a_plain_form(
    browser, live_server, admin, account, queued
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page)
        page.goto("/accounts/")
        page.get_by_role("button", name="Sync history").click()
        page.wait_for_url("**/accounts/")
        page.locator(".flash", has_text="History sync queued for").wait_for()
        page.locator(f"#history-{account.pk}").get_by_text("the sync starts in a moment").wait_for()
        assert queued == [(account.pk,)]
    finally:
        context.close()
