"""Reply-window urgency, auto-assignment, presence and collisions, close and go on."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AgentPresence, InstagramAccount
from inbox.models import Conversation, Message
from inbox.presenters import reply_state_present, thread_version
from inbox.services.assignment import conversation_auto_assign
from inbox.services.presence import agent_seen, presence_memo_clear
from team.models import ActivityEvent
from team.presenters import activity_label
from tests.factories import AccountFactory, ConversationFactory, MessageFactory, UserFactory
from tests.webhooks import CUSTOMER, IG_ID, OTHER_CUSTOMER, message_item, webhook_body

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    cache.clear()
    return time_machine


@pytest.fixture
def colleague(account):
    user = UserFactory(username="bob", first_name="Bob")
    account.members.add(user)
    return user


def _waiting(account, name, hours_ago, replied=False):
    wrote = NOW - timedelta(hours=hours_ago)
    return ConversationFactory(
        account=account,
        customer_name=name,
        last_customer_message_at=wrote,
        last_inbound_received_at=wrote,
        last_message_at=wrote + timedelta(minutes=5) if replied else wrote,
    )


# --- reply window ending ------------------------------------------------------------------
def test_the_window_ending_view_lists_waiting_conversations_soonest_first(logged_in, account):
    _waiting(account, "Ends In Ninety", 22.5)
    _waiting(account, "Ends In Ten", 23 + 50 / 60)
    _waiting(account, "Plenty Of Time", 5)
    _waiting(account, "Already Closed", 25)
    _waiting(account, "Answered Already", 23, replied=True)
    _waiting(AccountFactory(), "Other Account", 23)
    page = logged_in.get("/?window=ending").content.decode()
    names = re.findall(r'<span class="row-name"><bdi>([^<]+)</bdi>', page)
    assert names == ["Ends In Ten", "Ends In Ninety"]


def test_the_window_ending_view_pages_forwards(logged_in, account, monkeypatch):
    for minutes in range(5):
        _waiting(account, f"Customer {minutes}", 22 + (minutes + 1) / 60)
    monkeypatch.setattr("inbox.presenters.conversation_list_page", _sized(2))
    first = logged_in.get("/?window=ending").context["page"]
    assert [c.customer_name for c in first.conversations] == ["Customer 4", "Customer 3"]
    second = logged_in.get("/", {"window": "ending", "older": first.older_cursor}).context["page"]
    assert [c.customer_name for c in second.conversations] == ["Customer 2", "Customer 1"]


def _sized(size):
    from inbox.selectors import conversation_list_page

    def page(**kwargs):
        return conversation_list_page(size=size, **kwargs)

    return page


def test_the_chip_toggles_the_view(logged_in, account):
    page = logged_in.get("/").content.decode()
    assert 'href="?window=ending"' in page
    assert 'href="?"' in logged_in.get("/?window=ending").content.decode()


# --- auto-assignment ----------------------------------------------------------------------
@pytest.fixture
def team(account):
    account.auto_assign = True
    account.auto_assign_limit = 2
    account.save()
    agents = [UserFactory(username=name) for name in ("ann", "ben", "cat")]
    account.members.add(*agents)
    for user in agents:
        AgentPresence.objects.create(user=user, seen_at=NOW - timedelta(minutes=1))
    return agents


def test_auto_assignment_is_off_by_default(account, team):
    assert InstagramAccount._meta.get_field("auto_assign").default is False
    account.auto_assign = False
    conversation = ConversationFactory(account=account)
    assert conversation_auto_assign(conversation_id=conversation.pk, account=account) is None


def test_it_goes_round_robin_among_online_agents_up_to_the_limit(account, team):
    ann, ben, cat = team
    cat_presence = AgentPresence.objects.get(user=cat)
    cat_presence.seen_at = NOW - timedelta(minutes=30)  # offline
    cat_presence.save()
    given = [
        conversation_auto_assign(
            conversation_id=ConversationFactory(account=account).pk, account=account
        )
        for _ in range(5)
    ]
    assert given == [ann.pk, ben.pk, ann.pk, ben.pk, None]  # limit 2 each; cat is away
    assert Conversation.objects.filter(assignee__isnull=True).count() == 1


def test_an_assigned_or_closed_conversation_is_left_alone(account, team):
    mine = ConversationFactory(account=account, assignee=team[2])
    closed = ConversationFactory(account=account, status=Conversation.Status.CLOSED)
    assert conversation_auto_assign(conversation_id=mine.pk, account=account) is None
    assert conversation_auto_assign(conversation_id=closed.pk, account=account) is None


def test_a_new_conversation_from_a_webhook_is_auto_assigned(deliver, fake_meta):
    account = InstagramAccount.objects.filter(ig_id=IG_ID).first() or AccountFactory(ig_id=IG_ID)
    account.auto_assign = True
    account.save()
    ann = UserFactory(username="ann")
    account.members.add(ann)
    AgentPresence.objects.create(user=ann, seen_at=NOW)
    deliver(webhook_body(message_item("mid-new-1", "hello")))
    assert Conversation.objects.get(customer_igsid=CUSTOMER).assignee == ann


def test_a_reopened_conversation_is_auto_assigned_and_an_open_one_is_not(deliver, fake_meta):
    account = InstagramAccount.objects.filter(ig_id=IG_ID).first() or AccountFactory(ig_id=IG_ID)
    account.auto_assign = True
    account.save()
    ann = UserFactory(username="ann")
    account.members.add(ann)
    AgentPresence.objects.create(user=ann, seen_at=NOW)
    closed = ConversationFactory(
        account=account, customer_igsid=CUSTOMER, status=Conversation.Status.CLOSED
    )
    still_open = ConversationFactory(account=account, customer_igsid=OTHER_CUSTOMER)
    deliver(webhook_body(message_item("mid-a", "back again")))
    deliver(webhook_body(message_item("mid-b", "still here", sender=OTHER_CUSTOMER)))
    closed.refresh_from_db()
    still_open.refresh_from_db()
    assert closed.status == Conversation.Status.OPEN
    assert closed.assignee == ann
    assert still_open.assignee is None  # unassigned on purpose stays so


def test_a_first_contact_by_postback_is_auto_assigned(deliver, fake_meta):
    """A postback is stored one item at a time (not with a group of plain messages)."""
    from tests.webhooks import webhook_fixture

    account = InstagramAccount.objects.filter(ig_id=IG_ID).first() or AccountFactory(ig_id=IG_ID)
    account.auto_assign = True
    account.save()
    ann = UserFactory(username="ann")
    account.members.add(ann)
    AgentPresence.objects.create(user=ann, seen_at=timezone.now())
    deliver(webhook_fixture("postback_ad_first_contact"))
    conversation = Conversation.objects.get(account=account)
    assert conversation.messages.get().kind == Message.Kind.POSTBACK
    assert conversation.assignee == ann


def test_the_live_polls_say_an_agent_is_online_once_a_minute(logged_in, agent, account, frozen):
    conversation = ConversationFactory(account=account)
    logged_in.get("/", {"fragment": "rows"}, headers={"X-Inbox-Poll": "1"})
    assert AgentPresence.objects.get(user=agent).seen_at == NOW
    frozen.move_to(NOW + timedelta(seconds=30), tick=False)
    logged_in.get(f"/c/{conversation.pk}/updates/")
    assert AgentPresence.objects.get(user=agent).seen_at == NOW  # not again within the minute
    frozen.move_to(NOW + timedelta(seconds=61), tick=False)
    cache.clear()  # Redis keeps its own time
    logged_in.get(f"/c/{conversation.pk}/updates/")
    assert AgentPresence.objects.get(user=agent).seen_at == NOW + timedelta(seconds=61)


def test_another_process_marks_an_agent_online_only_if_the_cache_says_it_is_due(agent, frozen):
    assert agent_seen(user_id=agent.pk) is True
    presence_memo_clear()  # as in another web process
    assert agent_seen(user_id=agent.pk) is False  # the shared cache: written a moment ago
    cache.clear()
    presence_memo_clear()
    frozen.move_to(NOW + timedelta(seconds=5), tick=False)
    assert agent_seen(user_id=agent.pk) is True
    assert AgentPresence.objects.get(user=agent).seen_at == NOW + timedelta(seconds=5)


def test_a_page_load_writes_no_presence(logged_in, agent):
    logged_in.get("/")
    assert not AgentPresence.objects.exists()
    assert agent_seen(user_id=agent.pk) is True
    assert agent_seen(user_id=agent.pk) is False


# --- presence and typing ------------------------------------------------------------------
def _presence(response):
    return json.loads(response["X-Inbox-Presence"])


def test_the_thread_poll_carries_who_else_is_here_and_typing(client, agent, colleague, account):
    conversation = ConversationFactory(account=account)
    url = f"/c/{conversation.pk}/updates/"
    client.force_login(agent)
    assert _presence(client.get(url)) == []
    client.force_login(colleague)
    answer = client.get(url, {"typing": "1"})
    assert _presence(answer) == [{"name": "alice", "typing": False}]
    client.force_login(agent)
    version = client.get(url)["X-Inbox-Presence"]
    assert json.loads(version) == [{"name": "Bob", "typing": True}]
    # A 204 (nothing changed in the thread) carries it too.
    page = client.get(f"/c/{conversation.pk}/").content.decode()
    v = re.search(r'id="thread"[^>]*data-v="([^"]+)"', page, re.S).group(1)
    unchanged = client.get(url, {"v": v})
    assert unchanged.status_code == 204
    assert _presence(unchanged) == [{"name": "Bob", "typing": True}]


def test_presence_fades_when_a_colleague_leaves(client, agent, colleague, account, frozen):
    conversation = ConversationFactory(account=account)
    url = f"/c/{conversation.pk}/updates/"
    client.force_login(colleague)
    client.get(url, {"typing": "1"})
    frozen.move_to(NOW + timedelta(seconds=8), tick=False)
    client.force_login(agent)
    assert _presence(client.get(url)) == [{"name": "Bob", "typing": False}]
    frozen.move_to(NOW + timedelta(seconds=30), tick=False)
    assert _presence(client.get(url)) == []


def test_presence_is_never_shown_for_another_accounts_conversation(logged_in):
    theirs = ConversationFactory(account=AccountFactory())
    response = logged_in.get(f"/c/{theirs.pk}/updates/")
    assert response.status_code == 404
    assert "X-Inbox-Presence" not in response


def test_presence_changes_neither_the_thread_version_nor_its_query_count(
    client, agent, colleague, account
):
    conversation = ConversationFactory(account=account)
    MessageFactory(conversation=conversation)
    url = f"/c/{conversation.pk}/updates/"
    client.force_login(agent)
    agent_seen(user_id=agent.pk)  # the once-a-minute write is out of the way

    def poll(**params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        return response, len(queries)

    _, alone = poll()
    client.force_login(colleague)
    agent_seen(user_id=colleague.pk)
    client.get(url, {"typing": "1"})
    client.force_login(agent)
    response, together = poll(typing="1")
    assert _presence(response) == [{"name": "Bob", "typing": True}]
    assert together == alone
    fresh = Conversation.objects.select_related("account").get(pk=conversation.pk)
    state = reply_state_present(conversation=fresh)
    assert (
        client.get(url, {"v": thread_version(conversation=fresh, reply_state=state)}).status_code
        == 204
    )


def test_names_in_the_presence_header_stay_ascii(client, agent, account):
    other = UserFactory(username="zoë", first_name="Zoë")
    account.members.add(other)
    conversation = ConversationFactory(account=account)
    client.force_login(other)
    client.get(f"/c/{conversation.pk}/updates/")
    client.force_login(agent)
    raw = client.get(f"/c/{conversation.pk}/updates/")["X-Inbox-Presence"]
    assert raw.isascii()
    assert json.loads(raw) == [{"name": "Zoë", "typing": False}]


# --- collisions -----------------------------------------------------------------------------
def test_assign_to_me_on_a_colleagues_conversation_asks_first(logged_in, agent, colleague, account):
    conversation = ConversationFactory(account=account, assignee=colleague)
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert 'hx-confirm="Bob is assigned to this conversation. Take it from them?"' in page
    response = logged_in.post(f"/c/{conversation.pk}/assign/", {"assignee": agent.pk})
    assert response.status_code == 200
    assert "Take this conversation from Bob?" in response.content.decode()
    assert 'name="confirmed" value="1"' in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    logged_in.post(f"/c/{conversation.pk}/assign/", {"assignee": agent.pk, "confirmed": "1"})
    conversation.refresh_from_db()
    assert conversation.assignee == agent


def test_choosing_me_in_the_select_on_a_colleagues_conversation_asks_in_place(
    logged_in, agent, colleague, account
):
    conversation = ConversationFactory(account=account, assignee=colleague)
    response = logged_in.post(f"/c/{conversation.pk}/assign/", {"assignee": agent.pk}, headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<bdi>Bob</bdi> is assigned to this conversation. Take it from them?" in body
    assert "<html" not in body
    conversation.refresh_from_db()
    assert conversation.assignee == colleague


def test_the_tab_title_carries_the_unread_count_on_a_thread(logged_in, account):
    first, _unread = ConversationFactory.create_batch(2, account=account)
    assert "<title>(1) " in logged_in.get(f"/c/{first.pk}/").content.decode()


def test_assign_to_me_on_an_unassigned_conversation_asks_nothing(logged_in, agent, account):
    conversation = ConversationFactory(account=account)
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert "hx-confirm" not in page
    logged_in.post(f"/c/{conversation.pk}/assign/", {"assignee": agent.pk})
    conversation.refresh_from_db()
    assert conversation.assignee == agent


def test_sending_into_a_colleagues_conversation_confirms_once(
    logged_in, colleague, account, fake_meta
):
    conversation = ConversationFactory(account=account, assignee=colleague)
    url = f"/c/{conversation.pk}/"
    refused = logged_in.post(url, {"text": "Hello there"}, headers=HTMX)
    assert refused.status_code == 422
    body = refused.content.decode()
    assert "Bob is assigned to this conversation. Send anyway?" in body
    assert 'name="colleague_ok" value="1"' in body
    assert not Message.objects.exists()
    plain = logged_in.post(url, {"text": "Hello there"})
    assert plain.status_code == 422
    assert "Hello there</textarea>" in plain.content.decode()  # the draft stays
    assert (
        logged_in.post(url, {"text": "Hello there", "colleague_ok": "1"}, headers=HTMX).status_code
        == 204
    )
    assert logged_in.post(url, {"text": "And again"}, headers=HTMX).status_code == 204
    assert Message.objects.count() == 2


def test_sending_into_my_own_or_an_unassigned_conversation_asks_nothing(
    logged_in, agent, account, fake_meta
):
    for assignee in (agent, None):
        conversation = ConversationFactory(account=account, assignee=assignee)
        response = logged_in.post(f"/c/{conversation.pk}/", {"text": "Hi"}, headers=HTMX)
        assert response.status_code == 204


# --- close and go on ---------------------------------------------------------------------------
def test_closing_goes_to_the_next_open_conversation(logged_in, account):
    top, middle, bottom = (
        ConversationFactory(account=account, last_message_at=NOW - timedelta(minutes=m))
        for m in (1, 2, 3)
    )
    response = logged_in.post(
        f"/c/{middle.pk}/status/", {"status": "closed", "list_query": "box=all"}
    )
    assert response["Location"] == f"/c/{bottom.pk}/?box=all"
    response = logged_in.post(f"/c/{bottom.pk}/status/", {"status": "closed"}, headers=HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/c/{top.pk}/"
    response = logged_in.post(f"/c/{top.pk}/status/", {"status": "closed"})
    assert response["Location"] == "/"
    assert "Resolved. The customer" in logged_in.get("/").content.decode()


def test_closing_follows_the_agents_filters(logged_in, agent, account):
    mine = ConversationFactory(account=account, assignee=agent, last_message_at=NOW)
    ConversationFactory(account=account, last_message_at=NOW - timedelta(minutes=1))
    later_mine = ConversationFactory(
        account=account, assignee=agent, last_message_at=NOW - timedelta(minutes=2)
    )
    response = logged_in.post(
        f"/c/{mine.pk}/status/", {"status": "closed", "list_query": "box=mine"}
    )
    assert response["Location"] == f"/c/{later_mine.pk}/?box=mine"


def test_the_shortcuts_are_listed_and_carried_by_their_buttons(logged_in, account):
    conversation = ConversationFactory(account=account)
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert 'data-shortcut="e"' in page
    assert 'data-shortcut="a"' in page
    assert 'data-shortcut="s"' in page
    assert "Resolve the conversation and go to the next one" in page


def test_an_automatic_assignment_is_a_line_in_the_activity_log(account, team):
    conversation = ConversationFactory(account=account)

    chosen = conversation_auto_assign(conversation_id=conversation.pk, account=account)

    event = ActivityEvent.objects.get(conversation=conversation)
    assert (event.kind, event.actor, event.detail) == ("assigned", None, "ann")
    assert chosen == team[0].pk
    assert activity_label(event) == "Inbox assigned this to ann"
