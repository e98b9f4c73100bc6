"""One conversation's messages from the Conversations API, stored where missing.

Each message becomes the webhook item it would have been and goes through intake's own
handler (`webhook_item_apply`): keyed by mid with the database's unique constraint, so a
message already stored (by webhook, by an earlier sync, or by a webhook arriving right now)
is never stored twice; a message the account sent is recognised as one of ours by its mid
(or an in-flight send of the same text), otherwise it is shown as sent from the Instagram
app; profiles are queued as for webhooks. What history changes less than a webhook: an old
conversation is not marked unread (only one whose newest message is the customer's and
within Meta's 7-day window), nor reopened.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.intake.apply import webhook_item_apply
from inbox.intake.fields import HISTORY_SOURCE
from inbox.models import Conversation, Message
from inbox.services.live import live_touch
from instagram.answers import ConversationDetail, HistoryMessage
from instagram.events import Attachment, MessageEvent

# A customer's message older than this leaves the conversation read: nobody can answer it.
UNREAD_WITHIN = timedelta(days=7)


def own_ids(*, account: InstagramAccount, detail: ConversationDetail) -> frozenset[str]:
    """The ids that mean the account itself: its IG id, and the participant with its
    username (Meta may name the business by another id in this API)."""
    name = account.username.lower()
    same = {p.id for p in detail.participants if name and p.username.lower() == name}
    return frozenset({account.ig_id, *same})


def customer_of(*, detail: ConversationDetail, own: frozenset[str]) -> str:
    return next((p.id for p in detail.participants if p.id not in own), "")


def history_conversation_store(
    *, account: InstagramAccount, detail: ConversationDetail, messages: list[HistoryMessage]
) -> int:
    """Store the messages not yet here, oldest first; returns how many are new."""
    own = own_ids(account=account, detail=detail)
    customer = customer_of(detail=detail, own=own)
    mids = [m.mid[:255] for m in messages]
    known = set(Message.objects.filter(account=account, mid__in=mids).values_list("mid", flat=True))
    missing = [m for m in messages if m.mid[:255] not in known]
    if not missing or not customer:
        return 0
    before = _summary(account, customer)
    for message in sorted(missing, key=lambda m: m.created_time or timezone.now()):
        event = _as_event(account=account, message=message, own=own, customer=customer)
        if event is not None:
            webhook_item_apply(account=account, event=event)
    _settle_unread(account=account, customer=customer, before=before)
    # Stored by this sync: missing before, imported now (a webhook that won the race for
    # one of them stored it as its own, not imported).
    fresh = [m.mid[:255] for m in missing]
    return Message.objects.filter(account=account, mid__in=fresh, imported=True).count()


def _as_event(
    *, account: InstagramAccount, message: HistoryMessage, own: frozenset[str], customer: str
) -> MessageEvent | None:
    """The webhook item this message would have been; None without its sender or time
    (Meta's details of older messages may be missing: nothing reliable to store)."""
    if not message.from_id or message.created_time is None:
        return None
    outbound = message.from_id in own
    return MessageEvent(
        account_id=account.ig_id,
        source=HISTORY_SOURCE,
        sender_id=account.ig_id if outbound else message.from_id,
        recipient_id=customer if outbound else account.ig_id,
        timestamp_ms=int(message.created_time.timestamp() * 1000),
        mid=message.mid,
        text=message.text,
        attachments=tuple(_attachment(a) for a in message.attachments),
        is_echo=outbound,
    )


def _attachment(found: dict[str, str]) -> Attachment:
    extra = tuple((k, v) for k, v in found.items() if k not in {"type", "url"})
    return Attachment(type=found["type"], url=found.get("url", ""), extra=extra)


def _summary(account: InstagramAccount, customer: str) -> Conversation | None:
    """The conversation's unread clock and status before the sync touched it."""
    return (
        Conversation.objects.filter(account=account, customer_igsid=customer)
        .only("pk", "last_inbound_received_at", "status")
        .first()
    )


def _settle_unread(
    *, account: InstagramAccount, customer: str, before: Conversation | None
) -> None:
    """Intake marks a conversation unread (and reopens it) for every customer message;
    for history that holds only when the newest message is the customer's and recent."""
    conversation = Conversation.objects.filter(account=account, customer_igsid=customer).first()
    if conversation is None:
        return
    newest = conversation.messages.order_by("-timestamp", "-id").first()
    if newest is not None and _wants_answer(newest):
        return
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_received_at=before.last_inbound_received_at if before else None,
        status=before.status if before else Conversation.Status.OPEN,
    )
    live_touch(account_id=conversation.account_id, conversation_id=conversation.pk)


def _wants_answer(message: Message) -> bool:
    recent: datetime = timezone.now() - UNREAD_WITHIN
    return message.direction == Message.Direction.INBOUND and message.timestamp >= recent
