"""Helpers to drive the webhook endpoint the way Meta does: real signatures, fixture bodies.

Fixtures under tests/fixtures/webhooks/ are Meta's shapes (META_API.md), one per event kind,
for the business account IG_ID (and OTHER_IG_ID) and the customer CUSTOMER.
"""

from __future__ import annotations

import copy
import hashlib
import json
from functools import cache
from typing import Any

from django.conf import settings

from instagram.signature import sign
from tests.fixtures import meta_fixture

WEBHOOK_URL = "/webhooks/instagram/"
SIGNATURE_HEADER = "X-Hub-Signature-256"

IG_ID = "17841400000000001"
OTHER_IG_ID = "17841400000000002"
CUSTOMER = "6543210987654321"
OTHER_CUSTOMER = "6543210987654322"
TEXT_MID = (
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1"
    "OTg2OTM3Mzk3MjIzODkxMjo3MjQ3NzM2NjQ2MDM0MjM0NTY3"
)
ECHO_MID = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAx000000000030"
BASE_MS = 1760000000000  # the fixtures' clock: 2025-10-09T08:53:20Z


def post_signed(
    client: Any,
    payload_or_bytes: Any,
    secret: str | None = None,
    *,
    path: str = WEBHOOK_URL,
    **extra: Any,
) -> Any:
    """POST a body signed for real with `secret` (default: INSTAGRAM_CLIENT_SECRET)."""
    if isinstance(payload_or_bytes, bytes):
        body = payload_or_bytes
    else:
        body = json.dumps(payload_or_bytes).encode()
    secret = settings.INSTAGRAM_CLIENT_SECRET if secret is None else secret
    headers = {"HTTP_X_HUB_SIGNATURE_256": sign(body, secret), **extra}
    return client.post(path, data=body, content_type="application/json", **headers)


@cache
def _load(name: str) -> dict[str, Any]:
    return meta_fixture("webhooks", name)


def webhook_fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a fixture body (tests may change it)."""
    return copy.deepcopy(_load(name))


def webhook_body(*items: dict[str, Any], ig_id: str = IG_ID, source: str = "messaging") -> dict:
    """A one-entry body around messaging items."""
    return {
        "object": "instagram",
        "entry": [{"id": ig_id, "time": BASE_MS + 10_000, source: list(items)}],
    }


def message_item(
    mid: str,
    text: str = "",
    *,
    ts: int = BASE_MS,
    sender: str = CUSTOMER,
    recipient: str = IG_ID,
    **message: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"mid": mid, **message}
    if text:
        payload["text"] = text
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": ts,
        "message": payload,
    }


def echo_item(mid: str, text: str = "", *, ts: int = BASE_MS, **message: Any) -> dict[str, Any]:
    return message_item(mid, text, ts=ts, sender=IG_ID, recipient=CUSTOMER, is_echo=True, **message)


def event_item(kind: str, payload: Any, *, ts: int = BASE_MS, sender: str = CUSTOMER) -> dict:
    recipient = CUSTOMER if sender == IG_ID else IG_ID
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": ts,
        kind: payload,
    }


def stored_event(payload: dict[str, Any]) -> Any:
    """A ledger row as the webhook view leaves it, its processing not run (yet)."""
    from inbox.models import WebhookEvent

    body = json.dumps(payload)
    return WebhookEvent.objects.create(
        body=body, body_sha256=hashlib.sha256(body.encode()).hexdigest()
    )
