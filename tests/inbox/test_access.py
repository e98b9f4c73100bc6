import pytest

from tests.factories import AccountFactory, ConversationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_users_to_the_login_form(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    form = client.get(response["Location"]).content.decode()
    assert 'name="username"' in form
    assert 'name="password"' in form


def test_it_logs_an_agent_in(client, agent):
    response = client.post("/login/", {"username": "alice", "password": "secret-pass-123"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_an_agent_sees_only_their_accounts_conversations(client, agent, account):
    mine = ConversationFactory(account=account, customer_name="Mine Customer")
    theirs = ConversationFactory(account=AccountFactory(), customer_name="Other Customer")
    client.force_login(agent)
    page = client.get("/").content.decode()
    assert mine.customer_name in page
    assert theirs.customer_name not in page


def test_an_admin_sees_every_account(client, admin_user):
    first = ConversationFactory(customer_name="First Customer")
    second = ConversationFactory(customer_name="Second Customer")
    client.force_login(admin_user)
    page = client.get("/").content.decode()
    assert first.customer_name in page
    assert second.customer_name in page


def test_an_agent_with_no_accounts_sees_nothing(client):
    ConversationFactory(customer_name="Hidden Customer")
    client.force_login(UserFactory())
    assert "Hidden Customer" not in client.get("/").content.decode()
