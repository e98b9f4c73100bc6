"""Customer profiles: fetched on first contact, refreshed daily, errors never block intake."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Conversation, Message
from inbox.services.profiles import conversation_profile_fetch
from inbox.tasks import conversation_profile_fetch_task
from tests.factories import AccountFactory, ConversationFactory
from tests.webhooks import BASE_MS, CUSTOMER, IG_ID, message_item, webhook_body

pytestmark = pytest.mark.django_db

PROFILE_URL = f"https://graph.instagram.com/v24.0/{CUSTOMER}"
PROFILE = {
    "name": "Jane Doe",
    "username": "jane.doe",
    "profile_pic": "https://scontent.cdninstagram.com/v/jane.jpg?oe=abc",
    "follower_count": 1234,
    "is_user_follow_business": True,
    "is_business_follow_user": False,
    "is_verified_user": False,
    "id": CUSTOMER,
}


@pytest.fixture(autouse=True)
def fresh_cache():
    """The fetch throttle lives in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def account(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return AccountFactory(ig_id=IG_ID, access_token="IGAAprofiletesttoken1234567890")


def meta_error(code, message, subcode=None, status=400):
    error = {"message": message, "type": "IGApiException", "code": code, "fbtrace_id": "AbC"}
    if subcode:
        error["error_subcode"] = subcode
    return {"json": {"error": error}, "status": status}


def profile_calls(fake_meta):
    return [c for c in fake_meta.calls if c.request.url.startswith(PROFILE_URL)]


def test_first_contact_fetches_the_profile(deliver, account, fake_meta):
    fake_meta.get(PROFILE_URL, json=PROFILE)
    deliver(webhook_body(message_item("m-1", "hello")))
    conversation = Conversation.objects.get()
    assert conversation.customer_name == "Jane Doe"
    assert conversation.customer_username == "jane.doe"
    assert conversation.customer_picture_url == PROFILE["profile_pic"]
    assert conversation.customer_follower_count == 1234
    assert conversation.customer_follows_business is True
    assert conversation.business_follows_customer is False
    assert conversation.customer_is_verified is False
    assert conversation.profile_fetched_at == timezone.now()
    assert conversation.profile_error == ""
    (call,) = profile_calls(fake_meta)
    assert call.request.headers["Authorization"] == "Bearer IGAAprofiletesttoken1234567890"
    assert "follower_count" in call.request.url


def test_a_burst_from_a_new_customer_fetches_once(deliver, account, fake_meta):
    fake_meta.get(PROFILE_URL, json=PROFILE)
    items = [message_item(f"m-{i}", f"msg {i}", ts=BASE_MS + i) for i in range(3)]
    deliver(webhook_body(*items))
    deliver(webhook_body(message_item("m-9", "more", ts=BASE_MS + 9)))
    assert len(profile_calls(fake_meta)) == 1


def test_the_profile_is_refreshed_when_older_than_a_day(deliver, account, fake_meta, time_machine):
    fake_meta.get(PROFILE_URL, json=PROFILE)
    deliver(webhook_body(message_item("m-1", "hello")))
    time_machine.shift(timedelta(hours=23))
    deliver(webhook_body(message_item("m-2", "still there?", ts=BASE_MS + 1)))
    assert len(profile_calls(fake_meta)) == 1
    fake_meta.replace("GET", PROFILE_URL, json={**PROFILE, "name": "Jane D."})
    time_machine.shift(timedelta(hours=2))
    cache.clear()  # the hour-long fetch throttle is over too (Redis keeps its own clock)
    deliver(webhook_body(message_item("m-3", "hello again", ts=BASE_MS + 2)))
    assert len(profile_calls(fake_meta)) == 2
    assert Conversation.objects.get().customer_name == "Jane D."


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (meta_error(230, "User consent is required to access user profile"), "230: User consent"),
        (meta_error(100, "No matching user found", subcode=2018001), "100/2018001: No matching"),
    ],
)
def test_a_refused_profile_is_recorded_and_the_message_kept(
    deliver, account, fake_meta, error, expected
):
    fake_meta.get(PROFILE_URL, **error)
    deliver(webhook_body(message_item("m-1", "hello")))
    conversation = Conversation.objects.get()
    assert conversation.profile_error.startswith(expected)
    assert conversation.profile_fetched_at is None
    assert Message.objects.get().text == "hello"
    # Not asked again on every message.
    deliver(webhook_body(message_item("m-2", "hello?", ts=BASE_MS + 1)))
    assert len(profile_calls(fake_meta)) == 1


def test_a_dead_token_marks_the_account_for_reconnection(deliver, account, fake_meta):
    fake_meta.get(
        PROFILE_URL, **meta_error(190, "Error validating access token", subcode=463, status=401)
    )
    deliver(webhook_body(message_item("m-1", "hello")))
    account.refresh_from_db()
    assert account.status == InstagramAccount.Status.NEEDS_RECONNECT
    assert Conversation.objects.get().profile_error.startswith("190/463")
    assert Message.objects.count() == 1
    # Intake keeps going for an account that needs reconnecting, without calling Meta.
    deliver(webhook_body(message_item("m-2", "hello", sender="999")))
    assert Message.objects.count() == 2
    assert len(fake_meta.calls) == 1


def test_a_transient_failure_asks_for_a_retry(account, fake_meta):
    conversation = ConversationFactory(account=account, customer_igsid=CUSTOMER)
    fake_meta.get(PROFILE_URL, status=503, body="upstream unavailable")
    assert conversation_profile_fetch(conversation_id=conversation.pk) is True
    conversation.refresh_from_db()
    assert conversation.profile_error.startswith("http-503")
    fake_meta.replace("GET", PROFILE_URL, json=PROFILE)
    assert conversation_profile_fetch(conversation_id=conversation.pk) is False
    conversation.refresh_from_db()
    assert (conversation.customer_username, conversation.profile_error) == ("jane.doe", "")


def test_odd_profile_values_are_stored_safely(account, fake_meta):
    conversation = ConversationFactory(account=account, customer_igsid=CUSTOMER)
    fake_meta.get(
        PROFILE_URL,
        json={"name": "x" * 400, "follower_count": -3, "is_verified_user": "yes", "username": 7},
    )
    conversation_profile_fetch(conversation_id=conversation.pk)
    conversation.refresh_from_db()
    assert len(conversation.customer_name) == 255
    assert conversation.customer_follower_count is None
    assert conversation.customer_is_verified is None
    assert conversation.customer_username == ""


def test_the_task_returns_quietly_for_a_missing_conversation(caplog, fake_meta):
    with caplog.at_level("INFO", logger="inbox.services.profiles"):
        conversation_profile_fetch_task.delay(424242)
    assert "conversation 424242 is gone" in caplog.text
    assert not fake_meta.calls
