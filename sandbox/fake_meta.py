"""Meta's side of the sandbox: the fake Graph API's answers and the webhooks Meta sends.

The app's real Graph calls for the sandbox account land on `sandbox.graph_views`, which ask
this module to answer as Meta would: a send is checked against injected faults and the
window, stored as what the customer sees, and echoed back as a webhook. Every webhook (the
customer's actions and the echoes) is signed and POSTed to the real webhook URL.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from inbox.outbound.replies import TEXT_LIMIT_BYTES
from inbox.services.window import HUMAN_AGENT_WINDOW, STANDARD_WINDOW
from instagram.signature import sign

from .models import SandboxCustomer, SandboxFault, SimulatedMessage

logger = logging.getLogger(__name__)


class SandboxDeliveryError(Exception):
    """The webhook did not accept a delivery."""


# --- webhooks ------------------------------------------------------------------------


def new_mid() -> str:
    return "aWdf" + secrets.token_urlsafe(36)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def webhook_envelope(item: dict[str, Any]) -> dict[str, Any]:
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
        mid=new_mid(),
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
    payload = webhook_envelope(
        {
            "sender": {"id": settings.SANDBOX_ACCOUNT_ID},
            "recipient": {"id": customer.igsid},
            "timestamp": epoch_ms(simulated.timestamp),
            "message": echo,
        }
    )
    try:
        webhook_deliver(url=webhook_url, payload=payload)
    except SandboxDeliveryError as e:
        logger.warning("sandbox echo not delivered: %s", e)


def graph_message(*, mid: str, fields: str = "message") -> tuple[int, dict[str, Any]] | None:
    """GET /{mid}?fields=...: the message as it reads now, with the fields asked for
    (None: no message has this id)."""
    message = SimulatedMessage.objects.filter(mid=mid).select_related("customer").first()
    if message is None:
        return None
    if message.is_deleted:
        return graph_error(400, 100, "Unsupported get request. Object does not exist.", subcode=33)
    full = _history_message(message)
    wanted = {f.strip() for f in fields.split(",") if f.strip()} | {"id"}
    return 200, {k: v for k, v in full.items() if k in wanted}


# --- the Conversations API (history): the simulated threads, newest first ----------------

CONVERSATION_PREFIX = "aWdfZAGQsandbox_"  # + the customer's IGSID
CONVERSATIONS_PAGE_MAX = 100
HISTORY_MESSAGES_MAX = 20  # Meta gives the 20 newest messages of a conversation in full


def graph_conversations(
    *, url: str, after: str = "", limit: str = ""
) -> tuple[int, dict[str, Any]]:
    """GET /me/conversations?platform=instagram: ids and update times, newest first, paged
    with Meta's cursors (`paging.cursors.after`, and `paging.next` while more remain);
    `url` is this endpoint's address, for `paging.next`."""
    size = min(int(limit), CONVERSATIONS_PAGE_MAX) if limit.isdecimal() and int(limit) else 25
    start = _offset(after)
    if start is None:
        return graph_error(400, 100, "(#100) Invalid cursor")
    threads = (
        SandboxCustomer.objects.filter(messages__is_deleted=False)
        .annotate(updated=Max("messages__timestamp"))
        .order_by("-updated", "-id")
    )
    page = list(threads[start : start + size + 1])
    rows = [
        {"id": CONVERSATION_PREFIX + c.igsid, "updated_time": graph_time(c.updated)}
        for c in page[:size]
    ]
    answer: dict[str, Any] = {"data": rows}
    if rows:
        cursors = {"before": _cursor(start), "after": _cursor(start + len(rows))}
        answer["paging"] = {"cursors": cursors}
        if len(page) > size:
            query = f"platform=instagram&limit={size}&after={cursors['after']}"
            answer["paging"]["next"] = f"{url}?{query}"
    return 200, answer


def graph_conversation(*, conversation_id: str) -> tuple[int, dict[str, Any]] | None:
    """GET /{conversation_id}?fields=participants,messages{...}: who is in it and its 20
    newest messages, newest first (None: not a conversation id)."""
    if not conversation_id.startswith(CONVERSATION_PREFIX):
        return None
    igsid = conversation_id.removeprefix(CONVERSATION_PREFIX)
    customer = SandboxCustomer.objects.filter(igsid=igsid).first()
    if customer is None:
        return graph_error(400, 100, "Unsupported get request. Object does not exist.", subcode=33)
    newest = customer.messages.filter(is_deleted=False).order_by("-timestamp", "-id")
    shop = _shop()
    return 200, {
        "id": conversation_id,
        "participants": {"data": [shop, _person(customer)]},
        "messages": {"data": [_history_message(m) for m in newest[:HISTORY_MESSAGES_MAX]]},
    }


def graph_time(moment: datetime) -> str:
    """Meta's `created_time`: ISO-8601 in UTC with `+0000`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _history_message(message: SimulatedMessage) -> dict[str, Any]:
    customer, shop = _person(message.customer), _shop()
    sender, recipient = (
        (customer, shop)
        if message.direction == SimulatedMessage.Direction.FROM_CUSTOMER
        else (shop, customer)
    )
    found: dict[str, Any] = {
        "id": message.mid,
        "created_time": graph_time(message.timestamp),
        "from": sender,
        "to": {"data": [recipient]},
    }
    if message.text:
        found["message"] = message.text
    if message.attachment_url:
        found["attachments"] = {"data": [_history_attachment(message)]}
    return found


def _history_attachment(message: SimulatedMessage) -> dict[str, Any]:
    url = message.attachment_url
    if message.attachment_type == "image":
        return {"id": f"{message.mid}_a", "mime_type": "image/jpeg", "image_data": {"url": url}}
    if message.attachment_type in ("video", "audio"):
        mime = "audio/mpeg" if message.attachment_type == "audio" else "video/mp4"
        return {"id": f"{message.mid}_a", "mime_type": mime, "video_data": {"url": url}}
    return {"id": f"{message.mid}_a", "file_url": url}


def _person(customer: SandboxCustomer) -> dict[str, str]:
    return {"username": customer.username, "id": customer.igsid}


def _shop() -> dict[str, str]:
    return {"username": graph_me()["username"], "id": settings.SANDBOX_ACCOUNT_ID}


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int | None:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    number = text.removeprefix("offset:")
    return int(number) if text.startswith("offset:") and number.isdecimal() else None


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
