"""Customers' media expire: stories past a day show the placeholder without trying, and the
Refresh media action asks Meta for new links (GET /{mid}?fields=attachments)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from inbox.models import Conversation, Message
from tests.factories import AccountFactory, ConversationFactory, MessageFactory
from tests.fixtures import meta_fixture
from tests.webhooks import CUSTOMER, IG_ID, webhook_fixture

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.instagram.com/v24.0"
EXPIRED = "No longer available on Instagram"
FIXTURE_TIME = datetime(2025, 10, 9, 8, 53, 20, tzinfo=UTC)  # the fixtures' clock
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def an_hour_after_the_fixtures():
    with time_machine.travel(FIXTURE_TIME + timedelta(hours=1), tick=False):
        yield


@pytest.fixture
def account(fake_meta):
    fake_meta.get(f"{GRAPH}/{CUSTOMER}", json={"name": "Jane Doe", "username": "jane.doe"})
    return AccountFactory(ig_id=IG_ID)


@pytest.fixture
def logged_in(client, account):
    from tests.factories import UserFactory

    user = UserFactory(username="alice")
    account.members.add(user)
    client.force_login(user)
    return client


def thread(client) -> str:
    conversation = Conversation.objects.get()
    return client.get(f"/c/{conversation.pk}/").content.decode()


def message_html(html: str, message: Message) -> str:
    return re.search(rf'<article[^>]*id="m-{message.pk}".*?</article>', html, re.S).group(0)


# --- stories ------------------------------------------------------------------------------


def test_a_fresh_story_mention_shows_its_media_from_meta_link(deliver, logged_in):
    deliver(webhook_fixture("message_story_mention"))
    html = message_html(thread(logged_in), Message.objects.get())
    assert "Mentioned you in their story" in html
    assert 'data-media="story"' in html
    assert (
        '<img src="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=180000000000041' in html
    )
    assert EXPIRED not in html


def test_a_story_mention_older_than_a_day_shows_the_placeholder_without_trying(
    deliver, logged_in, time_machine
):
    deliver(webhook_fixture("message_story_mention"))
    time_machine.move_to(FIXTURE_TIME + timedelta(hours=25), tick=False)
    html = message_html(thread(logged_in), Message.objects.get())
    assert EXPIRED in html
    assert "lookaside.fbsbx.com" not in html
    assert "<img" not in html


def test_a_story_reply_older_than_a_day_shows_the_placeholder_and_keeps_the_text(
    deliver, logged_in
):
    deliver(webhook_fixture("message_story_reply_old"))
    message = Message.objects.get()
    assert message.reply_to_story_url.startswith("https://lookaside.fbsbx.com/")  # the link stays
    html = message_html(thread(logged_in), message)
    assert "Replied to your story" in html
    assert EXPIRED in html
    assert "Where can I buy this?" in html
    assert "lookaside.fbsbx.com" not in html


def test_a_fresh_story_reply_shows_the_story_and_its_link(deliver, logged_in):
    deliver(webhook_fixture("message_story_reply"))
    html = message_html(thread(logged_in), Message.objects.get())
    assert 'class="media media-story story-thumb" data-media="story"' in html
    assert "View story" in html
    assert EXPIRED not in html


def test_a_shared_story_shows_its_story_media_url(deliver, logged_in):
    deliver(webhook_fixture("message_shared_story"))
    message = Message.objects.get()
    html = message_html(thread(logged_in), message)
    media = message.attachments[0]["story_media_url"]
    assert f'<img src="{media}"'.replace("&", "&amp;") in html
    assert 'href="https://www.instagram.com/stories/another.shop/3500000000000000043/"' in html
    assert "Shared a story" in html


def test_a_story_media_url_that_is_not_http_is_never_put_in_a_src(logged_in, account):
    conversation = ConversationFactory(account=account, customer_igsid=CUSTOMER)
    MessageFactory(
        conversation=conversation,
        kind="attachment",
        text="",
        attachments=[{"type": "ig_story", "url": "", "story_media_url": "javascript:alert(1)"}],
    )
    html = thread(logged_in)
    assert "javascript:" not in html


# --- the Refresh media action -----------------------------------------------------------------


@pytest.fixture
def photos(deliver, account):
    """The first message of the attachments fixture: two photos and a video."""
    deliver(webhook_fixture("message_attachments"))
    return Message.objects.order_by("timestamp").first()


def refresh_url(message: Message) -> str:
    return f"/m/{message.pk}/refresh/"


def attachments_url(message: Message) -> str:
    return f"{GRAPH}/{message.mid}"


def test_only_messages_with_media_offer_the_refresh_button(photos, logged_in):
    html = thread(logged_in)
    assert html.count('class="media-refresh"') == 3  # photos+video, audio, file
    assert refresh_url(photos) in message_html(html, photos)
    form = re.search(r'<form class="media-refresh".*?</form>', html, re.S).group(0)
    assert 'method="post"' in form
    assert "csrfmiddlewaretoken" in form


def test_refresh_stores_the_new_links_and_the_thread_shows_them(photos, logged_in, fake_meta):
    fake_meta.get(attachments_url(photos), json=meta_fixture("graph", "message_attachments"))
    response = logged_in.post(refresh_url(photos))
    assert response.status_code == 302
    call = fake_meta.calls[-1].request
    assert call.params["fields"] == "attachments"
    assert call.headers["Authorization"] == f"Bearer {photos.account.access_token}"
    photos.refresh_from_db()
    assert [a["url"][-6:] for a in photos.attachments] == ["FrEsH1", "FrEsH2", "FrEsH3"]
    assert [a["type"] for a in photos.attachments] == ["image", "image", "video"]
    html = logged_in.get(response["Location"]).content.decode()
    assert "Media links refreshed." in html
    assert "signature=FrEsH1" in message_html(html, photos)


def test_htmx_refresh_answers_204_and_asks_the_page_to_update(photos, logged_in, fake_meta):
    fake_meta.get(attachments_url(photos), json=meta_fixture("graph", "message_attachments"))
    response = logged_in.post(refresh_url(photos), headers=HTMX)
    assert response.status_code == 204
    assert "inbox:changed" in response["HX-Trigger"]


def test_a_refusal_for_an_older_message_is_told_in_words(photos, logged_in, fake_meta):
    before = list(photos.attachments)
    fake_meta.get(
        attachments_url(photos),
        json=meta_fixture("graph", "error_message_not_readable"),
        status=400,
    )
    response = logged_in.post(refresh_url(photos), follow=True)
    html = response.content.decode()
    assert "only for the 20 newest messages of a conversation" in html
    photos.refresh_from_db()
    assert photos.attachments == before  # the old links stay


def test_a_refusal_over_htmx_is_shown_where_actions_show_errors(photos, logged_in, fake_meta):
    fake_meta.get(
        attachments_url(photos),
        json=meta_fixture("graph", "error_message_not_readable"),
        status=400,
    )
    response = logged_in.post(refresh_url(photos), headers=HTMX)
    assert response.status_code == 422
    assert "20 newest messages" in response.content.decode()


def test_an_answer_without_media_is_a_refusal_too(photos, logged_in, fake_meta):
    fake_meta.get(attachments_url(photos), json={"id": photos.mid})
    response = logged_in.post(refresh_url(photos), headers=HTMX)
    assert response.status_code == 422
    assert "20 newest messages" in response.content.decode()


def test_a_busy_meta_says_try_again(photos, logged_in, fake_meta):
    fake_meta.get(attachments_url(photos), status=503, json={"error": {"message": "down"}})
    response = logged_in.post(refresh_url(photos), headers=HTMX)
    assert "Try again in a minute" in response.content.decode()


def test_another_accounts_message_answers_404_and_calls_no_one(logged_in, fake_meta):
    other = MessageFactory(
        conversation=ConversationFactory(account=AccountFactory()),
        kind="attachment",
        attachments=[{"type": "image", "url": "https://lookaside.fbsbx.com/x"}],
    )
    calls = len(fake_meta.calls)
    assert logged_in.post(refresh_url(other)).status_code == 404
    assert logged_in.post("/m/999999/refresh/").status_code == 404
    assert len(fake_meta.calls) == calls


def test_refresh_needs_post_and_a_csrf_token(photos, logged_in, fake_meta):
    assert logged_in.get(refresh_url(photos)).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(photos.conversation.account.members.get())
    calls = len(fake_meta.calls)
    assert strict.post(refresh_url(photos)).status_code == 403
    assert len(fake_meta.calls) == calls


def test_a_message_without_media_is_refused_without_a_call(logged_in, account, fake_meta):
    text = MessageFactory(conversation=ConversationFactory(account=account))
    calls = len(fake_meta.calls)
    response = logged_in.post(refresh_url(text), headers=HTMX)
    assert response.status_code == 422
    assert "no media" in response.content.decode()
    assert len(fake_meta.calls) == calls
