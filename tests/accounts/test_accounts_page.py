"""The accounts page: what admins see, the forms they submit, and who is kept out."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from accounts.models import InstagramAccount
from tests.factories import AccountFactory, ConversationFactory, UserFactory

from .fakes import GRAPH, payload

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def card(html: str, account) -> str:
    """The HTML of one account's card on the page."""
    match = re.search(rf'<li class="card account" id="account-{account.pk}">(.*?)</li>', html, re.S)
    assert match, f"no card for {account}"
    return match.group(1)


# --- access -----------------------------------------------------------------------------
def account_pages(account):
    return [
        ("get", "/accounts/"),
        ("get", f"/accounts/{account.pk}/disconnect/"),
        ("post", f"/accounts/{account.pk}/disconnect/"),
        ("post", f"/accounts/{account.pk}/human-agent/"),
        ("get", f"/accounts/{account.pk}/members/"),
        ("post", f"/accounts/{account.pk}/members/"),
    ]


def test_agents_who_are_not_admins_get_403_everywhere(client, agent, account, meta):
    client.force_login(agent)
    for method, path in account_pages(account):
        assert getattr(client, method)(path).status_code == 403, path
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.ACTIVE
    assert account.can_send
    assert len(meta.calls) == 0


def test_staff_managers_are_not_admins(client, manager, account):
    client.force_login(manager)
    assert client.get("/accounts/").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, account):
    for _method, path in account_pages(account):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_every_form_needs_a_csrf_token(admin_user, account):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    for method, path in account_pages(account):
        if method == "post":
            assert client.post(path).status_code == 403, path
    page = client.get("/accounts/").content.decode()
    forms = page.count('<form method="post"')
    assert forms >= 2
    assert page.count("csrfmiddlewaretoken") == forms


def test_unknown_accounts_are_404(admin_client):
    assert admin_client.get("/accounts/999/members/").status_code == 404
    assert admin_client.post("/accounts/999/disconnect/").status_code == 404


# --- the list ---------------------------------------------------------------------------
@time_machine.travel(T0, tick=False)
def test_it_lists_every_account_with_its_status(admin_client):
    active = AccountFactory(
        username="active.shop",
        profile_picture_url="https://cdn.test/a.jpg",
        token_expires_at=T0 + timedelta(days=12, hours=3),
        token_refreshed_at=T0 - timedelta(days=48),
    )
    soon = AccountFactory(username="soon.shop", token_expires_at=T0 + timedelta(hours=5))
    broken = AccountFactory(
        username="broken.shop",
        status=InstagramAccount.Status.NEEDS_RECONNECT,
        status_reason="Meta refused to refresh the token: password changed (190/460)",
    )
    gone = AccountFactory(username="gone.shop", status=InstagramAccount.Status.DISCONNECTED)
    env = AccountFactory(username="", ig_id="17841499999999999", source=InstagramAccount.Source.ENV)
    html = admin_client.get("/accounts/").content.decode()

    first = card(html, active)
    assert "@active.shop" in first
    assert 'src="https://cdn.test/a.jpg"' in first
    assert "token expires in 12 days" in first
    assert "Source: Instagram Login" in first
    assert "Reconnect" in first
    assert "Disconnect" in first
    assert "expires in 5 hours, not refreshed yet" in card(html, soon)
    assert "Needs reconnect: Meta refused to refresh the token: password changed" in card(
        html, broken
    )
    gone_card = card(html, gone)
    assert "Disconnected" in gone_card
    assert "Disconnect…" not in gone_card
    assert "Reconnect" in gone_card
    env_card = card(html, env)
    assert "17841499999999999" in env_card
    assert "Source: Environment" in env_card
    assert "token from the environment" in env_card
    assert "Reconnect" not in env_card


def test_it_offers_to_connect_an_account(admin_client):
    html = admin_client.get("/accounts/").content.decode()
    assert 'href="/accounts/instagram/connect/"' in html
    assert "No Instagram account is connected yet" in html


def test_the_reconnect_button_goes_through_instagram_login(admin_client):
    account = AccountFactory(status=InstagramAccount.Status.NEEDS_RECONNECT)
    html = card(admin_client.get("/accounts/").content.decode(), account)
    assert f'href="/accounts/instagram/connect/?account={account.pk}"' in html


# --- the human-agent switch --------------------------------------------------------------
def test_it_turns_the_human_agent_switch_off_and_on(admin_client, account):
    assert account.human_agent_enabled
    html = card(admin_client.get("/accounts/").content.decode(), account)
    assert "Turn off" in html
    assert 'name="enabled"' not in html
    admin_client.post(f"/accounts/{account.pk}/human-agent/")
    account.refresh_from_db()
    assert account.human_agent_enabled is False

    html = card(admin_client.get("/accounts/").content.decode(), account)
    assert "Turn on" in html
    assert 'name="enabled" value="on"' in html
    response = admin_client.post(f"/accounts/{account.pk}/human-agent/", {"enabled": "on"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.human_agent_enabled is True


def test_the_switch_only_answers_post(admin_client, account):
    assert admin_client.get(f"/accounts/{account.pk}/human-agent/").status_code == 405


# --- members ----------------------------------------------------------------------------
def test_it_adds_and_removes_members(admin_client, account):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    UserFactory(username="root2", is_superuser=True)  # admins are not listed
    UserFactory(username="gone", is_active=False)
    form = admin_client.get(f"/accounts/{account.pk}/members/").content.decode()
    assert "alice" in form
    assert "bob" in form
    assert "root2" not in form
    assert "gone" not in form

    admin_client.post(f"/accounts/{account.pk}/members/", {"members": [alice.pk, bob.pk]})
    assert set(account.members.all()) == {alice, bob}
    html = card(admin_client.get("/accounts/").content.decode(), account)
    assert "<bdi>alice</bdi>, <bdi>bob</bdi>" in html

    admin_client.post(f"/accounts/{account.pk}/members/", {"members": [bob.pk]})
    assert list(account.members.all()) == [bob]
    admin_client.post(f"/accounts/{account.pk}/members/", {})
    assert not account.members.exists()


def test_saving_members_keeps_deactivated_agents(admin_client, account):
    gone, alice = UserFactory(username="gone", is_active=False), UserFactory(username="alice")
    account.members.add(gone)
    admin_client.post(f"/accounts/{account.pk}/members/", {"members": [alice.pk]})
    assert set(account.members.all()) == {gone, alice}


def test_a_member_can_then_see_the_accounts_conversations(admin_client, account):
    alice = UserFactory(username="alice")
    ConversationFactory(account=account, customer_name="Visible Customer")
    admin_client.post(f"/accounts/{account.pk}/members/", {"members": [alice.pk]})
    agent_client = Client()
    agent_client.force_login(alice)
    assert "Visible Customer" in agent_client.get("/").content.decode()


def test_it_refuses_an_unknown_member_with_a_400(admin_client, account):
    response = admin_client.post(f"/accounts/{account.pk}/members/", {"members": ["9999"]})
    assert response.status_code == 400
    assert not account.members.exists()


# --- disconnect -------------------------------------------------------------------------
def test_it_asks_before_disconnecting(admin_client, account):
    html = admin_client.get(f"/accounts/{account.pk}/disconnect/").content.decode()
    assert f"Disconnect {account}?" in html
    assert 'method="post"' in html
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.ACTIVE


def test_it_disconnects_an_account_and_keeps_its_history(admin_client, meta):
    account = AccountFactory(access_token="IGAAtokenToWipe00000000000000000000000")
    ConversationFactory(account=account)
    meta.delete(f"{GRAPH}/me/subscribed_apps", json=payload("subscribed"))

    response = admin_client.post(f"/accounts/{account.pk}/disconnect/", follow=True)

    [call] = meta.calls
    assert call.request.method == "DELETE"
    assert call.request.headers["Authorization"] == "Bearer IGAAtokenToWipe00000000000000000000000"
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.DISCONNECTED
    assert account.token_ciphertext == ""
    assert account.token_expires_at is None
    assert not account.can_send
    assert account.conversations.count() == 1
    assert "is disconnected. Its history is kept." in response.content.decode()


def test_a_failed_unsubscribe_is_reported_but_does_not_block(admin_client, meta):
    account = AccountFactory()
    meta.delete(f"{GRAPH}/me/subscribed_apps", status=400, json=payload("error_190"))
    response = admin_client.post(f"/accounts/{account.pk}/disconnect/", follow=True)
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.DISCONNECTED
    html = response.content.decode()
    assert "did not confirm the webhook unsubscription" in html
    assert "190/460" in html


def test_an_environment_account_is_disconnected_without_calling_the_gateway(admin_client, meta):
    account = AccountFactory(
        source=InstagramAccount.Source.ENV, graph_api_url="https://gw.test/v24.0"
    )
    admin_client.post(f"/accounts/{account.pk}/disconnect/")
    assert len(meta.calls) == 0
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.DISCONNECTED
    assert not account.can_send


# --- the banner -------------------------------------------------------------------------
def test_admins_see_a_banner_for_accounts_needing_reconnect(client, admin_user, agent, account):
    InstagramAccount.objects.filter(pk=account.pk).update(
        status=InstagramAccount.Status.NEEDS_RECONNECT, status_reason="Token invalidated (190)"
    )
    client.force_login(admin_user)
    html = client.get("/").content.decode()
    assert 'class="account-alerts"' in html
    assert "Token invalidated (190)" in html
    assert f'href="/accounts/#account-{account.pk}"' in html

    client.force_login(agent)
    assert "account-alerts" not in client.get("/").content.decode()


def test_no_banner_when_all_is_well(admin_client, account):
    assert "account-alerts" not in admin_client.get("/").content.decode()
