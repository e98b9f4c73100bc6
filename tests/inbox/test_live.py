"""The live polls' change stamps: an unchanged poll answers 204 from one query without
rendering, every change an agent could see makes their next poll render, and nothing else
does (inbox/services/live.py)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import Conversation, LiveVersion, Message
from inbox.outbound.echoes import echo_confirm_own_send
from inbox.services import live, work
from inbox.services.control import conversation_control_note
from inbox.services.labels import conversation_label_add, label_for_name
from inbox.services.snooze import conversation_snooze, conversations_wake_due
from team.services import note_create
from tests.factories import (
    AccountFactory,
    ConversationFactory,
    MessageFactory,
    OutboundMessageFactory,
    UserFactory,
)
from tests.webhooks import CUSTOMER, IG_ID, TEXT_MID, webhook_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return AccountFactory(ig_id=IG_ID)


@pytest.fixture
def conversation(account):
    return ConversationFactory(
        account=account,
        customer_igsid=CUSTOMER,
        last_customer_message_at=timezone.now() - timedelta(hours=1),
    )


def list_version(client, **params):
    response = client.get("/", {"fragment": "rows", **params})
    assert response.status_code == 200
    return response["X-Inbox-Version"]


def list_poll(client, version, **params):
    return client.get("/", {"fragment": "rows", "v": version, **params})


def thread_version(client, conversation):
    response = client.get(f"/c/{conversation.pk}/updates/")
    assert response.status_code == 200
    return re.search(r'class="thread-update" data-v="([0-9a-f]+)"', response.content.decode())[1]


def thread_poll(client, conversation, version):
    return client.get(f"/c/{conversation.pk}/updates/", {"v": version})


def stamps(conversation):
    conversation.refresh_from_db()
    row = LiveVersion.objects.filter(account_id=conversation.account_id).first()
    return conversation.live_version, row.version if row else 0


# --- an unchanged poll -----------------------------------------------------------------------
def test_it_answers_an_unchanged_list_poll_from_one_query_without_rendering(logged_in, account):
    ConversationFactory.create_batch(5, account=account)
    version = list_version(logged_in)
    with CaptureQueriesContext(connection) as queries:
        response = list_poll(logged_in, version)
    assert response.status_code == 204
    assert not response.templates
    # The stamps, and in the same statement the proof of the login (test_live_known.py).
    assert len(queries) == 1
    assert "inbox_liveversion" in queries[0]["sql"]
    assert "django_session" in queries[0]["sql"]


def test_it_answers_an_unchanged_thread_poll_from_one_query_without_reading_messages(
    logged_in, conversation
):
    MessageFactory.create_batch(5, conversation=conversation)
    version = thread_version(logged_in, conversation)
    with CaptureQueriesContext(connection) as queries:
        response = thread_poll(logged_in, conversation, version)
    assert response.status_code == 204
    assert not response.templates
    assert len(queries) == 1  # the conversation row, and the proof of the login
    assert not any("inbox_message" in query["sql"] for query in queries)


def test_the_health_check_loads_no_session_even_with_a_cookie(logged_in):
    with CaptureQueriesContext(connection) as queries:
        assert logged_in.get("/healthz/").status_code == 200
    assert len(queries) == 1


# --- what makes a poll render ------------------------------------------------------------------
@pytest.mark.usefixtures("fake_meta")
def test_a_new_message_makes_both_polls_render_it(logged_in, conversation, deliver):
    listed, threaded = list_version(logged_in), thread_version(logged_in, conversation)
    deliver(webhook_fixture("message_text"))
    assert list_poll(logged_in, listed).status_code == 200
    response = thread_poll(logged_in, conversation, threaded)
    assert response.status_code == 200
    assert Message.objects.get(mid=TEXT_MID).text in response.content.decode()


@pytest.mark.usefixtures("fake_meta")
@pytest.mark.parametrize(
    "fixture", ["message_deleted", "message_edit", "reaction_react", "read", "standby"]
)
def test_each_change_from_a_webhook_bumps_the_stamps(deliver, conversation, fixture):
    deliver(webhook_fixture("message_text"))
    OutboundMessageFactory(conversation=conversation, mid="m-sent", status="sent")
    before = stamps(conversation)
    deliver(webhook_fixture(fixture))
    after = stamps(conversation)
    assert after[0] > before[0]
    assert after[1] > before[1]


@pytest.mark.parametrize(
    "change",
    [
        lambda c, agent: work.conversation_assign(conversation=c, assignee=agent, actor=agent),
        lambda c, agent: work.conversation_close(conversation=c, actor=agent),
        lambda c, agent: conversation_control_note(conversation=c, at=timezone.now(), standby=True),
        lambda c, agent: echo_confirm_own_send(
            account=c.account, mid="m-out", sent_at=timezone.now()
        ),
        lambda c, agent: Message.objects.get(mid="m-out").reactions.create(actor="customer"),
        lambda c, agent: conversation_label_add(
            conversation=c, label=label_for_name(name="VIP"), actor=agent
        ),
        lambda c, agent: note_create(conversation=c, author=agent, text="Checked the order"),
        lambda c, agent: conversation_snooze(
            conversation=c, until=timezone.now() + timedelta(hours=1), actor=agent
        ),
    ],
    ids=[
        "assign",
        "close",
        "another app",
        "sent",
        "reaction",
        "label",
        "note",
        "snooze",
    ],
)
def test_each_change_by_a_service_bumps_the_stamps(conversation, agent, change):
    OutboundMessageFactory(conversation=conversation, mid="m-out", status="sending")
    before = stamps(conversation)
    change(conversation, agent)
    after = stamps(conversation)
    assert after[0] > before[0]
    assert after[1] > before[1]


def test_a_snooze_that_ends_on_time_bumps_the_stamps(conversation, agent):
    until = timezone.now() + timedelta(hours=1)
    conversation_snooze(conversation=conversation, until=until, actor=agent)
    before = stamps(conversation)
    with time_machine.travel(until + timedelta(seconds=1)):
        assert conversations_wake_due() == [conversation.pk]
    after = stamps(conversation)
    assert after[0] > before[0]
    assert after[1] > before[1]


def test_reading_renders_the_readers_list_only(logged_in, agent, account, conversation, client):
    MessageFactory(conversation=conversation)
    colleague = UserFactory(username="bob")
    account.members.add(colleague)
    from django.test import Client

    other = Client()
    other.force_login(colleague)
    mine, theirs = list_version(logged_in), list_version(other)
    work.conversation_mark_read(conversation=conversation, user=agent)
    assert list_poll(logged_in, mine).status_code == 200
    assert list_poll(other, theirs).status_code == 204


def test_a_change_in_an_account_the_agent_cannot_see_never_renders_their_poll(
    logged_in, account, conversation
):
    version = list_version(logged_in)
    elsewhere = ConversationFactory(account=AccountFactory())
    MessageFactory(conversation=elsewhere, text="not yours")
    work.conversation_close(conversation=elsewhere, actor=UserFactory())
    assert list_poll(logged_in, version).status_code == 204
    # Being added to that account changes what they see.
    elsewhere.account.members.add(logged_in.session["_auth_user_id"])
    assert list_poll(logged_in, version).status_code == 200


def test_a_version_answers_only_for_the_list_it_was_made_for(logged_in, account):
    ConversationFactory(account=account, customer_name="Ana")
    version = list_version(logged_in)
    assert list_poll(logged_in, version).status_code == 204
    assert list_poll(logged_in, version, q="Ana").status_code == 200
    assert list_poll(logged_in, version, status="closed").status_code == 200
    searched = list_version(logged_in, q="Ana")
    assert list_poll(logged_in, searched, q="Ana").status_code == 204


def test_a_search_poll_gives_the_same_rows_as_the_search(logged_in, account):
    ConversationFactory(account=account, customer_name="Ana Lima")
    ConversationFactory(account=account, customer_name="Bea Souza")
    version = list_version(logged_in, q="Ana")
    new = ConversationFactory(account=account, customer_name="Ana Costa")
    response = list_poll(logged_in, version, q="Ana")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ana Lima" in html
    assert new.customer_name in html
    assert "Bea Souza" not in html


# --- time ------------------------------------------------------------------------------------
def test_a_window_ticking_down_does_not_render_but_its_closing_does(
    logged_in, conversation, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_customer_message_at=timezone.now() - timedelta(hours=23, minutes=53)
    )
    live.live_touch(account_id=conversation.account_id, conversation_id=conversation.pk)
    listed, threaded = list_version(logged_in), thread_version(logged_in, conversation)
    time_machine.shift(timedelta(minutes=5))  # "7 min left" became "2 min left"
    assert thread_poll(logged_in, conversation, threaded).status_code == 204
    assert list_poll(logged_in, listed).status_code == 204
    time_machine.shift(timedelta(minutes=3))  # the standard window has closed
    response = thread_poll(logged_in, conversation, threaded)
    assert response.status_code == 200
    assert "human agent" in response.content.decode() or "Replies are closed" in (
        response.content.decode()
    )
    assert list_poll(logged_in, listed).status_code == 200


def test_labels_carry_the_moment_the_window_closes_for_the_browser_to_tick(logged_in, conversation):
    html = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    closes = (conversation.last_customer_message_at + timedelta(hours=24)).isoformat()
    assert f'data-win="open" data-closes-at="{closes}"' in html


# --- when the bumps run ----------------------------------------------------------------------
def test_bumps_run_after_the_commit_and_a_rollback_bumps_nothing(
    conversation, settings, django_capture_on_commit_callbacks
):
    settings.INBOX_LIVE_BUMP_AT_ONCE = False
    before = stamps(conversation)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        live.live_touch(account_id=conversation.account_id, conversation_id=conversation.pk)
        assert stamps(conversation) == before  # not yet: nothing is locked meanwhile
    assert stamps(conversation) == (before[0] + 1, before[1] + 1)

    def touch_then_fail() -> None:
        with transaction.atomic():
            live.live_touch(account_id=conversation.account_id, conversation_id=conversation.pk)
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        touch_then_fail()
    assert stamps(conversation) == (before[0] + 1, before[1] + 1)


def test_a_transactions_touches_are_bumped_in_two_statements(
    account, settings, django_capture_on_commit_callbacks
):
    conversations = ConversationFactory.create_batch(10, account=account)
    before = {c.pk: stamps(c)[0] for c in conversations}
    settings.INBOX_LIVE_BUMP_AT_ONCE = False
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for c in conversations:
            live.live_touch(account_id=account.pk, conversation_id=c.pk)
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()
    # The conversations' counters in one round trip, then the account's; the other
    # callbacks find nothing left to do.
    assert len(queries) == 2
    assert {c.pk: stamps(c)[0] for c in conversations} == {k: v + 1 for k, v in before.items()}


def test_a_version_holds_for_the_same_filters_in_another_order(logged_in, account):
    ConversationFactory(account=account, customer_name="Ana")
    version = list_version(logged_in, status="open", box="all")
    assert logged_in.get(f"/?box=all&status=open&fragment=rows&v={version}").status_code == 204


def test_a_rolled_back_touch_is_not_bumped_with_the_next_commit(
    account, settings, django_capture_on_commit_callbacks
):
    rolled_back, committed = ConversationFactory.create_batch(2, account=account)
    before = stamps(rolled_back)[0], stamps(committed)[0]
    settings.INBOX_LIVE_BUMP_AT_ONCE = False

    def touch_then_fail() -> None:
        with transaction.atomic():
            live.live_touch(account_id=account.pk, conversation_id=rolled_back.pk)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        touch_then_fail()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        live.live_touch(account_id=account.pk, conversation_id=committed.pk)
    assert (stamps(rolled_back)[0], stamps(committed)[0]) == (before[0], before[1] + 1)


def test_reading_a_conversation_already_read_leaves_the_list_version(
    logged_in, agent, conversation
):
    conversation.last_inbound_received_at = timezone.now() - timedelta(minutes=5)
    conversation.save()
    work.conversation_mark_read(conversation=conversation, user=agent)
    version = list_version(logged_in)
    # An open thread's every rendering poll marks it read again: the list has nothing new.
    work.conversation_mark_read(conversation=conversation, user=agent)
    assert list_poll(logged_in, version).status_code == 204
    conversation.last_inbound_received_at = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_received_at=conversation.last_inbound_received_at
    )
    version = list_version(logged_in)  # unread again (a bump of its own, here by hand)
    work.conversation_mark_read(conversation=conversation, user=agent)
    assert list_poll(logged_in, version).status_code == 200


def test_the_page_hands_a_list_version_its_first_poll_holds(logged_in, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_received_at=timezone.now() - timedelta(minutes=1)
    )
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    version = re.search(r'id="conv-list"[^>]*data-v="([0-9a-f]+)"', page)[1]
    assert list_poll(logged_in, version, current=conversation.pk).status_code == 204
