import pytest

from accounts.meta import account_call, account_graph_client, account_mark_needs_reconnect
from accounts.models import InstagramAccount
from instagram.errors import AuthError, PermanentError
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


def test_a_refused_token_marks_the_account_and_the_caller_still_sees_the_error():
    account = AccountFactory()
    error = AuthError("Error validating access token", status=400, code=190, subcode=460)
    with pytest.raises(AuthError), account_call(account, doing="sending a reply"):
        raise error
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.NEEDS_RECONNECT
    assert account.status_reason == (
        "Instagram refused the token while sending a reply: Error validating access token (190/460)"
    )


def test_other_refusals_leave_the_account_as_it_is():
    account = AccountFactory()
    with pytest.raises(PermanentError), account_call(account, doing="sending a reply"):
        raise PermanentError("Outside of allowed window", status=400, code=10)
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.ACTIVE
