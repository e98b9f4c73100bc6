import pytest

from accounts.models import InstagramAccount
from accounts.services import account_graph_client, account_mark_needs_reconnect
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_it_builds_a_client_with_the_accounts_own_base_url_and_token():
    account = AccountFactory(graph_api_url="http://gateway.test/v24.0", access_token="hmat_x")
    client = account_graph_client(account)
    assert client.base_url == "http://gateway.test/v24.0"
    assert client.token == "hmat_x"


def test_it_flags_an_account_for_reconnection_once():
    account = AccountFactory()
    assert account_mark_needs_reconnect(account_id=account.pk, reason="Token expired") is True
    assert account_mark_needs_reconnect(account_id=account.pk, reason="again") is False
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.NEEDS_RECONNECT
    assert account.status_reason == "Token expired"
    assert not account.can_send
