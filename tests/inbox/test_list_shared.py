"""A live list poll that is behind uses the page another agent's poll built at the same shared
stamp (inbox.selectors.conversation_list_page): the same conversations, but each agent's own
unread marks, "Mine" and the highlighted row; a change, another view or other accounts never
get someone else's page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import Conversation
from inbox.services import work
from tests.factories import AccountFactory, ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db


def waiting(account, name, minutes):
    """A conversation whose customer wrote `minutes` ago."""
    at = timezone.now() - timedelta(minutes=minutes)
    conversation = ConversationFactory(account=account, customer_name=name)
    MessageFactory(conversation=conversation, text=f"hello from {name}", timestamp=at)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=at, last_inbound_received_at=at, last_customer_message_at=at
    )
    return conversation


@pytest.fixture
def bob(account):
    user = UserFactory(username="bob")
    account.members.add(user)
    client = Client()
    client.force_login(user)
    return client


def behind(client, **params):
    """A live poll from a version long gone: it renders."""
    return client.get("/", {"fragment": "rows", "v": "0" * 24, **params}, HTTP_X_INBOX_POLL="1")


def list_queries(queries):
    return [q["sql"] for q in queries if "last_reply_status" in q["sql"]]


def unread_row(html, name):
    """Whether the row of `name` is marked unread."""
    row = html[: html.index(name)].rsplit("<a class=", 1)[1]
    return "is-unread" in row


def test_a_colleagues_poll_uses_the_page_built_at_the_same_stamp_with_their_own_unread(
    logged_in, agent, account, bob
):
    ana, _bea = waiting(account, "Ana", 5), waiting(account, "Bea", 10)
    work.conversation_mark_read(conversation=ana, user=agent)
    with CaptureQueriesContext(connection) as first:
        mine = behind(logged_in)
    with CaptureQueriesContext(connection) as second:
        theirs = behind(bob)
    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert len(list_queries(first)) == 1
    assert list_queries(second) == []  # the page built for the first poll
    mine, theirs = mine.content.decode(), theirs.content.decode()
    assert not unread_row(mine, "Ana")  # Alice read it
    assert unread_row(theirs, "Ana")  # Bob has not
    assert unread_row(mine, "Bea")
    assert unread_row(theirs, "Bea")
    assert mine.index("Ana") < mine.index("Bea")
    assert theirs.index("Ana") < theirs.index("Bea")
    assert mine.count("<a class=") == theirs.count("<a class=") == 2


def test_the_unread_marks_are_the_same_as_a_page_built_for_the_agent(logged_in, agent, account):
    ana, bea = waiting(account, "Ana", 5), waiting(account, "Bea", 10)
    waiting(account, "Cid", 15)
    dee = ConversationFactory(account=account, customer_name="Dee")
    Conversation.objects.filter(pk=dee.pk).update(last_inbound_received_at=None)  # none yet
    work.conversation_mark_read(conversation=ana, user=agent)
    work.conversation_mark_read(conversation=bea, user=agent)
    MessageFactory(conversation=bea, text="one more thing")  # Bea wrote again since
    Conversation.objects.filter(pk=bea.pk).update(last_inbound_received_at=timezone.now())
    built = logged_in.get("/", {"fragment": "rows"}).content.decode()  # not a live poll
    behind(logged_in)
    shared = behind(logged_in).content.decode()
    for name, unread in (("Ana", False), ("Bea", True), ("Cid", True), ("Dee", False)):
        assert unread_row(built, name) is unread_row(shared, name) is unread, name


def test_mine_is_each_agents_own(logged_in, agent, account, bob):
    ana, bea = waiting(account, "Ana", 5), waiting(account, "Bea", 10)
    work.conversation_assign(conversation=ana, assignee=agent, actor=agent)
    from django.contrib.auth.models import User

    bob_user = User.objects.get(username="bob")
    work.conversation_assign(conversation=bea, assignee=bob_user, actor=bob_user)
    mine = behind(logged_in, box="mine").content.decode()
    theirs = behind(bob, box="mine").content.decode()
    assert "Ana" in mine
    assert "Bea" not in mine
    assert "Bea" in theirs
    assert "Ana" not in theirs


def test_an_agent_of_other_accounts_gets_a_page_of_their_own(logged_in, agent, account):
    waiting(account, "Ana", 5)
    elsewhere = AccountFactory()
    waiting(elsewhere, "Zed", 6)
    carol = UserFactory(username="carol")
    elsewhere.members.add(carol)
    other = Client()
    other.force_login(carol)
    mine = behind(logged_in).content.decode()
    with CaptureQueriesContext(connection) as queries:
        theirs = behind(other).content.decode()
    assert len(list_queries(queries)) == 1
    assert "Ana" in mine
    assert "Zed" not in mine
    assert "Zed" in theirs
    assert "Ana" not in theirs


def test_a_change_moves_the_stamp_on_and_the_next_poll_shows_it(logged_in, agent, account, bob):
    waiting(account, "Ana", 5)
    behind(logged_in)
    new = waiting(account, "Eve", 1)
    MessageFactory(conversation=new, text="a new customer")  # through the ORM: stamps bumped
    with CaptureQueriesContext(connection) as queries:
        html = behind(bob).content.decode()
    assert len(list_queries(queries)) == 1
    assert html.index("Eve") < html.index("Ana")


def test_a_search_is_built_for_each_agent(logged_in, agent, account, bob):
    waiting(account, "Ana", 5)
    behind(logged_in, q="Ana")
    with CaptureQueriesContext(connection) as queries:
        assert "Ana" in behind(bob, q="Ana").content.decode()
    assert len(list_queries(queries)) == 1
