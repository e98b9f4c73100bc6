"""The fake Meta's Conversations API: the simulated threads, read back by the history sync
as Meta would answer them (so `sync_history` works under `make run`)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from inbox.history import sync as sync_module
from inbox.history.sync import history_sync
from inbox.models import Conversation, Message
from sandbox.customers import customer_create
from sandbox.fake_meta import CONVERSATION_PREFIX, new_mid
from sandbox.models import SimulatedMessage

GRAPH = "/sandbox/graph/v24.0"
AUTH = {"HTTP_AUTHORIZATION": "Bearer sandbox-token"}


def thread(customer, *texts, start=None, image_at=None):
    """Messages alternating customer / business, a minute apart, oldest first."""
    start = start or timezone.now() - timedelta(hours=2)
    made = []
    for n, text in enumerate(texts):
        made.append(
            SimulatedMessage.objects.create(
                customer=customer,
                direction="customer" if n % 2 == 0 else "business",
                mid=new_mid(),
                text=text,
                attachment_type="image" if n == image_at else "",
                attachment_url="https://cdn.test/photo.jpg" if n == image_at else "",
                timestamp=start + timedelta(minutes=n),
            )
        )
    return made


@pytest.mark.django_db
def test_it_lists_conversations_newest_first_in_pages(client, sandbox_on):
    now = timezone.now()
    customers = [customer_create(name=f"C{n}", username=f"c{n}") for n in range(3)]
    for n, customer in enumerate(customers):
        thread(customer, "hi", start=now - timedelta(hours=n))
    thread(customer_create(name="Gone", username="gone"), "x")
    SimulatedMessage.objects.filter(customer__username="gone").update(is_deleted=True)

    first = client.get(
        f"{GRAPH}/me/conversations", {"platform": "instagram", "limit": "2"}, **AUTH
    ).json()
    assert [row["id"] for row in first["data"]] == [
        CONVERSATION_PREFIX + customers[0].igsid,
        CONVERSATION_PREFIX + customers[1].igsid,
    ]
    assert first["data"][0]["updated_time"].endswith("+0000")
    assert "next" in first["paging"]
    after = first["paging"]["cursors"]["after"]
    second = client.get(
        f"{GRAPH}/me/conversations",
        {"platform": "instagram", "limit": "2", "after": after},
        **AUTH,
    ).json()
    assert [row["id"] for row in second["data"]] == [CONVERSATION_PREFIX + customers[2].igsid]
    assert "next" not in second["paging"]  # the last page: a conversation all unsent is gone


@pytest.mark.django_db
def test_it_refuses_a_list_without_the_platform_or_with_a_bad_cursor(client, sandbox_on):
    assert client.get(f"{GRAPH}/me/conversations", **AUTH).status_code == 400
    bad = client.get(f"{GRAPH}/me/conversations", {"platform": "instagram", "after": "?"}, **AUTH)
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == 100


@pytest.mark.django_db
def test_a_conversation_answers_its_participants_and_20_newest_messages(
    client, sandbox_on, settings
):
    customer = customer_create(name="Maya Lopez", username="maya.lopez")
    thread(customer, *[f"m{n}" for n in range(23)], image_at=22)
    answer = client.get(f"{GRAPH}/{CONVERSATION_PREFIX}{customer.igsid}", **AUTH).json()

    people = {p["id"]: p["username"] for p in answer["participants"]["data"]}
    assert people == {customer.igsid: "maya.lopez", settings.SANDBOX_ACCOUNT_ID: "sandbox_shop"}
    messages = answer["messages"]["data"]
    assert len(messages) == 20
    newest = messages[0]
    assert newest["from"]["id"] == customer.igsid  # n=22: the customer's photo
    assert newest["attachments"]["data"][0]["image_data"]["url"] == "https://cdn.test/photo.jpg"
    assert messages[1]["from"]["id"] == settings.SANDBOX_ACCOUNT_ID
    assert messages[1]["to"]["data"][0]["id"] == customer.igsid
    assert messages[-1]["message"] == "m3"


@pytest.mark.django_db
def test_a_message_answers_the_fields_asked_for(client, sandbox_on):
    customer = customer_create(name="Maya Lopez", username="maya.lopez")
    (message,) = thread(customer, "hello")
    fields = "id,created_time,from,to,message,attachments"
    full = client.get(f"{GRAPH}/{message.mid}", {"fields": fields}, **AUTH).json()
    assert full["from"]["id"] == customer.igsid
    assert full["created_time"].endswith("+0000")
    assert client.get(f"{GRAPH}/{message.mid}", {"fields": "message"}, **AUTH).json() == {
        "message": "hello",
        "id": message.mid,
    }


@pytest.mark.django_db(transaction=True)
def test_sync_history_reads_the_sandbox_s_threads_into_the_inbox(
    live_server, settings, monkeypatch, capsys
):
    settings.SANDBOX_ENABLED = True
    settings.SITE_URL = live_server.url
    from sandbox.account import sandbox_account_sync

    account = sandbox_account_sync()
    # Meta's pacing (2 calls a second) is timed in tests/inbox/history/test_pacing.py.
    monkeypatch.setattr(sync_module, "gate_wait", lambda **kw: None)
    customers = [customer_create(name=f"C{n}", username=f"c{n}") for n in range(27)]
    for customer in customers:
        thread(customer, "Is it in stock?", "Yes, in M and L")
    thread(customers[0], "Do you ship?", "We do", "Great, M please", image_at=2)

    result = history_sync(account_id=account.pk)

    assert not result.failed
    assert result.conversations == 27  # two pages of 25
    assert Conversation.objects.filter(account=account).count() == 27
    assert Message.objects.filter(account=account, imported=True).count() == 27 * 2 + 3
    first = Conversation.objects.get(account=account, customer_igsid=customers[0].igsid)
    answer = first.messages.get(text="We do")
    assert answer.direction == Message.Direction.OUTBOUND
    photo = first.messages.get(text="Great, M please")
    assert photo.attachments[0]["url"] == "https://cdn.test/photo.jpg"

    call_command("sync_history")
    assert f"{account.ig_id}: 27 conversations read, 57 messages read, 0 stored" in (
        capsys.readouterr().out
    )
