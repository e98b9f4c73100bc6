"""A right-to-left override (U+202E) in a name from outside stays inside that name: every
place a customer's or an agent's name shows isolates it (<bdi>, or FSI ... PDI where no
element can go), so it cannot reorder the text around it."""

import re

import pytest

from tests.factories import ConversationFactory, OutboundMessageFactory, UserFactory

pytestmark = pytest.mark.django_db

RLO = "\u202e"
ISOLATED = re.compile(r"<bdi\b[^>]*>[^<]*</bdi>|\u2068[^\u2069]*\u2069")


@pytest.fixture
def conversation(account):
    return ConversationFactory(
        account=account, customer_name=f"Eve {RLO}evil", customer_username=f"eve{RLO}lmth"
    )


@pytest.fixture
def agent_with_a_trick(agent):
    agent.first_name = f"Al{RLO}ice"
    agent.save()
    return agent


def assert_isolated(html: str, *names: str) -> None:
    for name in names:
        assert name in html, f"{name!r} is not shown"
    assert RLO not in ISOLATED.sub("", html), "a name with an override is shown unisolated"


def test_it_isolates_names_in_the_list_and_the_thread(client, agent_with_a_trick, conversation):
    OutboundMessageFactory(conversation=conversation, author=agent_with_a_trick, text="Hi")
    conversation.assignee = agent_with_a_trick
    conversation.save()
    client.force_login(agent_with_a_trick)
    listing = client.get("/").content.decode()
    assert_isolated(listing, "Eve \u202eevil", "eve\u202elmth")
    assert '<span class="row-name"><bdi>Eve \u202eevil</bdi></span>' in listing
    thread = client.get(f"/c/{conversation.pk}/").content.decode()
    assert_isolated(thread, "Eve \u202eevil", "eve\u202elmth", "Al\u202eice")
    assert "<h1><bdi>Eve \u202eevil</bdi></h1>" in thread
    assert "<title>\u2068Eve \u202eevil\u2069 · Instagram inbox</title>" in thread


def test_it_isolates_agents_on_the_accounts_page(admin_client, account):
    account.members.add(UserFactory(username=f"bob{RLO}x"))
    assert_isolated(admin_client.get("/accounts/").content.decode(), f"bob{RLO}x")


def test_it_isolates_the_customer_in_the_admin_s_name_of_a_conversation(conversation):
    assert str(conversation).startswith("@\u2068eve\u202elmth\u2069 → ")
