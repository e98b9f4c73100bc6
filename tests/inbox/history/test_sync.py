"""History sync against Meta faked at the HTTP layer: several pages of conversations, a
conversation with more than 20 messages, attachments, one of our own sends, a webhook for the
same mid mid-sync, a 429 in the middle, a 190."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses
import time_machine
from django.core.management import call_command

from accounts.models import InstagramAccount
from inbox.history import sync as sync_module
from inbox.history.sync import history_sync
from inbox.models import Conversation, HistorySync, Message
from tests.factories import AccountFactory
from tests.fixtures import meta_fixture

BASE = "https://graph.instagram.com/v24.0"
BIZ = "17841400000000001"
NOW = datetime(2030, 1, 10, 10, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast")]


@pytest.fixture
def fast(monkeypatch):
    """No real waiting (the clock stands still): the back-off's sleeps and the bucket's
    gate are skipped (tests/inbox/history/test_pacing.py times the gate for real)."""
    monkeypatch.setattr(sync_module, "_sleep", lambda seconds: None)
    monkeypatch.setattr(sync_module, "gate_wait", lambda **kw: None)
    paused = []
    monkeypatch.setattr(sync_module, "bucket_pause", lambda **kw: paused.append(kw["seconds"]))
    with time_machine.travel(NOW, tick=False):
        yield paused


@pytest.fixture
def account():
    return AccountFactory(ig_id=BIZ, username="shop_biz")


def graph(fake_meta, *, page1=None):
    """Meta's answers for the whole history: two pages of conversations, three
    conversations, one message read on its own."""
    query = {"platform": "instagram", "fields": "id,updated_time", "limit": "25"}
    fake_meta.get(
        f"{BASE}/me/conversations",
        json=meta_fixture("graph", "conversations_page2"),
        match=[responses.matchers.query_param_matcher({**query, "after": "QVFIUpage2"})],
    )
    fake_meta.get(
        f"{BASE}/me/conversations",
        json=page1 or meta_fixture("graph", "conversations_page1"),
        match=[responses.matchers.query_param_matcher(query)],
    )
    for name, cid in [
        ("conversation_long", "aWdfZAGQconv1"),
        ("conversation_attachments", "aWdfZAGQconv2"),
        ("conversation_sparse", "aWdfZAGQconv3"),
    ]:
        fake_meta.get(f"{BASE}/{cid}", json=meta_fixture("graph", name))
    fake_meta.get(f"{BASE}/aWdfZAGm_c1_20", json=meta_fixture("graph", "history_message"))


def calls(fake_meta, path):
    return [c for c in fake_meta.calls if c.request.url.split("?")[0] == f"{BASE}{path}"]


def test_it_stores_every_page_and_the_20_newest_messages(fake_meta, account):
    graph(fake_meta)
    result = history_sync(account_id=account.pk)

    assert not result.failed
    assert result.conversations == 3
    assert Conversation.objects.filter(account=account).count() == 3
    long = Conversation.objects.get(customer_igsid="900000000000001")
    assert long.messages.count() == 20  # Meta gives the 20 newest in full
    # The one listed by id alone was read on its own.
    assert long.messages.filter(mid="aWdfZAGm_c1_20").exists()
    assert len(calls(fake_meta, "/me/conversations")) == 2
    assert result.messages_stored == 20 + 3 + 1  # the last has no text nor `to`: still kept
    assert all(Message.objects.values_list("imported", flat=True))
    sync = HistorySync.objects.get(account=account)
    assert sync.state == HistorySync.State.DONE
    assert sync.cursor == ""
    assert sync.conversations_found == 3
    assert sync.last_synced_at == NOW


def test_it_keeps_meta_times_and_directions(fake_meta, account):
    graph(fake_meta)
    history_sync(account_id=account.pk)

    conversation = Conversation.objects.get(customer_igsid="900000000000002")
    ours, photo, text = conversation.messages.order_by("-timestamp")
    assert ours.direction == Message.Direction.OUTBOUND
    assert ours.origin == Message.Origin.BUSINESS_APP
    assert ours.timestamp == datetime(2030, 1, 9, 12, 0, tzinfo=UTC)
    assert photo.kind == Message.Kind.ATTACHMENT
    assert photo.attachments[0]["type"] == "image"
    assert photo.attachments[0]["url"].startswith("https://lookaside.fbsbx.com/")
    assert text.direction == Message.Direction.INBOUND
    assert text.text == "Here is the photo"
    # The window runs from the newest customer message, not the sync.
    assert conversation.last_customer_message_at == datetime(2030, 1, 9, 11, 0, tzinfo=UTC)


def test_it_marks_unread_only_a_recent_conversation_the_customer_spoke_last(fake_meta, account):
    graph(fake_meta)
    history_sync(account_id=account.pk)

    unread = set(
        Conversation.objects.filter(last_inbound_received_at__isnull=False).values_list(
            "customer_igsid", flat=True
        )
    )
    # conv1 ends with the customer's question; conv2 with our answer.
    assert unread == {"900000000000001"}


def test_it_recognises_one_of_our_sends(fake_meta, account):
    conversation = Conversation.objects.create(account=account, customer_igsid="900000000000002")
    mine = Message.objects.create(
        account=account,
        conversation=conversation,
        mid="aWdfZAGm_c2_3",
        direction="out",
        origin="agent",
        status="sent",
        text="Thanks, it ships tomorrow",
    )
    graph(fake_meta)
    history_sync(account_id=account.pk)

    assert conversation.messages.filter(text="Thanks, it ships tomorrow").get() == mine
    mine.refresh_from_db()
    assert mine.origin == Message.Origin.AGENT
    assert not mine.imported


def test_it_stores_nothing_twice(fake_meta, account):
    graph(fake_meta)
    history_sync(account_id=account.pk)
    count = Message.objects.count()
    second = history_sync(account_id=account.pk)

    assert Message.objects.count() == count
    assert second.messages_stored == 0
    assert second.messages_read > 0


def test_it_is_idempotent_with_a_webhook_for_the_same_mid_mid_sync(
    fake_meta, account, deliver, monkeypatch
):
    from inbox.history import store

    real = store.history_conversation_store

    def webhook_first(**kwargs):
        if kwargs["detail"].id == "aWdfZAGQconv2":  # Meta's webhook lands while we read
            deliver(
                {
                    "object": "instagram",
                    "entry": [
                        {
                            "id": BIZ,
                            "time": 1,
                            "messaging": [
                                {
                                    "sender": {"id": "900000000000002"},
                                    "recipient": {"id": BIZ},
                                    "timestamp": 1893664800000,
                                    "message": {
                                        "mid": "aWdfZAGm_c2_1",
                                        "text": "Here is the photo",
                                    },
                                }
                            ],
                        }
                    ],
                }
            )
        return real(**kwargs)

    monkeypatch.setattr(sync_module, "history_conversation_store", webhook_first)
    graph(fake_meta)
    history_sync(account_id=account.pk)

    assert Message.objects.filter(mid="aWdfZAGm_c2_1").count() == 1
    assert not Message.objects.get(mid="aWdfZAGm_c2_1").imported  # the webhook's


def test_it_retries_a_429_and_resumes_from_the_cursor(fake_meta, account):
    graph(fake_meta)
    throttled = {"error": {"message": "Too many calls", "type": "OAuthException", "code": 4}}
    # conv3 (page 2) is throttled for longer than a run waits: the run stops there.
    fake_meta.replace(
        responses.GET,
        f"{BASE}/aWdfZAGQconv3",
        json=throttled,
        status=429,
        headers={"Retry-After": "120"},
    )
    first = history_sync(account_id=account.pk)

    assert first.failed
    assert first.retry_in
    assert first.retry_in >= 60
    sync = HistorySync.objects.get(account=account)
    assert sync.state == HistorySync.State.FAILED
    assert sync.cursor == "QVFIUpage2"
    assert "slow down" in sync.error

    fake_meta.replace(
        responses.GET, f"{BASE}/aWdfZAGQconv3", json=meta_fixture("graph", "conversation_sparse")
    )
    page_calls = len(calls(fake_meta, "/me/conversations"))
    second = history_sync(account_id=account.pk)

    assert not second.failed
    assert second.conversations == 3
    # Resumed at page 2: page 1 was not read again.
    assert len(calls(fake_meta, "/me/conversations")) == page_calls + 1


def test_it_retries_a_short_429_in_the_run(fake_meta, account, fast):
    graph(fake_meta)
    throttled = {"error": {"message": "Too many calls", "type": "OAuthException", "code": 4}}
    fake_meta.replace(responses.GET, f"{BASE}/aWdfZAGQconv2", json=throttled, status=429)
    fake_meta.add(
        responses.GET,
        f"{BASE}/aWdfZAGQconv2",
        json=meta_fixture("graph", "conversation_attachments"),
    )
    result = history_sync(account_id=account.pk)

    assert not result.failed
    assert Conversation.objects.filter(customer_igsid="900000000000002").exists()
    assert len(fast) == 1  # every worker's calls for the account held back


def test_it_marks_the_account_on_a_190(fake_meta, account):
    fake_meta.get(f"{BASE}/me/conversations", json=meta_fixture("graph", "error_190"), status=400)
    result = history_sync(account_id=account.pk)

    account.refresh_from_db()
    assert result.failed
    assert result.retry_in is None
    assert account.status == InstagramAccount.Status.NEEDS_RECONNECT
    assert "reconnect" in HistorySync.objects.get(account=account).error


def test_it_never_runs_two_syncs_of_an_account(fake_meta, account):
    HistorySync.objects.create(
        account=account, state=HistorySync.State.RUNNING, lease_until=NOW.replace(hour=11)
    )
    result = history_sync(account_id=account.pk)

    assert result.skipped
    assert not fake_meta.calls


def test_it_reconciles_only_conversations_updated_since_the_last_sync(fake_meta, account):
    HistorySync.objects.create(
        account=account,
        state=HistorySync.State.DONE,
        last_synced_at=datetime(2030, 1, 9, 18, 0, tzinfo=UTC),
    )
    graph(fake_meta)
    result = history_sync(account_id=account.pk, reconcile=True)

    assert result.conversations == 1  # only conv1 changed since
    assert len(calls(fake_meta, "/me/conversations")) == 1  # older ones end the paging
    assert not calls(fake_meta, "/aWdfZAGQconv2")


def test_the_command_prints_a_line_per_account_and_fails_for_a_failed_one(
    fake_meta, account, capsys
):
    graph(fake_meta)
    call_command("sync_history", "--account", BIZ)
    assert f"{BIZ}: 3 conversations read" in capsys.readouterr().out

    with pytest.raises(SystemExit) as exit_:
        call_command("sync_history", "--account", "999")
    assert exit_.value.code == 1
    assert "999: failed" in capsys.readouterr().out
