"""The simulated customer: what a pretend Instagram user does, sent as Meta's webhooks.

Each action (write, react, unsend, read) is recorded as the customer sees it and delivered
to the real webhook URL as a properly signed Meta payload, through the product's real intake.
Ageing moves a customer's messages into the past, on Meta's side and in the inbox alike.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inbox.models import Conversation, Message
from inbox.services.live import live_touch_conversations

from .fake_meta import epoch_ms, new_mid, webhook_deliver, webhook_envelope
from .models import SandboxCustomer, SimulatedMessage

DEMO_NAMES = [
    ("Maya Lopez", "maya.lopez"),
    ("Tom Becker", "tombecker"),
    ("Aiko Tanaka", "aiko.t"),
    ("Sam Okafor", "sam_okafor"),
    ("Lena Novak", "lenanovak"),
]


def username_from_name(name: str) -> str:
    """A handle such as Instagram allows (letters, digits, dots, underscores; 30 at most) made
    from a display name: "Zoë Müller" → "zoe.muller"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    handle = re.sub(r"[^a-z0-9_]+", ".", ascii_name.lower()).strip("._")
    return handle[:30].rstrip(".") or "customer"


def customer_create(*, name: str = "", username: str = "") -> SandboxCustomer:
    """A new pretend customer. Given a name only, its handle is made from it (not a demo
    customer's); given neither, the next demo customer."""
    if not name and not username:
        name, username = DEMO_NAMES[SandboxCustomer.objects.count() % len(DEMO_NAMES)]
    name = name or username
    username = username or username_from_name(name)
    igsid = "9" + "".join(secrets.choice("0123456789") for _ in range(15))
    return SandboxCustomer.objects.create(igsid=igsid, name=name, username=username)


def _from_customer(customer: SandboxCustomer, moment: datetime, **event: Any) -> dict[str, Any]:
    return webhook_envelope(
        {
            "sender": {"id": customer.igsid},
            "recipient": {"id": settings.SANDBOX_ACCOUNT_ID},
            "timestamp": epoch_ms(moment),
            **event,
        }
    )


def customer_message_send(
    *, customer: SandboxCustomer, webhook_url: str, text: str = "", image_url: str = ""
) -> SimulatedMessage:
    now = timezone.now()
    message = SimulatedMessage.objects.create(
        customer=customer,
        direction=SimulatedMessage.Direction.FROM_CUSTOMER,
        mid=new_mid(),
        text=text,
        attachment_type="image" if image_url else "",
        attachment_url=image_url,
        timestamp=now,
    )
    SandboxCustomer.objects.filter(pk=customer.pk).update(last_message_at=now)
    body: dict[str, Any] = {"mid": message.mid}
    if text:
        body["text"] = text
    if image_url:
        body["attachments"] = [{"type": "image", "payload": {"url": image_url}}]
    webhook_deliver(url=webhook_url, payload=_from_customer(customer, now, message=body))
    return message


def _latest(customer: SandboxCustomer, direction: str) -> SimulatedMessage | None:
    return (
        customer.messages.filter(direction=direction, is_deleted=False)
        .order_by("-timestamp", "-id")
        .first()
    )


def customer_react(*, customer: SandboxCustomer, webhook_url: str) -> SimulatedMessage | None:
    """Toggle a ❤️ on the business's latest message."""
    target = _latest(customer, SimulatedMessage.Direction.FROM_BUSINESS)
    if target is None:
        return None
    action = "unreact" if target.reaction else "react"
    reaction: dict[str, Any] = {"mid": target.mid, "action": action}
    if action == "react":
        reaction.update({"reaction": "love", "emoji": "❤️"})
    target.reaction = "❤️" if action == "react" else ""
    target.save(update_fields=["reaction"])
    webhook_deliver(
        url=webhook_url, payload=_from_customer(customer, timezone.now(), reaction=reaction)
    )
    return target


def customer_unsend(*, customer: SandboxCustomer, webhook_url: str) -> SimulatedMessage | None:
    """Unsend the customer's latest message."""
    target = _latest(customer, SimulatedMessage.Direction.FROM_CUSTOMER)
    if target is None:
        return None
    target.is_deleted = True
    target.save(update_fields=["is_deleted"])
    webhook_deliver(
        url=webhook_url,
        payload=_from_customer(
            customer, timezone.now(), message={"mid": target.mid, "is_deleted": True}
        ),
    )
    return target


def customer_edit(
    *, customer: SandboxCustomer, webhook_url: str, text: str
) -> SimulatedMessage | None:
    """Edit the customer's latest text message. The webhook carries only `{mid, num_edit}`,
    as Instagram's often do: the inbox reads the new text from the fake Graph API."""
    target = _latest(customer, SimulatedMessage.Direction.FROM_CUSTOMER)
    if target is None or not target.text or not text:
        return None
    target.text = text
    target.save(update_fields=["text"])
    # The fake keeps no count of edits: the next number follows the inbox's.
    edits = Message.objects.filter(
        account__ig_id=settings.SANDBOX_ACCOUNT_ID, mid=target.mid
    ).values_list("edit_count", flat=True)
    edit = {"mid": target.mid, "num_edit": max(edits, default=0) + 1}
    item = {"timestamp": epoch_ms(timezone.now()), "message_edit": edit}  # no sender, like Meta's
    webhook_deliver(url=webhook_url, payload=webhook_envelope(item))
    return target


def customer_mark_read(*, customer: SandboxCustomer, webhook_url: str) -> SimulatedMessage | None:
    """The customer opens the thread: everything the business sent is seen."""
    target = _latest(customer, SimulatedMessage.Direction.FROM_BUSINESS)
    if target is None:
        return None
    customer.messages.filter(direction=SimulatedMessage.Direction.FROM_BUSINESS).update(seen=True)
    webhook_deliver(
        url=webhook_url, payload=_from_customer(customer, timezone.now(), read={"mid": target.mid})
    )
    return target


@transaction.atomic
def customer_age(*, customer: SandboxCustomer, hours: int) -> None:
    """Time travel: move the customer's messages N hours into the past, on Meta's side and in
    the inbox alike, so the window states can be seen without waiting a day."""
    shift = timedelta(hours=hours)
    SandboxCustomer.objects.filter(pk=customer.pk, last_message_at__isnull=False).update(
        last_message_at=F("last_message_at") - shift
    )
    customer.messages.update(timestamp=F("timestamp") - shift)
    conversations = Conversation.objects.filter(
        account__ig_id=settings.SANDBOX_ACCOUNT_ID, customer_igsid=customer.igsid
    )
    Message.objects.filter(conversation__in=conversations).update(timestamp=F("timestamp") - shift)
    conversations.filter(last_customer_message_at__isnull=False).update(
        last_customer_message_at=F("last_customer_message_at") - shift
    )
    conversations.filter(last_message_at__isnull=False).update(
        last_message_at=F("last_message_at") - shift
    )
    live_touch_conversations(conversation_ids=conversations.values_list("pk", flat=True))


def customer_conversation(*, customer: SandboxCustomer) -> Conversation | None:
    """The inbox's conversation with this customer, once their first message has arrived."""
    return Conversation.objects.filter(
        account__ig_id=settings.SANDBOX_ACCOUNT_ID, customer_igsid=customer.igsid
    ).first()
