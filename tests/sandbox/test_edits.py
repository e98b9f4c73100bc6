"""The sandbox edits like Instagram: a webhook without the text, read back from its fake Graph."""

import pytest

from inbox.models import Conversation
from sandbox.customers import customer_create, customer_edit, customer_message_send
from sandbox.models import SimulatedMessage

GRAPH = "/sandbox/graph/v24.0"
AUTH = {"HTTP_AUTHORIZATION": "Bearer sandbox-token"}


@pytest.fixture
def webhook_url(live_server, settings):
    settings.SANDBOX_ENABLED = True
    settings.INSTAGRAM_CLIENT_SECRET = "sandbox-app-secret"
    settings.SITE_URL = live_server.url
    from sandbox.account import sandbox_account_sync

    sandbox_account_sync()
    return f"{live_server.url}/webhooks/instagram/"


@pytest.mark.django_db(transaction=True)
def test_an_edit_in_the_simulator_shows_in_the_inbox_with_its_earlier_version(webhook_url):
    customer = customer_create(name="Maya Lopez", username="maya.lopez")
    customer_message_send(customer=customer, webhook_url=webhook_url, text="Is this in stock?")
    customer_edit(customer=customer, webhook_url=webhook_url, text="Is this in stock in M?")
    customer_edit(customer=customer, webhook_url=webhook_url, text="Is this in stock in L?")
    message = Conversation.objects.get(customer_igsid=customer.igsid).messages.get()
    assert message.text == "Is this in stock in L?"
    assert message.edit_count == 2
    assert [v["text"] for v in message.earlier_texts] == [
        "Is this in stock?",
        "Is this in stock in M?",
    ]


def test_the_fake_graph_answers_a_message_by_its_id(client, sandbox_on):
    customer = customer_create(name="Maya Lopez", username="maya.lopez")
    message = SimulatedMessage.objects.create(
        customer=customer, direction="customer", mid="aWdf-mid-1", text="now this"
    )
    answer = client.get(f"{GRAPH}/{message.mid}", {"fields": "message"}, **AUTH)
    assert answer.json() == {"message": "now this", "id": "aWdf-mid-1"}
    message.is_deleted = True
    message.save()
    refused = client.get(f"{GRAPH}/{message.mid}", {"fields": "message"}, **AUTH)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == 100


def test_the_simulator_edit_button_needs_text_and_a_message(client, sandbox_on, admin_user):
    customer = customer_create(name="Maya Lopez", username="maya.lopez")
    client.force_login(admin_user)
    response = client.post(f"/sandbox/customers/{customer.pk}/edit/", {"text": "new"}, follow=True)
    assert "no text message of the customer" in response.content.decode()
    response = client.post(f"/sandbox/customers/{customer.pk}/edit/", {"text": " "}, follow=True)
    assert "Type the new text" in response.content.decode()
