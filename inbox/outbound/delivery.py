"""Delivering queued replies to Meta: claim the row, apply the window, pace, call, record.

Write-ahead: the reply is already a QUEUED row when this runs. A run claims it with a
conditional UPDATE (queued → sending), so two runs of the same task call Meta once. Meta is
called with no transaction open. The outcome tells the task whether to run again later (a
back-off or a rate-limit slot) and which reply of the conversation may go next: replies in
one conversation leave in the order they were written.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from accounts.meta import account_call, account_human_agent_refused
from inbox.models import Message
from inbox.services.control import conversation_control_note
from inbox.services.live import live_touch_message
from inbox.services.window import conversation_reply_window
from instagram.errors import AuthError, GraphError, RateLimitedError

from .echoes import message_record_sent
from .errors import (
    AUTOMATED_PAST_24H,
    UNKNOWN_NO_ANSWER,
    WAITING_FOR_RECONNECT,
    Refusal,
    error_reason,
    refusal_kind,
    retry_reason,
)
from .pacing import (
    Bucket,
    SendOutcome,
    bucket_for,
    bucket_pause,
    gate_pass,
    retry_delay,
    send_lease,
    slot_wait,
)

logger = logging.getLogger(__name__)

# How long to hold an account back when Meta reports it at 100 % without an estimate.
USAGE_FULL_PAUSE = 10.0

Status = Message.Status


def message_body(*, message: Message, tag: str) -> dict[str, Any]:
    """The JSON Meta receives for one reply."""
    if message.kind == Message.Kind.STICKER:
        payload: dict[str, Any] = {"attachment": {"type": "like_heart"}}
    elif message.kind == Message.Kind.ATTACHMENT:
        attachment = message.attachments[0]
        payload = {
            "attachment": {"type": attachment["type"], "payload": {"url": attachment["url"]}}
        }
    else:
        payload = {"text": message.text}
    body: dict[str, Any] = {
        "recipient": {"id": message.conversation.customer_igsid},
        "message": payload,
    }
    if tag:
        body["messaging_type"] = "MESSAGE_TAG"
        body["tag"] = tag
    return body


def next_queued_reply(message: Message) -> int | None:
    """The conversation's next reply waiting to leave after this one, if any."""
    return (
        Message.objects.filter(
            conversation_id=message.conversation_id,
            direction=Message.Direction.OUTBOUND,
            origin=Message.Origin.AGENT,
            status=Status.QUEUED,
        )
        .exclude(pk=message.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def _earlier_pending_reply(now: datetime) -> Exists:
    """An earlier reply of the same conversation that has not left yet. One "sending" past
    its lease lost its worker: whether Meta has it cannot be known, so waiting for it would
    only hold the thread until the sweep marks it unknown."""
    alive = Q(status=Status.QUEUED) | Q(
        status=Status.SENDING, sending_started_at__gte=now - send_lease()
    )
    return Exists(
        Message.objects.filter(
            alive,
            conversation_id=OuterRef("conversation_id"),
            direction=Message.Direction.OUTBOUND,
            origin=Message.Origin.AGENT,
            pk__lt=OuterRef("pk"),
        )
    )


def _window_now(message: Message, now: datetime) -> tuple[str, str]:
    """(tag, refusal) for sending this reply now, by the customer's last message."""
    window = conversation_reply_window(conversation=message.conversation, now=now)
    if not window.can_reply:
        return "", window.reason
    if window.tag and message.author_id is None:
        return "", AUTOMATED_PAST_24H  # the HUMAN_AGENT tag is for people only
    return window.tag, ""


def _finish(message: Message, *, status: str, code: str, reason: str, from_status: str) -> None:
    live_touch_message(message=message)
    Message.objects.filter(pk=message.pk, status=from_status).update(
        status=status,
        error_code=code[:40],
        error_reason=reason[:1000],
        next_attempt_at=None,
        updated_at=timezone.now(),
    )


def _defer(message: Message, *, seconds: float, from_status: str, **fields: Any) -> None:
    """Back to the queue, not due for `seconds` (the sweep leaves it alone until then)."""
    now = timezone.now()
    live_touch_message(message=message)
    Message.objects.filter(pk=message.pk, status=from_status).update(
        status=Status.QUEUED,
        next_attempt_at=now + timedelta(seconds=seconds),
        updated_at=now,
        **fields,
    )


def message_deliver(*, message_id: int, slot_at: float | None = None) -> SendOutcome:
    """One attempt at sending a queued reply."""
    message = (
        Message.objects.select_related("conversation__account")
        .annotate(waits=_earlier_pending_reply(timezone.now()))
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        logger.info("message %s no longer exists; nothing to send", message_id)
        return SendOutcome()
    if message.status != Status.QUEUED or message.origin != Message.Origin.AGENT:
        logger.info("message %s is %s; not sending it again", message_id, message.status or "in")
        return SendOutcome()
    account = message.conversation.account
    if not account.can_send:
        # It waits, without spending an attempt, saying why; reconnecting releases it
        # (`outbound/release.py`), and the sweep re-queues it should that task be lost.
        logger.info("message %s waits: account %s is %s", message_id, account.pk, account.status)
        _hold_for_reconnect(message)
        return SendOutcome()
    now = timezone.now()
    if message.next_attempt_at and message.next_attempt_at > now + timedelta(seconds=1):
        # Not due yet (a back-off, a booked slot): its own scheduled task runs it then, and
        # the sweep if that task is lost. This run is a stray (a hand-over, a redelivery).
        logger.info("message %s is not due yet; leaving it to its scheduled run", message_id)
        return SendOutcome()
    if message.waits:
        # The earlier reply hands over to this one when it is done (see follow_up).
        logger.info("message %s waits for an earlier reply in its conversation", message_id)
        return SendOutcome()
    tag, refusal = _window_now(message, now)
    if refusal:
        return _refuse(message, refusal)

    bucket = bucket_for(account_id=account.pk, attachments=message.attachments)
    later = slot_wait(bucket=bucket, slot_at=slot_at)
    if later is not None:
        assert later.retry_in is not None
        _defer(message, seconds=later.retry_in, from_status=Status.QUEUED)
        return later

    now = timezone.now()
    tag, refusal = _window_now(message, now)  # the wait may have crossed an edge
    if refusal:
        return _refuse(message, refusal)
    claimed = Message.objects.filter(pk=message.pk, status=Status.QUEUED).update(
        status=Status.SENDING,
        sending_started_at=now,
        attempts=F("attempts") + 1,
        tag=tag,
        next_attempt_at=None,
        error_code="",
        error_reason="",  # why it waited: no longer true once it is on its way
        updated_at=now,
    )
    if not claimed:
        logger.info("message %s was claimed by another run; not sending it again", message_id)
        return SendOutcome()
    live_touch_message(message=message)
    message.attempts += 1
    return _call(message, tag=tag, bucket=bucket)


def _hold_for_reconnect(message: Message) -> None:
    if message.error_reason != WAITING_FOR_RECONNECT:
        live_touch_message(message=message)
        Message.objects.filter(pk=message.pk, status=Status.QUEUED).update(
            error_reason=WAITING_FOR_RECONNECT, updated_at=timezone.now()
        )


def _refuse(message: Message, reason: str) -> SendOutcome:
    logger.info("message %s not sent: the reply window is closed", message.pk)
    _finish(message, status=Status.FAILED, code="window", reason=reason, from_status=Status.QUEUED)
    return SendOutcome(follow_up=next_queued_reply(message))


def _call(message: Message, *, tag: str, bucket: Bucket) -> SendOutcome:
    account = message.conversation.account
    body = message_body(message=message, tag=tag)
    logger.info(
        "sending message %s (account %s, %s%s, attempt %d)",
        message.pk,
        account.pk,
        message.kind,
        ", HUMAN_AGENT tag" if tag else "",
        message.attempts,
    )
    closed = gate_pass(bucket=bucket)  # last thing before the request leaves
    if closed is not None:
        assert closed.retry_in is not None
        logger.info("message %s not sent yet: the account's rate limit is closed", message.pk)
        _defer(
            message,
            seconds=closed.retry_in,
            from_status=Status.SENDING,
            attempts=F("attempts") - 1,
            sending_started_at=None,
        )
        return closed
    try:
        with account_call(account, doing="sending a reply") as client:
            sent = client.send_message(ig_id=account.ig_id, body=body)
    except GraphError as error:
        return _failed_call(message, error, bucket=bucket, tag=tag)
    if client.last_usage is not None and client.last_usage.percent >= 100:
        # Meta says the account's allowance is used up: slow down before it starts refusing.
        bucket_pause(bucket=bucket, seconds=client.last_usage.regain_after or USAGE_FULL_PAUSE)
    mid = sent.message_id
    if not mid:
        logger.warning("message %s: Meta answered without a message id", message.pk)
    message_record_sent(message=message, mid=mid)
    # Meta took it, so no other app holds the thread against us now.
    conversation_control_note(conversation=message.conversation, at=timezone.now(), standby=False)
    logger.info("sent message %s as %s", message.pk, mid or "(no mid)")
    return SendOutcome(follow_up=next_queued_reply(message))


def _failed_call(message: Message, error: GraphError, *, bucket: Bucket, tag: str) -> SendOutcome:
    label = error.code_label
    sending = Status.SENDING
    if isinstance(error, AuthError):
        # The account is marked for reconnection (`account_call`). The reply waits for it
        # without burning the attempt it just made, saying why.
        _defer(
            message,
            seconds=0,
            from_status=sending,
            attempts=F("attempts") - 1,
            error_code=label[:40],
            error_reason=WAITING_FOR_RECONNECT,
        )
        logger.info("message %s waits: the account's token was refused (%s)", message.pk, label)
        return SendOutcome()
    if error.maybe_delivered:
        logger.warning("message %s: unknown outcome (%s)", message.pk, label)
        _finish(
            message,
            status=Status.UNKNOWN,
            code=label,
            reason=UNKNOWN_NO_ANSWER,
            from_status=sending,
        )
        return SendOutcome(follow_up=next_queued_reply(message))
    if not error.retryable:
        logger.info("message %s failed: %s %s", message.pk, type(error).__name__, label)
        refusal = _refusal(message, error, tagged=bool(tag))
        _finish(
            message,
            status=Status.FAILED,
            code=label,
            reason=error_reason(error, refusal=refusal),
            from_status=sending,
        )
        return SendOutcome(follow_up=next_queued_reply(message))
    return _retry_or_give_up(message, error, bucket=bucket)


def _refusal(message: Message, error: GraphError, *, tagged: bool) -> Refusal:
    """What Meta's refusal means beyond this reply; a refused Human Agent tag turns the
    account's switch off (and tells the admins) so the next replies are not sent to fail."""
    conversation = message.conversation
    refusal = refusal_kind(
        error, tagged=tagged, other_app_controls=conversation.other_app_since is not None
    )
    if refusal == Refusal.HUMAN_AGENT:
        account_human_agent_refused(account_id=conversation.account_id)
    return refusal


def _retry_or_give_up(message: Message, error: GraphError, *, bucket: Bucket) -> SendOutcome:
    label, attempts = error.code_label, message.attempts
    if attempts >= settings.INSTAGRAM_SEND_MAX_ATTEMPTS:
        logger.warning("message %s failed after %d attempts (%s)", message.pk, attempts, label)
        _finish(
            message,
            status=Status.FAILED,
            code=label,
            reason=retry_reason(error, attempts=attempts, final=True),
            from_status=Status.SENDING,
        )
        return SendOutcome(follow_up=next_queued_reply(message))
    delay = retry_delay(attempt=attempts, error=error)
    if isinstance(error, RateLimitedError):
        # Meta throttles the account, not the message: hold back its other replies too.
        bucket_pause(bucket=bucket, seconds=delay)
    logger.info("message %s will retry in %.1fs after %s", message.pk, delay, label)
    _defer(
        message,
        seconds=delay,
        from_status=Status.SENDING,
        error_code=label[:40],
        error_reason=retry_reason(error, attempts=attempts, final=False),
    )
    return SendOutcome(retry_in=delay)
