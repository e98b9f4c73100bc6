"""Two refresh runs at once on PostgreSQL (real row locking, real threads): one call."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import InstagramAccount
from accounts.refresh import RefreshOutcome, tokens_refresh
from tests.factories import AccountFactory

from .fakes import GRAPH_ROOT, REFRESHED_TOKEN, payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
REFRESH_URL = f"{GRAPH_ROOT}/refresh_access_token"


def due_account():
    now = timezone.now()
    return AccountFactory(
        access_token="IGAAcurrentLongLivedToken77777777777777777",
        token_refreshed_at=now - timedelta(days=40),
        token_expires_at=now + timedelta(days=20),
    )


def run_in_thread(results, name):
    def target():
        try:
            results[name] = tokens_refresh()
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_a_run_started_while_another_is_calling_meta_makes_no_call(meta):
    account = due_account()
    in_flight, release = threading.Event(), threading.Event()

    def meta_answers(request):
        in_flight.set()
        release.wait(10)
        return 200, {}, json.dumps(payload("refresh"))

    meta.add_callback("GET", REFRESH_URL, callback=meta_answers)
    results = {}
    first = run_in_thread(results, "first")
    assert in_flight.wait(10)
    second = run_in_thread(results, "second")
    second.join(10)
    release.set()
    first.join(10)

    assert len(meta.calls) == 1
    assert [r.outcome for r in results["first"]] == [RefreshOutcome.REFRESHED]
    assert results["second"] == []
    account.refresh_from_db()
    assert account.access_token == REFRESHED_TOKEN


def test_two_runs_started_together_make_one_call(meta):
    accounts = [due_account() for _ in range(5)]
    barrier = threading.Barrier(2)

    def meta_answers(request):
        time.sleep(0.05)  # Meta takes a moment: the two runs overlap
        return 200, {}, json.dumps(payload("refresh"))

    meta.add_callback("GET", REFRESH_URL, callback=meta_answers)
    results = {}

    def racer(name):
        barrier.wait(10)
        try:
            results[name] = tokens_refresh()
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert len(meta.calls) == len(accounts)  # one per account, never two
    refreshed = [
        r.account_id for rs in results.values() for r in rs if r.outcome == RefreshOutcome.REFRESHED
    ]
    assert sorted(refreshed) == sorted(a.pk for a in accounts)
    assert all(a.access_token == REFRESHED_TOKEN for a in InstagramAccount.objects.all())
