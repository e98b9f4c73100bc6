"""The fake Meta answers the app's Graph calls as Meta would."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.meta import account_graph_client
from accounts.models import InstagramAccount
from instagram.errors import AuthError, PermanentError, RateLimitedError, TransientError
from sandbox.customers import customer_create
from sandbox.fake_meta import faults_add, graph_message_receive
from sandbox.models import SandboxFault, SimulatedMessage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
GRAPH = "/sandbox/graph/v24.0"
AUTH = {"HTTP_AUTHORIZATION": "Bearer sandbox-token"}
NOWHERE = "http://127.0.0.1:9/webhooks/instagram/"  # echoes go nowhere in these tests


@pytest.fixture
def customer(sandbox_on):
    customer = customer_create(name="Maya Lopez", username="maya.lopez")
    customer.last_message_at = timezone.now()
    customer.save()
    return customer


def send(client, account_id, body):
    return client.post(
        f"{GRAPH}/{account_id}/messages", body, content_type="application/json", **AUTH
    )


def test_the_fake_graph_is_not_there_when_the_sandbox_is_off(client, db, settings):
    settings.SANDBOX_ENABLED = False
    assert client.get(f"{GRAPH}/me", **AUTH).status_code == 404
    client.force_login(UserFactory())
    assert client.get("/sandbox/").status_code == 404


def test_it_creates_the_sandbox_account_only_when_on(settings, db):
    settings.SANDBOX_ENABLED = False
    from sandbox.account import sandbox_account_sync

    assert sandbox_account_sync() is None
    assert not InstagramAccount.objects.filter(ig_id=settings.SANDBOX_ACCOUNT_ID).exists()
    settings.SANDBOX_ENABLED = True
    account = sandbox_account_sync()
    assert account.graph_api_url.endswith("/sandbox/graph/v24.0")
    assert account.access_token == "sandbox-token"
    settings.SANDBOX_ENABLED = False
    sandbox_account_sync()
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.DISCONNECTED
    assert not account.can_send


def test_it_refuses_a_wrong_token_with_code_190(client, sandbox_on):
    response = client.get(f"{GRAPH}/me", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 190


def test_it_answers_me_with_the_account_key(client, sandbox_on, settings):
    assert client.get(f"{GRAPH}/me", **AUTH).json()["user_id"] == settings.SANDBOX_ACCOUNT_ID


def test_it_accepts_a_reply_inside_the_window(client, customer, settings):
    response = send(
        client,
        settings.SANDBOX_ACCOUNT_ID,
        {"recipient": {"id": customer.igsid}, "message": {"text": "Hi Maya"}},
    )
    assert response.status_code == 200
    mid = response.json()["message_id"]
    reply = SimulatedMessage.objects.get(mid=mid)
    assert reply.text == "Hi Maya"
    assert reply.direction == "business"


def test_it_needs_the_tag_after_24_hours_and_refuses_after_7_days(customer, settings):
    body = {"recipient": {"id": customer.igsid}, "message": {"text": "Late"}}
    tagged = {**body, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    customer.last_message_at = timezone.now() - timedelta(hours=25)
    customer.save()
    status, answer = graph_message_receive(
        ig_id=settings.SANDBOX_ACCOUNT_ID, body=body, webhook_url=NOWHERE
    )
    assert (status, answer["error"]["code"], answer["error"]["error_subcode"]) == (400, 10, 2534022)
    status, answer = graph_message_receive(
        ig_id=settings.SANDBOX_ACCOUNT_ID, body=tagged, webhook_url=NOWHERE
    )
    assert status == 200
    customer.last_message_at = timezone.now() - timedelta(days=7, seconds=1)
    customer.save()
    status, _ = graph_message_receive(
        ig_id=settings.SANDBOX_ACCOUNT_ID, body=tagged, webhook_url=NOWHERE
    )
    assert status == 400


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (SandboxFault.Kind.SERVER_ERROR, TransientError),
        (SandboxFault.Kind.RATE_LIMITED, RateLimitedError),
        (SandboxFault.Kind.TOKEN_DEAD, AuthError),
        (SandboxFault.Kind.OUTSIDE_WINDOW, PermanentError),
    ],
)
def test_injected_faults_reach_the_client_as_the_right_error(
    live_server, customer, sandbox_on, settings, kind, error
):
    settings.SITE_URL = live_server.url
    from sandbox.account import sandbox_account_sync

    account = sandbox_account_sync()
    faults_add(kind=kind, count=1)
    client = account_graph_client(account)
    body = {"recipient": {"id": customer.igsid}, "message": {"text": "Hi"}}
    with pytest.raises(error):
        client.send_message(ig_id=account.ig_id, body=body)
    assert SandboxFault.objects.count() == 0


def test_it_answers_a_profile_for_a_known_customer(client, customer):
    profile = client.get(f"{GRAPH}/{customer.igsid}", {"fields": "name"}, **AUTH).json()
    assert profile["username"] == "maya.lopez"
    assert client.get(f"{GRAPH}/123", **AUTH).status_code == 400


def test_it_answers_subscriptions_and_tokens(client, sandbox_on):
    assert client.post(f"{GRAPH}/me/subscribed_apps", **AUTH).json() == {"success": True}
    token = client.get(
        "/sandbox/graph/refresh_access_token", {"access_token": "sandbox-token"}
    ).json()
    assert token["expires_in"] > 0


def test_it_records_reactions_on_the_customers_view(client, customer, settings):
    mid = send(
        client,
        settings.SANDBOX_ACCOUNT_ID,
        {"recipient": {"id": customer.igsid}, "message": {"text": "x"}},
    ).json()["message_id"]
    SimulatedMessage.objects.filter(mid=mid).update(direction="customer")
    response = send(
        client,
        settings.SANDBOX_ACCOUNT_ID,
        {
            "recipient": {"id": customer.igsid},
            "sender_action": "react",
            "payload": {"message_id": mid, "reaction": "love"},
        },
    )
    assert response.status_code == 200
    assert SimulatedMessage.objects.get(mid=mid).reaction == "❤️"


def test_an_environment_account_leaves_the_sandbox_account_active(sandbox_on, settings):
    from accounts.environment import env_account_sync

    settings.INSTAGRAM_USER_ID = "17841400000009999"
    settings.INSTAGRAM_ACCESS_TOKEN = "hmat_own_account"
    assert env_account_sync() is not None
    sandbox_on.refresh_from_db()
    assert sandbox_on.status == InstagramAccount.Status.ACTIVE
    assert sandbox_on.access_token == "sandbox-token"
