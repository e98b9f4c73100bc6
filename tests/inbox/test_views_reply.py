"""The reply box, reactions and retry through the views (plain forms and htmx)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Message, Reaction
from inbox.outbound.errors import UNKNOWN_STUCK
from tests.factories import ConversationFactory, MessageFactory, OutboundMessageFactory
from tests.inbox.outbound.sendkit import answer_ok, bodies

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def conversation(account):
    recent = timezone.now() - timedelta(hours=1)
    return ConversationFactory(account=account, last_customer_message_at=recent)


@pytest.fixture
def logged_in(client, agent, django_capture_on_commit_callbacks):
    """A client whose requests also run what they queue on commit (the send task, eager)."""
    client.force_login(agent)
    post = client.post

    def post_and_commit(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = post_and_commit
    return client


def outbound(conversation):
    return list(conversation.messages.filter(direction="out").order_by("pk"))


def test_a_plain_form_post_sends_the_reply(logged_in, agent, conversation, meta):
    answer_ok(meta, conversation.account, mid="m_plain_1")
    response = logged_in.post(
        f"/c/{conversation.pk}/", {"text": "Hello there!", "list_query": "box=mine"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/c/{conversation.pk}/?box=mine"
    [message] = outbound(conversation)
    assert (message.text, message.author, message.status) == ("Hello there!", agent, "sent")
    assert bodies(meta) == [
        {"recipient": {"id": conversation.customer_igsid}, "message": {"text": "Hello there!"}}
    ]
    page = logged_in.get(response["Location"]).content.decode()
    assert "Hello there!" in page
    assert "✓ Sent" in page


def test_an_htmx_post_answers_204_and_asks_for_a_refresh(logged_in, conversation, meta):
    answer_ok(meta, conversation.account)
    response = logged_in.post(f"/c/{conversation.pk}/", {"text": "via htmx"}, headers=HTMX)
    assert response.status_code == 204
    assert "inbox:changed" in response["HX-Trigger"]
    assert outbound(conversation)[0].text == "via htmx"


def test_it_refuses_text_over_1000_bytes_and_keeps_the_draft(logged_in, conversation, meta):
    text = "é" * 500 + "x"  # 1001 bytes in UTF-8, 501 characters
    response = logged_in.post(f"/c/{conversation.pk}/", {"text": text})
    assert response.status_code == 422
    html = response.content.decode()
    assert "1,001 bytes" in html
    assert "1,000" in html
    assert f">{text}</textarea>" in html
    assert not outbound(conversation)
    assert not meta.calls


def test_htmx_refusals_come_back_as_422_with_the_reason(logged_in, conversation, meta):
    response = logged_in.post(f"/c/{conversation.pk}/", {"text": "x" * 1001}, headers=HTMX)
    assert response.status_code == 422
    assert "1,001 bytes" in response.content.decode()


def test_exactly_1000_bytes_goes_out(logged_in, conversation, meta):
    answer_ok(meta, conversation.account)
    logged_in.post(f"/c/{conversation.pk}/", {"text": "é" * 500})
    assert len(outbound(conversation)) == 1


def test_a_closed_window_sends_nothing_and_says_why(logged_in, conversation, meta):
    conversation.last_customer_message_at = timezone.now() - timedelta(days=8)
    conversation.save()
    response = logged_in.post(f"/c/{conversation.pk}/", {"text": "anyone there?"})
    assert response.status_code == 422
    assert "More than 7 days" in response.content.decode()
    assert not outbound(conversation)
    assert not meta.calls


def test_past_24_hours_the_reply_carries_the_human_agent_tag(logged_in, conversation, meta):
    conversation.last_customer_message_at = timezone.now() - timedelta(days=2)
    conversation.save()
    assert (
        "Sent with the human agent tag" in logged_in.get(f"/c/{conversation.pk}/").content.decode()
    )
    answer_ok(meta, conversation.account)
    logged_in.post(f"/c/{conversation.pk}/", {"text": "Sorry for the wait"})
    assert bodies(meta)[0]["tag"] == "HUMAN_AGENT"
    assert outbound(conversation)[0].tag == "HUMAN_AGENT"


def test_an_empty_reply_is_refused(logged_in, conversation, meta):
    response = logged_in.post(f"/c/{conversation.pk}/", {"text": "   "}, headers=HTMX)
    assert response.status_code == 422
    assert not outbound(conversation)


def test_the_heart_goes_out_alone_and_leaves_the_text(logged_in, conversation, meta):
    answer_ok(meta, conversation.account)
    response = logged_in.post(
        f"/c/{conversation.pk}/", {"text": "draft", "sticker": "1"}, headers=HTMX
    )
    assert response.status_code == 204
    [message] = outbound(conversation)
    assert message.kind == Message.Kind.STICKER
    assert bodies(meta)[0]["message"] == {"attachment": {"type": "like_heart"}}


def test_a_pasted_link_is_sent_as_an_attachment(logged_in, conversation, meta):
    answer_ok(meta, conversation.account)
    logged_in.post(
        f"/c/{conversation.pk}/",
        {
            "text": "",
            "attachment_url": "https://cdn.example.com/photo.jpg",
            "attachment_type": "image",
        },
    )
    [message] = outbound(conversation)
    assert message.kind == Message.Kind.ATTACHMENT
    assert bodies(meta)[0]["message"]["attachment"]["type"] == "image"


def test_a_heart_reaction_on_a_customer_message(logged_in, conversation, meta):
    message = MessageFactory(conversation=conversation)
    meta.add(
        "POST",
        f"{conversation.account.graph_api_url}/{conversation.account.ig_id}/messages",
        json={"recipient_id": "x"},
    )
    response = logged_in.post(f"/m/{message.pk}/react/", headers=HTMX)
    assert response.status_code == 204
    assert Reaction.objects.filter(message=message, actor="business").exists()
    assert bodies(meta)[0]["sender_action"] == "react"
    logged_in.post(f"/m/{message.pk}/react/", {"remove": "1"}, headers=HTMX)
    assert not Reaction.objects.filter(message=message, actor="business").exists()


def test_reacting_to_our_own_message_is_refused(logged_in, conversation, meta):
    ours = OutboundMessageFactory(conversation=conversation, status="sent", mid="m_ours")
    response = logged_in.post(f"/m/{ours.pk}/react/", headers=HTMX)
    assert response.status_code == 422
    assert "customer&#x27;s messages" in response.content.decode()


def test_retry_sends_a_failed_reply_again(logged_in, agent, conversation, meta):
    failed = OutboundMessageFactory(
        conversation=conversation,
        author=agent,
        status="failed",
        error_code="2",
        error_reason="Meta was down",
    )
    answer_ok(meta, conversation.account, mid="m_retry")
    response = logged_in.post(f"/m/{failed.pk}/retry/")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert failed.error_reason == ""


def test_retrying_a_sent_reply_is_refused(logged_in, agent, conversation, meta):
    sent = OutboundMessageFactory(conversation=conversation, author=agent, status="sent")
    response = logged_in.post(f"/m/{sent.pk}/retry/", headers=HTMX)
    assert response.status_code == 422


@pytest.fixture
def unknown(agent, conversation):
    return OutboundMessageFactory(
        conversation=conversation,
        author=agent,
        text="See you at 5",
        status="unknown",
        error_code="unknown",
        error_reason=UNKNOWN_STUCK,
    )


def test_an_unknown_reply_shows_why_and_a_send_again_button(logged_in, conversation, unknown):
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    article = page[page.index(f'id="m-{unknown.pk}"') :]
    article = article[: article.index("</article>")]
    assert "We could not tell whether Instagram received this." in article
    assert f'action="/m/{unknown.pk}/retry/"' in article
    assert "Send again" in article
    assert "hx-confirm=" in article  # with htmx: the browser asks first
    assert "onclick" not in article
    assert "onsubmit" not in article
    assert 'name="confirmed"' not in article  # the plain form takes the second step


def test_sending_an_unknown_reply_again_asks_first_without_javascript(
    logged_in, conversation, unknown, meta
):
    answer_ok(meta, conversation.account, mid="m_again")
    step = logged_in.post(f"/m/{unknown.pk}/retry/")
    assert step.status_code == 200
    page = step.content.decode()
    assert "Send this reply again?" in page
    assert "See you at 5" in page
    assert "Check the conversation in Instagram before sending again." in page
    assert '<input type="hidden" name="confirmed" value="1">' in page
    assert "csrfmiddlewaretoken" in page
    unknown.refresh_from_db()
    assert unknown.status == "unknown"
    assert len(meta.calls) == 0

    done = logged_in.post(f"/m/{unknown.pk}/retry/", {"confirmed": "1"})
    assert done.status_code == 302
    unknown.refresh_from_db()
    assert unknown.status == "sent"
    assert unknown.mid == "m_again"
    assert len(meta.calls) == 1


def test_the_confirmation_page_can_be_opened_as_a_link(logged_in, unknown):
    page = logged_in.get(f"/m/{unknown.pk}/retry/")
    assert page.status_code == 200
    assert "Send this reply again?" in page.content.decode()


def test_sending_an_unknown_reply_again_asks_first_with_htmx(
    logged_in, conversation, unknown, meta
):
    answer_ok(meta, conversation.account)
    step = logged_in.post(f"/m/{unknown.pk}/retry/", headers=HTMX)
    assert step.status_code == 200
    part = step.content.decode()
    assert "<html" not in part
    assert "Send this reply again?" in part
    assert f'hx-post="/m/{unknown.pk}/retry/"' in part
    unknown.refresh_from_db()
    assert unknown.status == "unknown"

    done = logged_in.post(f"/m/{unknown.pk}/retry/", {"confirmed": "1"}, headers=HTMX)
    assert done.status_code == 204
    assert "inbox:changed" in done["HX-Trigger"]
    unknown.refresh_from_db()
    assert unknown.status == "sent"
    assert len(meta.calls) == 1


def test_a_failed_reply_still_goes_again_in_one_click(logged_in, agent, conversation, meta):
    answer_ok(meta, conversation.account)
    failed = OutboundMessageFactory(conversation=conversation, author=agent, status="failed")
    assert logged_in.post(f"/m/{failed.pk}/retry/", headers=HTMX).status_code == 204
    failed.refresh_from_db()
    assert failed.status == "sent"


def test_another_accounts_reply_cannot_be_sent_again(logged_in, meta):
    theirs = OutboundMessageFactory(
        conversation=ConversationFactory(), status="unknown", error_reason=UNKNOWN_STUCK
    )
    assert logged_in.get(f"/m/{theirs.pk}/retry/").status_code == 404
    assert logged_in.post(f"/m/{theirs.pk}/retry/").status_code == 404
    confirmed = logged_in.post(f"/m/{theirs.pk}/retry/", {"confirmed": "1"}, headers=HTMX)
    assert confirmed.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "unknown"
    assert len(meta.calls) == 0


def test_line_breaks_arrive_as_newlines(logged_in, conversation, meta):
    answer_ok(meta, conversation.account)
    logged_in.post(f"/c/{conversation.pk}/", {"text": "line one\r\nline two"})
    assert bodies(meta)[0]["message"]["text"] == "line one\nline two"


def test_an_uploaded_photo_is_stored_and_sent_by_its_public_url(
    logged_in, conversation, meta, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    answer_ok(meta, conversation.account)
    response = logged_in.post(
        f"/c/{conversation.pk}/",
        {
            "text": "",
            "attachment_type": "image",
            "upload": SimpleUploadedFile("p.png", png, "image/png"),
        },
        headers=HTMX,
    )
    assert response.status_code == 204
    [message] = outbound(conversation)
    assert message.kind == Message.Kind.ATTACHMENT
    sent = bodies(meta)[0]["message"]["attachment"]
    assert sent["type"] == "image"
    assert sent["payload"]["url"].startswith("http://testserver/")


def test_a_file_instagram_does_not_take_is_refused_with_the_reason(
    logged_in, conversation, meta, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    response = logged_in.post(
        f"/c/{conversation.pk}/",
        {"upload": SimpleUploadedFile("notes.txt", b"just text", "text/plain")},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Instagram accepts" in response.content.decode()
    assert not outbound(conversation)
    assert not meta.calls
