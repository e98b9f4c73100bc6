"""The race between our send and Meta's echo of it, both halves in one place.

Meta echoes every message the business sends, ours included, as a webhook. The echo can
arrive before our send call's answer, after it, or instead of it (the call timed out):
- the echo's side (`echo_confirm_own_send`, `echo_adopt_own_send`): an echo whose mid we
  know confirms that send; an echo without a known mid may be an in-flight send of ours
  (same text, or the same single attachment), which takes the echo's mid;
- the send's side (`message_record_sent`): a reply recorded as sent with a mid that an
  early echo already stored folds that echo into itself.
Either way the conversation shows the message once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Conversation, Message, Reaction
from inbox.services.live import live_touch, live_touch_message
from instagram.events import MessageEvent

logger = logging.getLogger(__name__)

Status = Message.Status
# How recent one of our sends must be for an echo without its mid to be taken for it.
ADOPT_WINDOW = timedelta(minutes=15)
IN_FLIGHT = (Status.QUEUED, Status.SENDING, Status.UNKNOWN)


# --- the echo's side ------------------------------------------------------------------
def echo_confirm_own_send(*, account: InstagramAccount, mid: str, sent_at: datetime) -> bool:
    """The echo of a message already known by its mid: confirm delivery, create nothing."""
    existing = Message.objects.filter(account=account, mid=mid[:255]).first()
    if existing is None:
        return False
    Message.objects.filter(
        pk=existing.pk, direction=Message.Direction.OUTBOUND, status__in=IN_FLIGHT
    ).update(status=Status.SENT, sent_at=sent_at, updated_at=timezone.now())
    live_touch_message(message=existing)
    return True


def echo_adopt_own_send(
    *, account: InstagramAccount, conversation: Conversation, event: MessageEvent, sent_at: datetime
) -> bool:
    """The echo can beat our send call's answer: take the matching in-flight send as this
    message (same text, or the same single attachment URL) instead of a second copy."""
    candidates = Message.objects.filter(
        conversation=conversation,
        origin=Message.Origin.AGENT,
        direction=Message.Direction.OUTBOUND,
        mid="",
        status__in=IN_FLIGHT,
        created_at__gte=timezone.now() - ADOPT_WINDOW,
    ).order_by("created_at", "id")
    if event.text:
        candidates = candidates.filter(text=event.text)
    elif len(event.attachments) == 1 and event.attachments[0].url:
        url = event.attachments[0].url
        candidates = candidates.filter(text="")
        matching = [m.pk for m in candidates[:20] if _single_attachment_url(m) == url]
        candidates = candidates.filter(pk__in=matching)
    else:
        return False
    for candidate_id in candidates.values_list("pk", flat=True)[:5]:
        try:
            with transaction.atomic():
                adopted = Message.objects.filter(pk=candidate_id, mid="").update(
                    mid=event.mid[:255],
                    status=Status.SENT,
                    sent_at=sent_at,
                    updated_at=timezone.now(),
                )
        except IntegrityError:  # another row got this mid meanwhile: that row is the message
            return echo_confirm_own_send(account=account, mid=event.mid, sent_at=sent_at)
        if adopted:
            live_touch(account_id=account.pk, conversation_id=conversation.pk)
            return True
    return False


def _single_attachment_url(message: Message) -> str:
    attachments = message.attachments
    if isinstance(attachments, list) and len(attachments) == 1:
        first = attachments[0]
        if isinstance(first, dict):
            return str(first.get("url", ""))
    return ""


# --- the send's side ------------------------------------------------------------------
def message_record_sent(*, message: Message, mid: str) -> None:
    """Mark a reply sent with Meta's mid. If its echo got here first (a BUSINESS_APP row
    with that mid, which the unique constraint reports), the echo is folded into the reply
    in one transaction, so the conversation never shows the message twice."""
    now = timezone.now()
    fields = {
        "status": Status.SENT,
        "mid": mid,
        "sent_at": now,
        "error_code": "",
        "error_reason": "",
        "next_attempt_at": None,
        "updated_at": now,
    }
    pending = Message.objects.filter(pk=message.pk, status__in=[Status.SENDING, Status.UNKNOWN])
    live_touch_message(message=message)
    for _ in range(3):
        try:
            if not mid or not transaction.get_connection().in_atomic_block:
                pending.update(**fields)  # the usual case: no echo yet, one statement
                return
            with transaction.atomic():  # a savepoint: a conflict must not spoil the caller's
                pending.update(**fields)
            return
        except IntegrityError:
            pass
        try:
            with transaction.atomic():
                fields["mid"], seen_at = _absorb_echo(message=message, mid=mid)
                if seen_at:
                    fields.update(status=Status.SEEN, seen_at=seen_at)
                pending.update(**fields)
            return
        except IntegrityError:
            # Another echo write raced us: look again.
            logger.info("message %s: its echo arrived while recording; merging", message.pk)
    raise RuntimeError(f"could not record message {message.pk} as sent")


def _absorb_echo(*, message: Message, mid: str) -> tuple[str, datetime | None]:
    """(the mid to store, when the customer saw it if the echo already knew)."""
    echo = (
        Message.objects.select_for_update()
        .filter(account_id=message.account_id, mid=mid)
        .exclude(pk=message.pk)
        .first()
    )
    if echo is None:
        return mid, None
    if echo.origin != Message.Origin.BUSINESS_APP:
        # Never seen in practice: keep both rows rather than lose either.
        logger.error("message %s: mid %s already belongs to message %s", message.pk, mid, echo.pk)
        return "", None
    Reaction.objects.filter(message=echo).update(message=message)
    echo.delete()
    logger.info("message %s: adopted its early echo %s", message.pk, echo.pk)
    return mid, echo.seen_at
