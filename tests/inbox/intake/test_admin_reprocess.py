"""The ledger in admin: admins may reprocess; managers only look; waiting events are findable."""

import pytest

from inbox.models import WebhookEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/inbox/webhookevent/"


@pytest.fixture
def events():
    make = WebhookEvent.objects.create
    return {
        "waiting": make(
            body="{}",
            body_sha256="a" * 64,
            state="waiting_account",
            account_ids=["17841499999999999"],
            last_error="no connected account with id 17841499999999999",
        ),
        "failed": make(body="{}", body_sha256="b" * 64, state="failed", last_error="boom"),
        "done": make(body="{}", body_sha256="c" * 64, state="processed"),
    }


def test_admins_get_the_reprocess_action(client, admin_user, events):
    client.force_login(admin_user)
    assert 'value="reprocess"' in client.get(URL).content.decode()


def test_createagent_admins_get_it_too(client, events):
    user = UserFactory(username="lead", is_superuser=True, is_staff=True)
    client.force_login(user)
    assert 'value="reprocess"' in client.get(URL).content.decode()


def test_managers_see_the_ledger_but_cannot_reprocess(client, manager, events):
    client.force_login(manager)
    page = client.get(URL).content.decode()
    assert "17841499999999999" in page
    assert 'value="reprocess"' not in page
    response = client.post(URL, {"action": "reprocess", "_selected_action": [events["failed"].pk]})
    events["failed"].refresh_from_db()
    assert events["failed"].state == "failed"
    assert response.status_code == 200  # the action is not offered, so nothing runs


def test_the_needs_attention_filter_shows_waiting_events(client, manager, events):
    client.force_login(manager)
    page = client.get(URL, {"attention": "waiting_account"}).content.decode()
    assert "17841499999999999" in page
    assert f'href="/admin/inbox/webhookevent/{events["failed"].pk}/change/' not in page
    assert "Waiting for an account to be connected" in page
    failed = client.get(URL, {"attention": "failed"}).content.decode()
    assert f"/admin/inbox/webhookevent/{events['failed'].pk}/change/" in failed
    assert "17841499999999999" not in failed


def test_the_event_page_shows_the_error_and_the_payload(client, admin_user, events):
    client.force_login(admin_user)
    page = client.get(f"{URL}{events['waiting'].pk}/change/").content.decode()
    assert "no connected account with id 17841499999999999" in page
