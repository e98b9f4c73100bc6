"""message_send_task: the window at send time, the claim, echoes, Meta's errors, retries."""

import logging
from datetime import timedelta

import pytest
import requests
import responses
import time_machine

from accounts.models import InstagramAccount
from inbox.models import Message, Reaction
from inbox.outbound import pacing
from inbox.outbound import tasks as send_tasks
from inbox.outbound.tasks import message_send_task
from tests.factories import AccountFactory, ConversationFactory, MessageFactory

from .sendkit import (
    T0,
    answer_error,
    answer_ok,
    bodies,
    reply,
    send_url,
)

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
S = timedelta(seconds=1)
D = timedelta(days=1)


def run_at(when, message):
    with time_machine.travel(when, tick=False):
        message_send_task(message.pk)
    message.refresh_from_db()
    return message


# --- the window, decided when the task runs -------------------------------------------


@pytest.mark.parametrize(
    ("age", "tagged"),
    [(24 * H - S, False), (24 * H + S, True), (7 * D - S, True)],
    ids=["23:59:59", "24:00:01", "6d23:59:59"],
)
def test_it_tags_only_replies_past_24_hours(meta, convo, writer, age, tagged):
    answer_ok(meta, convo.account)
    message = run_at(T0 + age, reply(convo, writer, text="Hello"))
    assert message.status == Message.Status.SENT
    assert message.mid == "aWdfmid_1"
    (body,) = bodies(meta)
    assert body["recipient"] == {"id": convo.customer_igsid}
    assert body["message"] == {"text": "Hello"}
    if tagged:
        assert body["messaging_type"] == "MESSAGE_TAG"
        assert body["tag"] == "HUMAN_AGENT"
        assert message.tag == Message.Tag.HUMAN_AGENT
    else:
        assert "tag" not in body
        assert "messaging_type" not in body
        assert message.tag == ""


def test_it_makes_no_call_past_7_days(meta, convo, writer):
    message = run_at(T0 + 7 * D + S, reply(convo, writer))
    assert len(meta.calls) == 0
    assert message.status == Message.Status.FAILED
    assert message.error_code == "window"
    assert "7 days" in message.error_reason
    assert "customer writes again" in message.error_reason


def test_with_the_switch_off_nothing_goes_out_past_24_hours(meta, convo, writer):
    InstagramAccount.objects.filter(pk=convo.account_id).update(human_agent_enabled=False)
    answer_ok(meta, convo.account)
    early = run_at(T0 + 24 * H - S, reply(convo, writer))
    late = run_at(T0 + 24 * H + S, reply(convo, writer))
    assert early.status == Message.Status.SENT
    assert "tag" not in bodies(meta)[0]
    assert late.status == Message.Status.FAILED
    assert "human agent tag is off" in late.error_reason
    assert len(meta.calls) == 1


def test_only_a_persons_reply_may_carry_the_tag(meta, convo):
    automated = reply(convo, None)
    message = run_at(T0 + 25 * H, automated)
    assert len(meta.calls) == 0
    assert message.status == Message.Status.FAILED
    assert "written by a person" in message.error_reason


def test_the_tag_is_decided_when_sending_not_when_queueing(meta, convo, writer):
    with time_machine.travel(T0 + 23 * H, tick=False):
        message = reply(convo, writer)
    answer_ok(meta, convo.account)
    message = run_at(T0 + 26 * H, message)
    assert bodies(meta)[0]["tag"] == "HUMAN_AGENT"
    assert message.tag == "HUMAN_AGENT"


def test_a_newer_customer_message_reopens_the_plain_window(meta, convo, writer):
    convo.last_customer_message_at = T0 + 3 * D
    convo.save()
    answer_ok(meta, convo.account)
    run_at(T0 + 3 * D + H, reply(convo, writer))
    assert "tag" not in bodies(meta)[0]


# --- bodies -------------------------------------------------------------------------


def test_it_sends_the_heart_sticker_and_attachments_in_metas_shapes(meta, convo, writer):
    answer_ok(meta, convo.account, mid="m1")
    answer_ok(meta, convo.account, mid="m2")
    sticker = reply(
        convo, writer, kind=Message.Kind.STICKER, text="", attachments=[{"type": "like_heart"}]
    )
    photo = reply(
        convo,
        writer,
        kind=Message.Kind.ATTACHMENT,
        text="",
        attachments=[{"type": "image", "url": "https://cdn.test/a.png"}],
    )
    run_at(T0 + H, sticker)
    run_at(T0 + H, photo)
    first, second = bodies(meta)
    assert first["message"] == {"attachment": {"type": "like_heart"}}
    assert second["message"] == {
        "attachment": {"type": "image", "payload": {"url": "https://cdn.test/a.png"}}
    }


def test_a_gateway_account_sends_to_its_own_base_url_with_its_token(meta, writer):
    account = AccountFactory(
        graph_api_url="http://gateway.test/v24.0",
        access_token="hmat_live_abc123",
        source=InstagramAccount.Source.ENV,
    )
    convo = ConversationFactory(account=account, last_customer_message_at=T0)
    meta.add(
        responses.POST,
        f"http://gateway.test/v24.0/{account.ig_id}/messages",
        json={"recipient_id": convo.customer_igsid, "message_id": "gw_mid"},
    )
    message = run_at(T0 + H, reply(convo, writer, text="Hi"))
    assert message.mid == "gw_mid"
    call = meta.calls[0]
    assert call.request.headers["Authorization"] == "Bearer hmat_live_abc123"
    assert call.request.headers["Content-Type"] == "application/json"
    assert bodies(meta)[0] == {"recipient": {"id": convo.customer_igsid}, "message": {"text": "Hi"}}


# --- claimed once ---------------------------------------------------------------------


def test_a_task_run_twice_sends_once(meta, convo, writer):
    answer_ok(meta, convo.account)
    message = reply(convo, writer)
    with time_machine.travel(T0 + H, tick=False):
        message_send_task(message.pk)
        message_send_task(message.pk)
    assert len(meta.calls) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_a_second_run_during_the_call_does_not_send_again(meta, convo, writer):
    message = reply(convo, writer)

    def meanwhile(request):
        message_send_task(message.pk)  # a redelivered task while the first is in flight
        return (200, {}, '{"recipient_id": "x", "message_id": "once"}')

    meta.add_callback(responses.POST, send_url(convo.account), callback=meanwhile)
    run_at(T0 + H, message)
    assert len(meta.calls) == 1
    assert message.status == Message.Status.SENT


def test_an_echo_that_arrives_before_the_send_returns_is_merged(meta, convo, writer):
    message = reply(convo, writer, text="Your order shipped")

    def echo_first(request):
        # The intake stores the echo of this very send before Meta answers us.
        echo = MessageFactory(
            conversation=convo,
            mid="echo_mid",
            direction=Message.Direction.OUTBOUND,
            origin=Message.Origin.BUSINESS_APP,
            status=Message.Status.SEEN,
            text="Your order shipped",
        )
        Message.objects.filter(pk=echo.pk).update(seen_at=T0 + 2 * H)
        Reaction.objects.create(message=echo, actor=Reaction.Actor.CUSTOMER, reaction="love")
        return (200, {}, '{"recipient_id": "x", "message_id": "echo_mid"}')

    meta.add_callback(responses.POST, send_url(convo.account), callback=echo_first)
    message = run_at(T0 + H, message)
    rows = Message.objects.filter(conversation=convo, mid="echo_mid")
    assert list(rows) == [message]
    assert message.origin == Message.Origin.AGENT
    assert message.status == Message.Status.SEEN  # the echo already knew it was seen
    assert message.reactions.get().actor == Reaction.Actor.CUSTOMER
    assert Message.objects.filter(conversation=convo, text="Your order shipped").count() == 1


# --- Meta's errors --------------------------------------------------------------------


def test_190_flags_the_account_and_stops_its_sends(meta, convo, writer):
    answer_error(meta, convo.account, 400, code=190, subcode=463)
    message = run_at(T0 + H, reply(convo, writer))
    convo.account.refresh_from_db()
    assert convo.account.status == InstagramAccount.Status.NEEDS_RECONNECT
    assert "190/463" in convo.account.status_reason
    assert message.status == Message.Status.QUEUED  # waits for the reconnection
    assert message.attempts == 0  # without burning an attempt
    assert message.error_code == "190/463"
    assert "Waiting for the account to be reconnected" in message.error_reason  # says why

    other = ConversationFactory(account=convo.account, last_customer_message_at=T0)
    run_at(T0 + H, reply(other, writer))
    assert len(meta.calls) == 1  # nothing more goes to Meta for this account


def test_after_reconnection_the_sweep_sends_what_waited(meta, convo, writer):
    answer_error(meta, convo.account, 400, code=190)
    answer_ok(meta, convo.account, mid="later")
    message = run_at(T0 + H, reply(convo, writer))
    InstagramAccount.objects.filter(pk=convo.account_id).update(status="active")
    with time_machine.travel(T0 + H + 2 * timedelta(minutes=1), tick=False):
        send_tasks.messages_sweep_task()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.mid == "later"
    assert message.attempts == 1
    assert message.error_reason == ""


@pytest.mark.parametrize(
    ("status", "code", "subcode", "says"),
    [
        (400, 10, 2534022, "reply window has ended"),
        (400, 10, 2018278, "reply window has ended"),
        (403, 10, None, "lacks a permission"),
        (400, 100, None, "rejected the message as invalid"),
        (400, 100, 2018001, "can't find this customer"),
        (400, 551, None, "isn't available"),
        (400, 1545041, None, "isn't available"),
        (403, 200, None, "missing a permission"),
        (403, 230, None, "message this account before"),
        (400, 368, None, "violating its policies"),
    ],
)
def test_a_permanent_error_fails_at_once_with_its_reason(
    meta, convo, writer, status, code, subcode, says
):
    answer_error(meta, convo.account, status, code=code, subcode=subcode)
    message = run_at(T0 + H, reply(convo, writer))
    assert len(meta.calls) == 1
    assert message.status == Message.Status.FAILED
    assert message.error_code == (f"{code}/{subcode}" if subcode else str(code))
    assert says in message.error_reason
    assert message.attempts == 1
    # Running the task again does nothing: failed is final until an agent retries.
    run_at(T0 + 2 * H, message)
    assert len(meta.calls) == 1


def test_a_timeout_leaves_the_message_unknown_and_never_resends_it(meta, convo, writer):
    meta.add(responses.POST, send_url(convo.account), body=requests.ReadTimeout())
    message = run_at(T0 + H, reply(convo, writer))
    assert message.status == Message.Status.UNKNOWN
    assert "Check the conversation in Instagram" in message.error_reason
    with time_machine.travel(T0 + 2 * H, tick=False):
        send_tasks.messages_sweep_task()
    assert len(meta.calls) == 1


# --- retries --------------------------------------------------------------------------


def test_two_transient_failures_then_success_deliver_once_within_2_minutes(
    meta, convo, writer, scheduled, wall_clock_limiter
):
    answer_error(meta, convo.account, 503, code=2)
    answer_error(meta, convo.account, 429)
    answer_ok(meta, convo.account, mid="finally")
    message = reply(convo, writer)
    with time_machine.travel(T0 + H, tick=False) as clock:
        message_send_task(message.pk)
        waited = 0.0
        while scheduled:
            _, countdown, kwargs = scheduled.pop()
            clock.shift(countdown)
            waited += countdown
            message_send_task(message.pk, **kwargs)
    message.refresh_from_db()
    assert [c.response.status_code for c in meta.calls] == [503, 429, 200]
    assert message.status == Message.Status.SENT
    assert message.mid == "finally"
    assert message.attempts == 3
    assert message.error_reason == ""
    assert waited < 15  # about 2 s then about 6 s: well inside the contract's 2 minutes


def test_a_retry_honours_retry_after(meta, convo, writer, scheduled):
    answer_error(meta, convo.account, 503, headers={"Retry-After": "40"})
    message = run_at(T0 + H, reply(convo, writer))
    assert message.status == Message.Status.QUEUED
    assert "retrying automatically" in message.error_reason
    assert message.error_code == "http-503"
    ((_, countdown, _),) = scheduled
    assert countdown == pytest.approx(40)
    assert message.next_attempt_at == T0 + H + timedelta(seconds=40)
    # A stray early run (the sweep, a duplicate) does not call Meta before then.
    run_at(T0 + H + 10 * S, message)
    assert len(meta.calls) == 1


def test_usage_headers_stretch_the_back_off(meta, convo, writer, scheduled):
    usage = (
        '{"1": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 2}]}'
    )
    answer_error(meta, convo.account, 400, code=80002, headers={"X-Business-Use-Case-Usage": usage})
    run_at(T0 + H, reply(convo, writer))
    assert scheduled[0][1] == pytest.approx(120)


def test_a_throttled_account_holds_back_its_other_replies(meta, convo, writer, scheduled):
    answer_error(meta, convo.account, 429, headers={"Retry-After": "30"})
    run_at(T0 + H, reply(convo, writer))
    other = ConversationFactory(account=convo.account, last_customer_message_at=T0)
    waiting = run_at(T0 + H, reply(other, writer))
    assert len(meta.calls) == 1
    assert waiting.status == Message.Status.QUEUED
    assert scheduled[-1][0] == waiting.pk
    assert scheduled[-1][1] > 25


def test_retries_are_counted_and_bounded(meta, convo, writer, settings):
    settings.INSTAGRAM_SEND_MAX_ATTEMPTS = 4
    answer_error(meta, convo.account, 500)
    message = reply(convo, writer)
    for n in range(1, 6):
        message = run_at(T0 + n * H, message)
    assert len(meta.calls) == 4
    assert message.attempts == 4
    assert message.status == Message.Status.FAILED
    assert message.error_code == "http-500"
    assert "gave up after 4 attempts" in message.error_reason


def test_the_back_off_grows_and_is_jittered():
    first = [pacing.retry_delay(attempt=1) for _ in range(50)]
    third = [pacing.retry_delay(attempt=3) for _ in range(50)]
    assert all(1 <= d <= 2 for d in first)
    assert all(9 <= d <= 18 for d in third)
    assert len(set(first)) > 1
    assert pacing.retry_delay(attempt=20) <= pacing.BACKOFF_MAX


# --- order and logs -------------------------------------------------------------------


def test_replies_in_one_conversation_leave_in_the_order_written(meta, convo, writer):
    answer_ok(meta, convo.account, mid="m1")
    answer_ok(meta, convo.account, mid="m2")
    first = reply(convo, writer, text="first")
    second = reply(convo, writer, text="second")
    run_at(T0 + H, second)  # its task ran first: it waits for the earlier reply
    assert len(meta.calls) == 0
    run_at(T0 + H, first)  # sends, then hands over to the next one
    assert [b["message"]["text"] for b in bodies(meta)] == ["first", "second"]
    second.refresh_from_db()
    assert second.status == Message.Status.SENT


def test_it_logs_before_and_after_without_token_or_text(meta, convo, writer, caplog):
    caplog.set_level(logging.INFO)
    answer_ok(meta, convo.account)
    message = run_at(T0 + H, reply(convo, writer, text="secret order details"))
    assert f"sending message {message.pk}" in caplog.text
    assert f"sent message {message.pk} as aWdfmid_1" in caplog.text
    assert caplog.text.index("sending message") < caplog.text.index("sent message")
    assert "secret order details" not in caplog.text
    assert convo.account.access_token not in caplog.text


def test_a_missing_message_is_logged_and_skipped(meta, caplog):
    caplog.set_level(logging.INFO)
    message_send_task(987654)
    assert "no longer exists" in caplog.text
    assert len(meta.calls) == 0


def test_a_full_usage_header_on_success_holds_the_account_back(meta, convo, writer, scheduled):
    usage = (
        '{"x": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 1}]}'
    )
    answer_ok(meta, convo.account, headers={"X-Business-Use-Case-Usage": usage})
    sent = run_at(T0 + H, reply(convo, writer))
    other = ConversationFactory(account=convo.account, last_customer_message_at=T0)
    waiting = run_at(T0 + H, reply(other, writer))
    assert sent.status == Message.Status.SENT
    assert waiting.status == Message.Status.QUEUED
    assert len(meta.calls) == 1
    assert scheduled[-1][1] == pytest.approx(60, abs=1)  # Meta's estimate: one minute
