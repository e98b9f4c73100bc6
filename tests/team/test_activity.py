"""The activity log: assignments and status changes recorded (who, what, when), shown in
the thread as small lines, browsable read-only by managers; `activity_record` for the
rest (labels, snoozes)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import Conversation
from team.models import ActivityEvent, ActivityKind, Mention, Note, SavedReply
from team.services import activity_record, note_create
from tests.factories import AccountFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def lines(html):
    return re.findall(r'<p class="activity-line"[^>]*><span>([^<]*)</span>', html)


def test_assignment_and_status_changes_are_recorded_and_shown(
    logged_in, agent, colleague, conversation
):
    url = f"/c/{conversation.pk}"
    logged_in.post(f"{url}/assign/", {"assignee": colleague.pk})
    logged_in.post(f"{url}/assign/", {"assignee": colleague.pk})  # no change: no line
    logged_in.post(f"{url}/assign/", {"assignee": ""})
    logged_in.post(f"{url}/assign/", {"assignee": agent.pk})
    logged_in.post(f"{url}/status/", {"status": "closed"})
    logged_in.post(f"{url}/status/", {"status": "open"})
    events = list(ActivityEvent.objects.order_by("created_at", "id"))
    assert [(e.kind, e.actor, e.detail) for e in events] == [
        ("assigned", agent, "bob"),
        ("unassigned", agent, ""),
        ("assigned", agent, "alice"),
        ("closed", agent, ""),
        ("reopened", agent, ""),
    ]
    assert {e.account for e in events} == {conversation.account}
    html = logged_in.get(f"{url}/").content.decode()
    assert lines(html) == [
        "alice assigned this to bob",
        "alice unassigned this",
        "alice assigned this to themselves",
        "alice resolved this",
        "alice reopened this",
    ]


def test_a_note_is_logged_but_shown_once(logged_in, agent, colleague, conversation):
    logged_in.post(f"/c/{conversation.pk}/", {"note": "for @bob", "mode": "note"})
    event = ActivityEvent.objects.get()
    assert (event.kind, event.actor, event.detail) == ("note_added", agent, "@bob")
    html = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert lines(html) == []
    assert html.count('class="internal-note"') == 1


def test_labels_and_snoozes_are_recorded_through_the_one_entry_point(
    logged_in, agent, conversation
):
    activity_record(
        conversation=conversation, actor=agent, kind=ActivityKind.LABEL_ADDED, detail="vip"
    )
    activity_record(
        conversation=conversation, actor=agent, kind=ActivityKind.SNOOZED, detail="Mon 09:00"
    )
    activity_record(
        conversation=conversation,
        actor=None,
        kind=ActivityKind.UNSNOOZED,
        detail="the customer wrote",
    )
    html = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert lines(html) == [
        "alice added the label vip",
        "alice snoozed this until Mon 09:00",
        "The snooze ended: the customer wrote",
    ]
    assert ActivityEvent.objects.filter(actor__isnull=True).count() == 1


def test_activity_lines_sit_between_messages_by_time(logged_in, agent, conversation, time_machine):
    start = conversation.created_at
    MessageFactory(conversation=conversation, text="before", timestamp=start)
    time_machine.move_to(start + timedelta(hours=1))
    logged_in.post(f"/c/{conversation.pk}/status/", {"status": "closed"})
    MessageFactory(conversation=conversation, text="after", timestamp=start + timedelta(hours=2))
    time_machine.move_to(start + timedelta(hours=3))
    html = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert html.index("before") < html.index("alice resolved this") < html.index("after")


def test_a_status_change_moves_the_live_version_on(logged_in, conversation):
    first = logged_in.get(f"/c/{conversation.pk}/updates/", {"v": "x"}).content.decode()
    version = re.search(r'class="thread-update" data-v="([^"]+)"', first)[1]
    logged_in.post(f"/c/{conversation.pk}/status/", {"status": "closed"})
    update = logged_in.get(f"/c/{conversation.pk}/updates/", {"v": version})
    assert update.status_code == 200
    assert "alice resolved this" in update.content.decode()


@pytest.fixture
def log(agent, colleague, conversation):
    other = ConversationFactory(account=AccountFactory(username="othershop"))
    activity_record(conversation=conversation, actor=agent, kind=ActivityKind.CLOSED)
    activity_record(conversation=other, actor=colleague, kind=ActivityKind.REOPENED)
    return conversation, other


def test_managers_browse_the_log_filtered_by_agent_and_account(client, manager, agent, log):
    _, other = log
    client.force_login(manager)

    def kinds(query=""):
        html = client.get(f"/admin/team/activityevent/{query}").content.decode()
        return re.findall(r'<td class="field-kind">([^<]*)</td>', html)

    assert sorted(kinds()) == ["Closed", "Reopened"]
    assert kinds(f"?actor__id__exact={agent.pk}") == ["Closed"]
    assert kinds(f"?account__id__exact={other.account_id}") == ["Reopened"]


def test_nobody_changes_the_log(client, manager, admin_user, log):
    event = ActivityEvent.objects.first()
    for user in (manager, admin_user):
        client.force_login(user)
        change = f"/admin/team/activityevent/{event.pk}/change/"
        assert client.post(change, {"detail": "forged"}).status_code == 403
        assert client.get("/admin/team/activityevent/add/").status_code == 403
        assert client.get(f"/admin/team/activityevent/{event.pk}/delete/").status_code == 403
    event.refresh_from_db()
    assert event.detail == ""


def test_managers_read_notes_in_admin_and_change_nothing(client, manager, agent, conversation):
    note = note_create(conversation=conversation, author=agent, text="admin can read")
    client.force_login(manager)
    assert "admin can read" in client.get("/admin/team/note/").content.decode()
    response = client.post(f"/admin/team/note/{note.pk}/change/", {"text": "changed"})
    assert response.status_code == 403


def test_an_agent_is_refused_the_log(client, agent, log):
    client.force_login(agent)
    assert client.get("/admin/team/activityevent/").status_code == 302


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_thread_and_list_cost_the_same_with_notes_mentions_and_activity(
    logged_in, agent, colleague, conversation
):
    MessageFactory(conversation=conversation)
    # One unread mention here and one elsewhere: opening the thread reads the first.
    note_create(conversation=conversation, author=colleague, text="@alice first")
    elsewhere = ConversationFactory(account=conversation.account)
    note_create(conversation=elsewhere, author=colleague, text="@alice elsewhere")
    thread, inbox = f"/c/{conversation.pk}/", "/"
    _queries(logged_in, thread)  # the agent's first read makes the row of their change stamp
    few = (_queries(logged_in, thread), _queries(logged_in, inbox))
    for i in range(15):
        MessageFactory(conversation=conversation)
        note_create(conversation=conversation, author=colleague, text=f"@alice look {i}")
        activity_record(conversation=conversation, actor=colleague, kind=ActivityKind.CLOSED)
        activity_record(conversation=conversation, actor=agent, kind=ActivityKind.REOPENED)
        SavedReply.objects.create(title=f"Reply {i}", shortcut=f"r{i}", text="Hi {first_name}")
    for other in ConversationFactory.create_batch(5, account=conversation.account):
        note_create(conversation=other, author=colleague, text="@alice and another")
    assert Mention.objects.filter(user=agent).count() == 22
    # The thread reads its 15 new mentions this time: one statement more moves the agent's
    # change stamp, so their other tabs' Mentions count follows.
    assert (_queries(logged_in, inbox), _queries(logged_in, thread)) == (few[1], few[0] + 1)
    assert Note.objects.count() == 22
    assert Conversation.objects.count() == 7


def test_opening_a_thread_without_unread_mentions_costs_two_queries_less(
    logged_in, colleague, conversation
):
    thread = f"/c/{conversation.pk}/"
    _queries(logged_in, thread)  # the agent's first read makes the row of their change stamp
    none = _queries(logged_in, thread)
    note_create(conversation=conversation, author=colleague, text="@alice look")
    assert _queries(logged_in, thread) == none + 2  # its mention read, the agent's stamp moved
    assert 'class="mentions-count"' not in logged_in.get(thread).content.decode()


def test_a_thread_page_counts_the_mentions_left_elsewhere(logged_in, colleague, conversation):
    note_create(conversation=conversation, author=colleague, text="@alice here")
    elsewhere = ConversationFactory(account=conversation.account)
    note_create(conversation=elsewhere, author=colleague, text="@alice there")
    html = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert re.search(r'class="mentions-count"[^>]*>1<', html)
