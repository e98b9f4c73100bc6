"""Managers browse everything in admin, read-only; agents are refused; tokens never show."""

import pytest

from inbox.models import WebhookEvent
from tests.factories import AccountFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    conversation = ConversationFactory(customer_username="jane.doe")
    MessageFactory(conversation=conversation, text="Where is my order?")
    WebhookEvent.objects.create(body='{"object": "instagram"}', body_sha256="c" * 64)
    return conversation


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/inbox/conversation/",
        "/admin/inbox/message/",
        "/admin/inbox/webhookevent/",
        "/admin/inbox/reaction/",
        "/admin/accounts/instagramaccount/",
    ],
)
def test_a_manager_can_view(client, manager, history, url):
    client.force_login(manager)
    assert client.get(url).status_code == 200


def test_a_manager_sees_a_conversation_with_its_messages(client, manager, history):
    client.force_login(manager)
    page = client.get(f"/admin/inbox/conversation/{history.pk}/change/").content.decode()
    assert "Where is my order?" in page
    assert 'name="_save"' not in page


def test_a_manager_can_search_by_username_and_text(client, manager, history):
    client.force_login(manager)
    assert "jane.doe" in client.get("/admin/inbox/conversation/?q=jane").content.decode()
    by_text = client.get("/admin/inbox/conversation/?q=order").content.decode()
    assert "jane.doe" in by_text


def test_a_manager_cannot_change_anything(client, manager, history):
    client.force_login(manager)
    response = client.post(f"/admin/inbox/conversation/{history.pk}/change/", {"status": "closed"})
    assert response.status_code == 403
    account = history.account
    response = client.post(
        f"/admin/accounts/instagramaccount/{account.pk}/change/",
        {"human_agent_enabled": ""},
    )
    assert response.status_code == 403
    assert client.get(f"/admin/inbox/conversation/{history.pk}/delete/").status_code == 403


def test_an_agent_is_refused_admin(client, agent, history):
    client.force_login(agent)
    response = client.get("/admin/inbox/conversation/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_no_token_appears_in_admin(client, admin_user):
    account = AccountFactory(access_token="IGAAneverShowThisToken123456789")
    client.force_login(admin_user)
    for url in [
        "/admin/accounts/instagramaccount/",
        f"/admin/accounts/instagramaccount/{account.pk}/change/",
    ]:
        page = client.get(url).content.decode()
        assert "IGAAneverShowThisToken123456789" not in page
        assert account.token_ciphertext not in page


def test_a_manager_sees_which_messages_came_on_standby_and_since_when_another_app_holds_it(
    client, manager
):
    from datetime import UTC, datetime

    since = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    conversation = ConversationFactory(other_app_since=since)
    MessageFactory(conversation=conversation, text="Sent while a bot held it", via_standby=True)
    client.force_login(manager)
    page = client.get(f"/admin/inbox/conversation/{conversation.pk}/change/").content.decode()
    assert "received on standby" in page.lower()
    assert "other app since" in page.lower()
    assert "2026" in page


def test_a_manager_sees_which_messages_were_imported_from_history(client, manager):
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, text="Read back from Meta", imported=True)
    client.force_login(manager)
    page = client.get(f"/admin/inbox/conversation/{conversation.pk}/change/").content.decode()
    assert "imported" in page.lower()
    listing = client.get("/admin/inbox/message/?imported__exact=1").content.decode()
    assert "Read back from Meta" in listing
