"""Instagram Login, end to end through the views, with Meta faked by `responses`."""

import copy
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import time_machine
from django.test import Client

from accounts.models import InstagramAccount
from tests.factories import AccountFactory, ConversationFactory, MessageFactory, UserFactory

from .fakes import (
    EXCHANGE_USER_ID,
    GRAPH,
    LONG_TOKEN,
    ME_USER_ID,
    SHORT_TOKEN,
    TOKEN_URL,
    callback,
    flashes,
    meta_connect,
    payload,
    query_of,
    start_connect,
)

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# --- the connect button -----------------------------------------------------------------
def test_it_redirects_to_the_authorize_url_with_the_contracts_parameters(admin_client):
    response = admin_client.get("/accounts/instagram/connect/")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://www.instagram.com/oauth/authorize?")
    query = query_of(location)
    assert query["client_id"] == "test-client-id"
    assert query["redirect_uri"] == "http://testserver/accounts/instagram/callback/"
    assert query["scope"] == "instagram_business_basic,instagram_business_manage_messages"
    assert query["response_type"] == "code"
    assert len(query["state"]) >= 32


def test_it_uses_the_configured_authorize_and_redirect_urls(admin_client, settings):
    settings.INSTAGRAM_OAUTH_AUTHORIZE_URL = "http://127.0.0.1:18399/oauth/authorize"
    settings.INSTAGRAM_REDIRECT_URI = "https://inbox.example.com/accounts/instagram/callback/"
    location = admin_client.get("/accounts/instagram/connect/")["Location"]
    assert location.startswith("http://127.0.0.1:18399/oauth/authorize?")
    assert query_of(location)["redirect_uri"] == settings.INSTAGRAM_REDIRECT_URI


def test_it_issues_a_new_random_state_each_time(admin_client):
    assert start_connect(admin_client) != start_connect(admin_client)


def test_it_tells_the_admin_when_instagram_login_is_not_configured(admin_client, settings):
    settings.INSTAGRAM_CLIENT_SECRET = ""
    response = admin_client.get("/accounts/instagram/connect/", follow=True)
    assert "INSTAGRAM_CLIENT_SECRET" in " ".join(flashes(response))


@pytest.mark.parametrize("path", ["/accounts/instagram/connect/", "/accounts/instagram/callback/"])
def test_it_refuses_agents_who_are_not_admins(client, agent, path, meta):
    client.force_login(agent)
    assert client.get(path, {"state": "x", "code": "y"}).status_code == 403
    assert len(meta.calls) == 0


def test_it_sends_anonymous_visitors_to_the_login_form(client):
    response = client.get("/accounts/instagram/connect/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- a successful connect ---------------------------------------------------------------
@time_machine.travel(T0, tick=False)
def test_it_connects_an_account(admin_client, meta):
    meta_connect(meta)
    state = start_connect(admin_client)
    response = callback(admin_client, code="AQBcode123", state=state)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/"

    account = InstagramAccount.objects.get()
    assert account.ig_id == ME_USER_ID  # /me's user_id, not the exchange's
    assert account.username == "acme.shop"
    assert account.name == "Acme Shop"
    assert account.profile_picture_url == "https://scontent.cdninstagram.com/v/acme.jpg"
    assert account.source == InstagramAccount.Source.OAUTH
    assert account.status == InstagramAccount.Status.ACTIVE
    assert account.graph_api_url == GRAPH
    assert account.access_token == LONG_TOKEN
    assert account.token_expires_at == T0 + timedelta(seconds=5184000)
    assert account.token_refreshed_at == T0
    assert account.can_send

    page = admin_client.get("/accounts/")
    assert "@acme.shop is connected" in " ".join(flashes(page))


def test_it_calls_meta_in_order_with_the_right_requests(admin_client, meta):
    meta_connect(meta)
    callback(admin_client, code="AQBcode123", state=start_connect(admin_client))

    exchange, long_lived, me, subscribe = (call.request for call in meta.calls)
    form = parse_qs(exchange.body)
    assert exchange.url == TOKEN_URL
    assert exchange.method == "POST"
    assert form == {
        "client_id": ["test-client-id"],
        "client_secret": ["test-app-secret"],
        "grant_type": ["authorization_code"],
        "redirect_uri": ["http://testserver/accounts/instagram/callback/"],
        "code": ["AQBcode123"],
    }
    # The long-lived exchange lives on the host without the version segment.
    assert long_lived.url.startswith("https://graph.instagram.com/access_token?")
    assert query_of(long_lived.url) == {
        "grant_type": "ig_exchange_token",
        "client_secret": "test-app-secret",
        "access_token": SHORT_TOKEN,
    }
    assert me.url.startswith(f"{GRAPH}/me?")
    assert "user_id" in query_of(me.url)["fields"].split(",")
    assert me.headers["Authorization"] == f"Bearer {LONG_TOKEN}"
    assert subscribe.method == "POST"
    assert subscribe.url.startswith(f"{GRAPH}/me/subscribed_apps")
    assert "messages" in query_of(subscribe.url)["subscribed_fields"].split(",")
    assert subscribe.headers["Authorization"] == f"Bearer {LONG_TOKEN}"


def test_it_uses_the_configured_graph_and_token_urls(admin_client, meta, settings):
    settings.INSTAGRAM_GRAPH_API_URL = "http://127.0.0.1:18301/v99.9"
    settings.INSTAGRAM_OAUTH_TOKEN_URL = "http://127.0.0.1:18301/oauth/access_token"
    meta_connect(
        meta,
        graph="http://127.0.0.1:18301/v99.9",
        graph_root="http://127.0.0.1:18301",
        token_url="http://127.0.0.1:18301/oauth/access_token",
    )
    callback(admin_client, code="c", state=start_connect(admin_client))
    assert InstagramAccount.objects.get().graph_api_url == "http://127.0.0.1:18301/v99.9"


def test_it_accepts_the_data_wrapped_exchange_answer(admin_client, meta):
    meta_connect(meta, exchange=payload("exchange_wrapped"))
    callback(admin_client, code="c", state=start_connect(admin_client))
    account = InstagramAccount.objects.get()
    assert account.ig_id == ME_USER_ID
    assert account.access_token == LONG_TOKEN
    assert parse_qs(meta.calls[1].request.url.split("?", 1)[1])["access_token"] == [SHORT_TOKEN]


def test_it_strips_the_trailing_hash_underscore_from_the_code(admin_client, meta):
    meta_connect(meta)
    callback(admin_client, code="AQBcode123#_", state=start_connect(admin_client))
    assert parse_qs(meta.calls[0].request.body)["code"] == ["AQBcode123"]


def test_it_keys_the_account_by_the_user_id_of_me(admin_client, meta):
    meta_connect(meta)
    callback(admin_client, code="c", state=start_connect(admin_client))
    assert not InstagramAccount.objects.filter(ig_id=EXCHANGE_USER_ID).exists()
    assert not InstagramAccount.objects.filter(ig_id="7300000000000042").exists()  # /me's id
    assert InstagramAccount.objects.filter(ig_id=ME_USER_ID).exists()


def test_it_reconnects_without_duplicating_and_keeps_the_history(admin_client, meta):
    agent = UserFactory(username="bea")
    account = AccountFactory(
        ig_id=ME_USER_ID,
        username="old.name",
        access_token="IGAAdeadTokenValue000000000000000000000",
        status=InstagramAccount.Status.NEEDS_RECONNECT,
        status_reason="Token invalidated",
        human_agent_enabled=False,
        members=[agent],
    )
    message = MessageFactory(conversation=ConversationFactory(account=account))
    meta_connect(meta)

    response = callback(admin_client, code="c", state=start_connect(admin_client))

    assert response.status_code == 302
    assert InstagramAccount.objects.count() == 1
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.ACTIVE
    assert account.status_reason == ""
    assert account.access_token == LONG_TOKEN
    assert account.username == "acme.shop"
    assert account.human_agent_enabled is False  # the admin's settings survive
    assert list(account.members.all()) == [agent]
    assert message.conversation.account_id == account.pk
    assert account.conversations.count() == 1
    assert "reconnected" in " ".join(flashes(admin_client.get("/accounts/")))


def test_it_warns_when_instagram_signed_in_as_another_account_than_the_one_to_reconnect(
    admin_client, meta
):
    wanted = AccountFactory(username="wanted", status=InstagramAccount.Status.NEEDS_RECONNECT)
    meta_connect(meta)
    state = start_connect(admin_client, account_id=wanted.pk)
    response = callback(admin_client, code="c", state=state)
    notes = " ".join(flashes(admin_client.get(response["Location"])))
    assert "You meant to reconnect @wanted" in notes
    assert "@acme.shop" in notes


# --- the state --------------------------------------------------------------------------
def assert_refused(response, meta, words):
    assert response.status_code == 400
    assert words in response.content.decode()
    assert len(meta.calls) == 0  # refused before any call to Meta
    assert not InstagramAccount.objects.exists()


def test_it_refuses_a_callback_without_state(admin_client, meta):
    meta_connect(meta)
    start_connect(admin_client)
    assert_refused(callback(admin_client, code="c"), meta, "carried no state")


def test_it_refuses_a_wrong_state(admin_client, meta):
    meta_connect(meta)
    start_connect(admin_client)
    assert_refused(callback(admin_client, code="c", state="forged"), meta, "does not belong")


def test_it_refuses_a_state_issued_to_another_session(admin_client, admin_user, meta):
    meta_connect(meta)
    other = Client()
    other.force_login(UserFactory(username="root2", is_superuser=True, is_staff=True))
    state = start_connect(other)
    assert_refused(callback(admin_client, code="c", state=state), meta, "does not belong")


def test_it_refuses_a_reused_state(admin_client, meta):
    meta_connect(meta)
    state = start_connect(admin_client)
    assert callback(admin_client, code="c", state=state).status_code == 302
    calls = len(meta.calls)
    response = callback(admin_client, code="c", state=state)
    assert response.status_code == 400
    assert "already used" in response.content.decode()
    assert len(meta.calls) == calls


def test_it_refuses_an_expired_state(admin_client, meta):
    meta_connect(meta)
    with time_machine.travel(T0, tick=False) as traveller:
        state = start_connect(admin_client)
        traveller.move_to(T0 + timedelta(minutes=10, seconds=1))
        assert_refused(callback(admin_client, code="c", state=state), meta, "10 minutes")


def test_it_accepts_a_state_just_inside_ten_minutes(admin_client, meta):
    meta_connect(meta)
    with time_machine.travel(T0, tick=False) as traveller:
        state = start_connect(admin_client)
        traveller.move_to(T0 + timedelta(minutes=9, seconds=59))
        assert callback(admin_client, code="c", state=state).status_code == 302
    assert InstagramAccount.objects.count() == 1


def test_it_keeps_several_pending_states_for_several_tabs(admin_client, meta):
    meta_connect(meta)
    first = start_connect(admin_client)
    start_connect(admin_client)
    assert callback(admin_client, code="c", state=first).status_code == 302


# --- Meta's refusal ---------------------------------------------------------------------
def test_it_shows_a_denied_consent_in_words(admin_client, meta):
    state = start_connect(admin_client)
    response = callback(
        admin_client,
        state=state,
        error="access_denied",
        error_reason="user_denied",
        error_description="The user denied your request.",
        follow=True,
    )
    text = " ".join(flashes(response))
    assert "the permissions were declined" in text
    assert "user_denied" in text
    assert "The user denied your request." in text
    assert len(meta.calls) == 0
    assert not InstagramAccount.objects.exists()


def test_it_escapes_metas_error_description(admin_client):
    state = start_connect(admin_client)
    response = callback(
        admin_client, state=state, error="server_error", error_description="<b>x</b>", follow=True
    )
    html = response.content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html


def test_it_says_when_no_code_came_back(admin_client, meta):
    response = callback(admin_client, state=start_connect(admin_client), follow=True)
    assert "no authorization code" in " ".join(flashes(response))
    assert len(meta.calls) == 0


# --- each failing step leaves nothing behind --------------------------------------------
FAILURES = {
    "exchange": (
        "post",
        TOKEN_URL,
        400,
        payload("exchange_error"),
        "exchanging the authorization code",
    ),
    "long_lived_token": (
        "get",
        "https://graph.instagram.com/access_token",
        500,
        {"error": {"message": "Service unavailable", "code": 2}},
        "getting a long-lived token",
    ),
    "profile": ("get", f"{GRAPH}/me", 400, payload("error_190"), "reading the account's profile"),
    "webhook_subscription": (
        "post",
        f"{GRAPH}/me/subscribed_apps",
        403,
        payload("error_permission"),
        "subscribing the account to webhooks",
    ),
}


def meta_failing_at(meta, step):
    method, url, status, body, _ = FAILURES[step]
    getattr(meta, method)(url, status=status, json=body)  # registered first: it wins
    meta_connect(meta)


@pytest.mark.parametrize("step", list(FAILURES))
def test_a_failing_step_leaves_no_account_and_names_the_step(admin_client, meta, step):
    meta_failing_at(meta, step)
    response = callback(admin_client, code="c", state=start_connect(admin_client), follow=True)
    text = " ".join(flashes(response))
    assert f"Connecting failed while {FAILURES[step][4]}" in text
    assert "Nothing was saved" in text
    assert not InstagramAccount.objects.exists()


@pytest.mark.parametrize("step", list(FAILURES))
def test_a_failing_reconnect_leaves_the_account_as_it_was(admin_client, meta, step):
    account = AccountFactory(
        ig_id=ME_USER_ID,
        access_token="IGAAoldTokenValue1111111111111111111111",
        status=InstagramAccount.Status.NEEDS_RECONNECT,
        status_reason="Token invalidated",
    )
    before = InstagramAccount.objects.values().get(pk=account.pk)
    meta_failing_at(meta, step)
    callback(admin_client, code="c", state=start_connect(admin_client))
    assert InstagramAccount.objects.values().get(pk=account.pk) == before


def test_it_shows_metas_message_for_a_used_code(admin_client, meta):
    meta_failing_at(meta, "exchange")
    response = callback(admin_client, code="c", state=start_connect(admin_client), follow=True)
    assert "This authorization code has been used" in " ".join(flashes(response))


def test_a_subscription_answering_success_false_fails_the_connect(admin_client, meta):
    meta.post(f"{GRAPH}/me/subscribed_apps", json={"success": False})
    meta_connect(meta)
    response = callback(admin_client, code="c", state=start_connect(admin_client), follow=True)
    assert "subscribing the account to webhooks" in " ".join(flashes(response))
    assert not InstagramAccount.objects.exists()


def test_a_profile_without_user_id_fails_the_connect(admin_client, meta):
    me = payload("me")
    del me["user_id"]
    meta_connect(meta, me=me)
    response = callback(admin_client, code="c", state=start_connect(admin_client), follow=True)
    assert "no user_id" in " ".join(flashes(response))
    assert not InstagramAccount.objects.exists()


def test_meta_unreachable_is_a_failed_step_not_a_500(admin_client, meta):
    # Nothing registered: `responses` refuses the connection like a network failure.
    response = callback(admin_client, code="c", state=start_connect(admin_client), follow=True)
    assert response.status_code == 200
    assert "exchanging the authorization code" in " ".join(flashes(response))


def test_two_callbacks_racing_with_one_state_let_only_one_through():
    # Both requests read the session before either saves it: the cache decides.
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.oauth_state import StateRefused, oauth_state_consume, oauth_state_issue

    first = SessionStore()
    state = oauth_state_issue(session=first)
    second = SessionStore()
    second.update(copy.deepcopy(dict(first.items())))
    oauth_state_consume(session=first, state=state)
    with pytest.raises(StateRefused, match="already used"):
        oauth_state_consume(session=second, state=state)


@time_machine.travel(T0, tick=False)
def test_with_the_cache_unreachable_an_account_still_connects(admin_client, meta, settings, caplog):
    """Redis down: the race guard steps aside (Meta takes a code once), no 500."""
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.KeptClientRedisCache",
            "LOCATION": "redis://127.0.0.1:6390/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    meta_connect(meta)
    state = start_connect(admin_client)
    response = callback(admin_client, code="AQBcode123", state=state)
    assert response["Location"] == "/accounts/"
    assert InstagramAccount.objects.get().username == "acme.shop"
    assert "connect: state race guard skipped: the cache is unreachable" in caplog.text
    again = callback(admin_client, code="AQBcode123", state=state)  # a replay, as before
    assert again.status_code == 400
    assert "already used" in again.content.decode()


def test_it_queues_a_history_sync_once_the_account_is_stored(
    admin_client, meta, monkeypatch, django_capture_on_commit_callbacks
):
    from accounts import connect

    queued = []
    monkeypatch.setattr(connect, "task_queue", lambda name, *args: queued.append((name, args)))
    meta_connect(meta)
    state = start_connect(admin_client)
    with django_capture_on_commit_callbacks(execute=True):
        callback(admin_client, code="AQBcode123", state=state)

    account = InstagramAccount.objects.get()
    assert queued == [("inbox.tasks.history_sync_task", (account.pk,))]
