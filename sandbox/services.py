"""The sandbox plays both the customer and Meta, through the product's real paths.

Customer actions become properly signed Meta webhook payloads POSTed to the real webhook URL;
the app's real Graph calls land on the fake Graph views, which answer as Meta would and emit
echoes the same way.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import InstagramAccount
from inbox.models import Conversation, Message
from inbox.outbound.replies import TEXT_LIMIT_BYTES
from inbox.services.window import HUMAN_AGENT_WINDOW, STANDARD_WINDOW
from instagram.signature import sign

from .models import SandboxCustomer, SandboxFault, SimulatedMessage

logger = logging.getLogger(__name__)

GRAPH_VERSION = "v24.0"
DEMO_NAMES = [
    ("Maya Lopez", "maya.lopez"),
    ("Tom Becker", "tombecker"),
    ("Aiko Tanaka", "aiko.t"),
    ("Sam Okafor", "sam_okafor"),
    ("Lena Novak", "lenanovak"),
]


class SandboxDeliveryError(Exception):
    """The webhook did not accept a delivery."""


# --- the sandbox account -------------------------------------------------------------


def sandbox_graph_url() -> str:
    return f"{settings.SITE_URL}/sandbox/graph/{GRAPH_VERSION}"


def sandbox_account_sync() -> InstagramAccount | None:
    """Create or update the sandbox account when the sandbox is on; retire it when off."""
    accounts = InstagramAccount.objects.filter(ig_id=settings.SANDBOX_ACCOUNT_ID)
    if not settings.SANDBOX_ENABLED:
        accounts.exclude(status=InstagramAccount.Status.DISCONNECTED).update(
            status=InstagramAccount.Status.DISCONNECTED,
            status_reason="The sandbox is off.",
            token_ciphertext="",
        )
        return None
    account, _ = InstagramAccount.objects.get_or_create(
        ig_id=settings.SANDBOX_ACCOUNT_ID,
        defaults={"graph_api_url": sandbox_graph_url()},
    )
    account.username = "sandbox_shop"
    account.name = "Sandbox Shop"
    account.graph_api_url = sandbox_graph_url()
    account.source = InstagramAccount.Source.ENV
    account.status = InstagramAccount.Status.ACTIVE
    account.status_reason = ""
    account.access_token = settings.SANDBOX_ACCESS_TOKEN
    account.save()
    return account


def sandbox_account_restore() -> None:
    """What reconnecting does for a real account: the token works again."""
    sandbox_account_sync()


# --- customers -----------------------------------------------------------------------


def customer_create(*, name: str = "", username: str = "") -> SandboxCustomer:
    if not name or not username:
        default_name, default_username = DEMO_NAMES[
            SandboxCustomer.objects.count() % len(DEMO_NAMES)
        ]
        name = name or default_name
        username = username or default_username
    igsid = "9" + "".join(secrets.choice("0123456789") for _ in range(15))
    return SandboxCustomer.objects.create(igsid=igsid, name=name, username=username)


def _new_mid() -> str:
    return "aWdf" + secrets.token_urlsafe(36)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _envelope(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "instagram",
        "entry": [
            {
                "id": settings.SANDBOX_ACCOUNT_ID,
                "time": int(time.time() * 1000),
                "messaging": [item],
            }
        ],
    }


def _from_customer(customer: SandboxCustomer, moment: datetime, **event: Any) -> dict[str, Any]:
    return _envelope(
        {
            "sender": {"id": customer.igsid},
            "recipient": {"id": settings.SANDBOX_ACCOUNT_ID},
            "timestamp": _epoch_ms(moment),
            **event,
        }
    )


def webhook_deliver(*, url: str, payload: dict[str, Any]) -> None:
    """POST a payload to the webhook exactly as Meta does: raw JSON, signed with the app secret."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is our own webhook
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, settings.INSTAGRAM_CLIENT_SECRET),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as e:
        status = e.code
    except (urllib.error.URLError, TimeoutError) as e:
        raise SandboxDeliveryError(f"The webhook at {url} could not be reached ({e}).") from e
    if status != 200:
        raise SandboxDeliveryError(f"The webhook at {url} answered {status}.")


def customer_message_send(
    *, customer: SandboxCustomer, webhook_url: str, text: str = "", image_url: str = ""
) -> SimulatedMessage:
    now = timezone.now()
    message = SimulatedMessage.objects.create(
        customer=customer,
        direction=SimulatedMessage.Direction.FROM_CUSTOMER,
        mid=_new_mid(),
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


# --- faults --------------------------------------------------------------------------


def faults_add(*, kind: str, count: int) -> None:
    SandboxFault.objects.bulk_create([SandboxFault(kind=kind) for _ in range(count)])


def faults_clear() -> None:
    SandboxFault.objects.all().delete()


def fault_take() -> str | None:
    """The oldest injected fault, consumed; None when there is none."""
    with transaction.atomic():
        fault = SandboxFault.objects.select_for_update().order_by("id").first()
        if fault is None:
            return None
        fault.delete()
        return fault.kind


# --- the fake Graph API ----------------------------------------------------------------


def graph_error(
    status: int, code: int, message: str, *, subcode: int | None = None, kind: str = ""
) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {
        "message": message,
        "type": kind or "OAuthException",
        "code": code,
        "fbtrace_id": "Sandbox" + secrets.token_hex(6),
    }
    if subcode:
        error["error_subcode"] = subcode
    return status, {"error": error}


def fault_answer(kind: str) -> tuple[int, dict[str, Any]]:
    if kind == SandboxFault.Kind.SERVER_ERROR:
        return graph_error(500, 2, "An unexpected error has occurred. Please retry.", kind="")
    if kind == SandboxFault.Kind.RATE_LIMITED:
        return graph_error(429, 4, "Application request limit reached")
    if kind == SandboxFault.Kind.TOKEN_DEAD:
        return graph_error(
            400, 190, "Error validating access token: Session has expired.", subcode=463
        )
    return outside_window_error()


def outside_window_error() -> tuple[int, dict[str, Any]]:
    return graph_error(400, 10, "This message is sent outside of allowed window.", subcode=2534022)


def graph_message_receive(
    *, ig_id: str, body: dict[str, Any], webhook_url: str
) -> tuple[int, dict[str, Any]]:
    """POST /{ig_id}/messages, as Meta answers it (faults first, then the window)."""
    fault = fault_take()
    if fault:
        return fault_answer(fault)
    recipient = str((body.get("recipient") or {}).get("id", ""))
    customer = SandboxCustomer.objects.filter(igsid=recipient).first()
    if ig_id not in ("me", settings.SANDBOX_ACCOUNT_ID) or customer is None:
        return graph_error(400, 100, "No matching user found", subcode=2018001)
    action = body.get("sender_action")
    if action in ("react", "unreact"):
        return _graph_react(customer, body, action)
    if action:
        return 200, {"recipient_id": customer.igsid}
    message = body.get("message")
    if not isinstance(message, dict):
        return graph_error(400, 100, "(#100) The parameter message is required")
    if customer.last_message_at is None:
        return outside_window_error()
    age = timezone.now() - customer.last_message_at
    tagged = body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT"
    if age > HUMAN_AGENT_WINDOW or (age > STANDARD_WINDOW and not tagged):
        return outside_window_error()
    text = str(message.get("text", ""))
    if len(text.encode()) > TEXT_LIMIT_BYTES:
        return graph_error(
            400, 100, "(#100) Length of param message[text] must be less than or equal to 1000"
        )
    attachment = message.get("attachment") or {}
    simulated = SimulatedMessage.objects.create(
        customer=customer,
        direction=SimulatedMessage.Direction.FROM_BUSINESS,
        mid=_new_mid(),
        text=text,
        attachment_type=str(attachment.get("type", "")),
        attachment_url=str((attachment.get("payload") or {}).get("url", "")),
        tag=str(body.get("tag", "")) if tagged else "",
    )
    _echo(customer, simulated, message, webhook_url)
    return 200, {"recipient_id": customer.igsid, "message_id": simulated.mid}


def _graph_react(
    customer: SandboxCustomer, body: dict[str, Any], action: str
) -> tuple[int, dict[str, Any]]:
    payload = body.get("payload") or {}
    target = customer.messages.filter(mid=str(payload.get("message_id", ""))).first()
    if target is None:
        return graph_error(400, 100, "(#100) Invalid message_id")
    target.reaction = "❤️" if action == "react" else ""
    target.save(update_fields=["reaction"])
    return 200, {"recipient_id": customer.igsid}


def _echo(
    customer: SandboxCustomer,
    simulated: SimulatedMessage,
    message: dict[str, Any],
    webhook_url: str,
) -> None:
    """Meta echoes every message the business sends, often before the send call returns."""
    echo = {"mid": simulated.mid, "is_echo": True}
    if simulated.text:
        echo["text"] = simulated.text
    if simulated.attachment_type:
        echo["attachments"] = [
            {"type": simulated.attachment_type, "payload": {"url": simulated.attachment_url}}
        ]
    payload = _envelope(
        {
            "sender": {"id": settings.SANDBOX_ACCOUNT_ID},
            "recipient": {"id": customer.igsid},
            "timestamp": _epoch_ms(simulated.timestamp),
            "message": echo,
        }
    )
    try:
        webhook_deliver(url=webhook_url, payload=payload)
    except SandboxDeliveryError as e:
        logger.warning("sandbox echo not delivered: %s", e)


def graph_profile(*, igsid: str) -> tuple[int, dict[str, Any]]:
    customer = SandboxCustomer.objects.filter(igsid=igsid).first()
    if customer is None:
        return graph_error(400, 100, "Unsupported get request. Object does not exist.", subcode=33)
    return 200, {
        "name": customer.name,
        "username": customer.username,
        "profile_pic": f"{settings.SITE_URL}/static/sandbox/avatar.svg",
        "follower_count": 100 + customer.pk * 37,
        "is_user_follow_business": customer.follows_business,
        "is_business_follow_user": False,
        "is_verified_user": False,
        "id": customer.igsid,
    }


def graph_me() -> dict[str, Any]:
    return {
        "id": "sandbox-app-scoped-id",
        "user_id": settings.SANDBOX_ACCOUNT_ID,
        "username": "sandbox_shop",
        "name": "Sandbox Shop",
        "account_type": "BUSINESS",
        "profile_picture_url": f"{settings.SITE_URL}/static/sandbox/shop.svg",
    }


def graph_token() -> dict[str, Any]:
    return {
        "access_token": settings.SANDBOX_ACCESS_TOKEN,
        "token_type": "bearer",
        "expires_in": 60 * 24 * 3600,
    }
