"""Each account's last webhook time: noted by the worker, never by the webhook request, and
at most once a minute per account however many events arrive."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import InstagramAccount
from inbox.intake.drain import webhook_events_drain
from inbox.intake.publish import TASK_QUEUED_KEY, task_queued_clear
from inbox.models import Message
from tests.factories import AccountFactory
from tests.webhooks import (
    CUSTOMER,
    IG_ID,
    OTHER_IG_ID,
    message_item,
    post_signed,
    stored_event,
    webhook_body,
    webhook_fixture,
)

pytestmark = [pytest.mark.django_db]

T0 = datetime(2025, 10, 9, 9, 0, tzinfo=UTC)
ACCOUNTS_TABLE = InstagramAccount._meta.db_table


@pytest.fixture(autouse=True)
def no_mark():
    task_queued_clear(TASK_QUEUED_KEY)
    yield
    task_queued_clear(TASK_QUEUED_KEY)


@pytest.fixture
def account(fake_meta):
    fake_meta.get(f"https://graph.instagram.com/v24.0/{CUSTOMER}", json={"name": "Jane Doe"})
    return AccountFactory(ig_id=IG_ID)


def account_updates(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and ACCOUNTS_TABLE in q["sql"]
    ]


def burst(count: int, prefix: str, *, ig_id: str = IG_ID) -> None:
    for n in range(count):
        body = webhook_body(
            message_item(f"{prefix}-{n}", f"hello {n}", recipient=ig_id), ig_id=ig_id
        )
        stored_event(body)


def test_it_records_the_time_a_delivered_webhook_was_applied(deliver, account):
    assert account.last_webhook_at is None
    with time_machine.travel(T0, tick=False):
        assert deliver(webhook_fixture("message_text")).status_code == 200
    account.refresh_from_db()
    assert account.last_webhook_at == T0
    assert Message.objects.count() == 1


def test_the_webhook_request_itself_writes_nothing_to_the_account(client, account):
    with CaptureQueriesContext(connection) as queries:
        # Not `deliver`: the worker's part (run on commit) is left out.
        assert post_signed(client, webhook_fixture("message_text")).status_code == 200
    assert account_updates(queries) == []
    account.refresh_from_db()
    assert account.last_webhook_at is None


def test_a_group_costs_one_statement_per_account_then_none_for_a_minute(account):
    other = AccountFactory(ig_id=OTHER_IG_ID)
    with time_machine.travel(T0, tick=False):
        burst(20, "a")
        burst(20, "b", ig_id=OTHER_IG_ID)
        with CaptureQueriesContext(connection) as queries:
            assert webhook_events_drain() == 40
    # Both accounts in one conditional UPDATE.
    assert len(account_updates(queries)) == 1
    with time_machine.travel(T0 + timedelta(seconds=59), tick=False):
        burst(20, "c")
        with CaptureQueriesContext(connection) as queries:
            assert webhook_events_drain() == 20
    assert account_updates(queries) == []
    account.refresh_from_db()
    other.refresh_from_db()
    assert (account.last_webhook_at, other.last_webhook_at) == (T0, T0)


def test_a_minute_later_the_time_moves_on_with_one_statement(account):
    with time_machine.travel(T0, tick=False):
        burst(3, "a")
        webhook_events_drain()
    later = T0 + timedelta(minutes=1, seconds=1)
    with time_machine.travel(later, tick=False):
        burst(30, "b")
        with CaptureQueriesContext(connection) as queries:
            assert webhook_events_drain() == 30
    assert len(account_updates(queries)) == 1
    account.refresh_from_db()
    assert account.last_webhook_at == later


def test_events_worked_one_at_a_time_record_too(deliver, account):
    # An unsend goes the one-at-a-time way, not the group's.
    unsend = webhook_body(message_item("gone", is_deleted=True))
    with time_machine.travel(T0, tick=False):
        assert deliver(unsend).status_code == 200
    account.refresh_from_db()
    assert account.last_webhook_at == T0


def test_events_for_an_unknown_account_touch_no_account(deliver, account):
    with time_machine.travel(T0, tick=False):
        deliver(webhook_body(message_item("m-1", "hi", recipient=OTHER_IG_ID), ig_id=OTHER_IG_ID))
    account.refresh_from_db()
    assert account.last_webhook_at is None
