"""Snooze: presets in the agent's time zone and a custom time, the Snoozed tab, waking on
time (beat) or when the customer writes (unread), the reply-window warning, bad input."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from accounts.models import InstagramAccount
from inbox.models import Conversation, ConversationReadState
from inbox.services.conversations import conversation_record_message
from inbox.services.snooze import (
    conversation_snooze,
    conversation_unsnooze,
    conversations_wake_due,
)
from inbox.services.work import conversation_mark_read
from inbox.tasks import conversations_wake_task
from team.models import ActivityEvent
from team.presenters import activity_label
from tests.factories import AccountFactory, ConversationFactory, MessageFactory
from tests.webhooks import CUSTOMER, IG_ID, webhook_fixture

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# A Wednesday, 15:00 UTC: 10:00 in New York, 17:00 in Paris.
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def conversation(account):
    return ConversationFactory(
        account=account,
        customer_name="Snoozy Customer",
        last_customer_message_at=NOW - timedelta(hours=1),
        last_inbound_received_at=NOW - timedelta(hours=1),
        last_message_at=NOW - timedelta(hours=1),
    )


def _snoozed_until(conversation):
    conversation.refresh_from_db()
    return conversation.snoozed_until


def test_an_hour_from_now(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/snooze/", {"preset": "hour"})
    assert response.status_code == 302
    assert _snoozed_until(conversation) == NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("tz", "preset", "expected"),
    [
        # Tomorrow 9:00 in New York (UTC-5 in March before DST) is 14:00 UTC.
        ("America/New_York", "tomorrow", datetime(2026, 3, 5, 14, 0, tzinfo=UTC)),
        ("Europe/Paris", "tomorrow", datetime(2026, 3, 5, 8, 0, tzinfo=UTC)),
        # Next Monday 9:00 in Paris: 9 March, 08:00 UTC.
        ("Europe/Paris", "monday", datetime(2026, 3, 9, 8, 0, tzinfo=UTC)),
    ],
)
def test_presets_are_in_the_agents_time_zone(logged_in, conversation, tz, preset, expected):
    logged_in.post(f"/c/{conversation.pk}/snooze/", {"preset": preset, "tz": tz})
    assert _snoozed_until(conversation) == expected


def test_the_time_zone_comes_from_the_cookie_when_the_form_has_none(logged_in, conversation):
    logged_in.cookies["tz"] = "Asia/Tokyo"
    logged_in.post(f"/c/{conversation.pk}/snooze/", {"preset": "tomorrow"})
    # 15:00 UTC is midnight in Tokyo (5 March): tomorrow 9:00 there is 6 March 00:00 UTC.
    assert _snoozed_until(conversation) == datetime(2026, 3, 6, 0, 0, tzinfo=UTC)


def test_a_custom_time_is_the_agents_local_time(logged_in, conversation):
    logged_in.post(
        f"/c/{conversation.pk}/snooze/", {"until": "2026-03-04T18:30", "tz": "Europe/Paris"}
    )
    assert _snoozed_until(conversation) == datetime(2026, 3, 4, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"until": "2026-03-04T15:30", "tz": "Europe/Paris"}, "That time has passed"),
        ({"until": "yesterday"}, "Enter a date and time"),
        ({}, "Choose how long to snooze"),
        ({"preset": "forever"}, "Unknown snooze choice."),
        ({"until": "2029-01-01T09:00"}, "Snooze for a year at most."),
    ],
)
def test_bad_snooze_input_is_refused_and_saves_nothing(logged_in, conversation, data, error):
    response = logged_in.post(f"/c/{conversation.pk}/snooze/", data, headers=HTMX)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert _snoozed_until(conversation) is None


def test_an_unknown_time_zone_falls_back_to_the_servers(logged_in, conversation):
    response = logged_in.post(
        f"/c/{conversation.pk}/snooze/", {"preset": "hour", "tz": "Mars/Olympus"}
    )
    assert response.status_code == 302
    assert _snoozed_until(conversation) == NOW + timedelta(hours=1)


def test_a_snoozed_conversation_leaves_open_for_the_snoozed_tab(logged_in, conversation):
    logged_in.post(f"/c/{conversation.pk}/snooze/", {"preset": "hour"})
    assert "Snoozy Customer" not in logged_in.get("/").content.decode()
    snoozed = logged_in.get("/?status=snoozed").content.decode()
    assert "Snoozy Customer" in snoozed
    assert "pill-snoozed" in snoozed
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert "Snoozed until" in page
    assert "Wake now" in page


def test_wake_now(logged_in, conversation, agent):
    conversation_snooze(conversation=conversation, until=NOW + timedelta(hours=2), actor=agent)
    logged_in.post(f"/c/{conversation.pk}/snooze/", {"wake": "1"})
    assert _snoozed_until(conversation) is None
    assert "Snoozy Customer" in logged_in.get("/").content.decode()


def test_it_wakes_on_time_unread(frozen, logged_in, conversation, agent):
    conversation_mark_read(conversation=conversation, user=agent)
    conversation_snooze(conversation=conversation, until=NOW + timedelta(hours=1), actor=agent)
    assert conversations_wake_due() == []
    frozen.move_to(NOW + timedelta(hours=1), tick=False)
    conversations_wake_task()
    assert _snoozed_until(conversation) is None
    assert not ConversationReadState.objects.filter(conversation=conversation).exists()
    page = logged_in.get("/").content.decode()
    assert "Snoozy Customer" in page
    assert "is-unread" in page


def test_it_wakes_when_the_customer_writes(frozen, logged_in, conversation, agent):
    conversation_mark_read(conversation=conversation, user=agent)
    conversation_snooze(conversation=conversation, until=NOW + timedelta(days=3), actor=agent)
    frozen.move_to(NOW + timedelta(minutes=5), tick=False)
    later = NOW + timedelta(minutes=5)
    conversation_record_message(message=MessageFactory(conversation=conversation, timestamp=later))
    assert _snoozed_until(conversation) is None
    page = logged_in.get("/").content.decode()
    assert "Snoozy Customer" in page
    assert "is-unread" in page


def test_it_wakes_when_the_customer_writes_through_the_webhook(deliver, agent, fake_meta):
    account = InstagramAccount.objects.filter(ig_id=IG_ID).first() or AccountFactory(ig_id=IG_ID)
    conversation = ConversationFactory(account=account, customer_igsid=CUSTOMER)
    conversation_snooze(conversation=conversation, until=NOW + timedelta(days=3), actor=agent)
    deliver(webhook_fixture("message_text"))
    assert conversation.messages.count() == 1
    assert _snoozed_until(conversation) is None


def test_snoozing_past_the_window_warns(logged_in, conversation):
    # The customer wrote an hour ago: the 24 hours end before next Monday.
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert "replies will need the human agent tag" in page
    response = logged_in.post(f"/c/{conversation.pk}/snooze/", {"preset": "monday"}, follow=True)
    assert "The 24-hour reply window closes before then" in response.content.decode()


def test_snoozing_past_the_human_agent_window_warns_that_replies_are_impossible(
    logged_in, conversation
):
    conversation.account.human_agent_enabled = False
    conversation.account.save()
    response = logged_in.post(f"/c/{conversation.pk}/snooze/", {"preset": "monday"}, follow=True)
    assert "no reply can be sent until the customer writes again" in response.content.decode()


def test_a_short_snooze_inside_the_window_has_no_warning(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/snooze/", {"preset": "hour"}, follow=True)
    notes = re.findall(r'<li class="flash-success">([^<]*)</li>', response.content.decode())
    assert notes == [
        "Snoozed until Wed 04 Mar, 16:00. It comes back sooner if the customer writes."
    ]


def test_closing_ends_a_snooze_and_snoozing_a_closed_conversation_opens_it(
    logged_in, conversation, agent
):
    conversation_snooze(conversation=conversation, until=NOW + timedelta(hours=2), actor=agent)
    logged_in.post(f"/c/{conversation.pk}/status/", {"status": "closed"})
    assert _snoozed_until(conversation) is None
    logged_in.post(f"/c/{conversation.pk}/snooze/", {"preset": "hour"})
    assert _snoozed_until(conversation) == NOW + timedelta(hours=1)
    assert conversation.status == Conversation.Status.OPEN


def test_another_accounts_conversation_is_404(logged_in):
    theirs = ConversationFactory(account=AccountFactory())
    assert logged_in.post(f"/c/{theirs.pk}/snooze/", {"preset": "hour"}).status_code == 404
    assert logged_in.post(f"/c/{theirs.pk}/snooze/", {"wake": "1"}).status_code == 404
    assert _snoozed_until(theirs) is None


def test_the_snooze_form_needs_csrf_and_post(agent, logged_in, conversation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.post(f"/c/{conversation.pk}/snooze/", {"preset": "hour"}).status_code == 403
    assert logged_in.get(f"/c/{conversation.pk}/snooze/").status_code == 405
    assert _snoozed_until(conversation) is None


def test_snoozing_and_waking_are_lines_in_the_activity_log(frozen, conversation, agent):
    until = NOW + timedelta(hours=3)
    conversation_snooze(conversation=conversation, until=until, actor=agent)
    conversation_unsnooze(conversation=conversation, actor=agent)
    conversation_unsnooze(conversation=conversation, actor=agent)  # awake already: no line
    conversation_snooze(conversation=conversation, until=until, actor=agent)
    frozen.move_to(until + timedelta(seconds=1), tick=False)
    assert conversations_wake_due() == [conversation.pk]

    events = ActivityEvent.objects.filter(conversation=conversation).order_by("created_at", "id")
    assert [(e.kind, e.actor) for e in events] == [
        ("snoozed", agent),
        ("unsnoozed", agent),
        ("snoozed", agent),
        ("unsnoozed", None),
    ]
    assert [activity_label(e) for e in events][1:] == [
        f"{agent.get_username()} ended the snooze",
        activity_label(events[2]),
        "The snooze ended",
    ]


def test_snoozing_a_resolved_conversation_opens_it_for_the_reports_too(conversation, agent):
    from reports.models import StatusChange

    conversation.status = Conversation.Status.CLOSED
    conversation.save()

    conversation_snooze(conversation=conversation, until=NOW + timedelta(hours=1), actor=agent)

    change = StatusChange.objects.get(conversation=conversation)
    assert (change.status, change.actor) == ("open", agent)


def test_the_customer_writing_is_a_line_in_the_activity_log(deliver, agent, fake_meta):
    account = InstagramAccount.objects.filter(ig_id=IG_ID).first() or AccountFactory(ig_id=IG_ID)
    conversation = ConversationFactory(
        account=account, customer_igsid=CUSTOMER, status=Conversation.Status.CLOSED
    )
    conversation_snooze(conversation=conversation, until=NOW + timedelta(days=3), actor=agent)
    conversation.status = Conversation.Status.CLOSED  # resolved again, the snooze kept
    conversation.save()

    deliver(webhook_fixture("message_text"))
    deliver(webhook_fixture("message_text"))  # a redelivery: nothing more

    events = ActivityEvent.objects.filter(conversation=conversation, actor=None)
    assert sorted(activity_label(e) for e in events) == [
        "Reopened: the customer wrote",
        "The snooze ended: the customer wrote",
    ]
