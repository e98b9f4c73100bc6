"""Meta's Instagram webhook bodies → typed, frozen events.

Pure Python (no Django): `parse_webhook(payload)` takes whatever `json.loads` produced and
returns every item of every entry's `messaging[]`, `standby[]` and `changes[]` as one event
each. It never raises: a shape it does not understand becomes an `UnknownEvent` that says why,
so the caller can log it and move on. Strings are cleaned of what a database refuses (NUL,
lone surrogates); ids become strings (they can exceed 64 bits); timestamps become epoch
milliseconds whether Meta sent milliseconds or seconds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .event_values import clean_id, clean_json, clean_text, epoch_ms, loose_text, ms_to_datetime

SOURCES = ("messaging", "standby", "changes")
# Keys that make a `changes[].value` a messaging item (the dashboard's "Test" button).
_MESSAGING_KEYS = ("message", "message_edit", "reaction", "read", "postback", "optin", "referral")


# --- small helpers ---------------------------------------------------------------------
def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip()[:18])
    return 0


# --- events ----------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Event:
    """What every item shares. `account_id` is `entry[].id` (the business, IG_ID)."""

    account_id: str
    source: str = "messaging"  # messaging | standby | changes
    sender_id: str = ""
    recipient_id: str = ""
    timestamp_ms: int | None = None

    @property
    def timestamp(self) -> datetime | None:
        return ms_to_datetime(self.timestamp_ms)

    @property
    def from_business(self) -> bool:
        return bool(self.sender_id) and self.sender_id == self.account_id

    @property
    def customer_id(self) -> str:
        """The IGSID on the other side: the sender, or the recipient of what we sent."""
        return self.recipient_id if self.from_business else self.sender_id


@dataclass(frozen=True)
class Attachment:
    type: str
    url: str = ""
    # Other scalar fields of the payload: title, reel_video_id, ig_post_media_id, sticker_id...
    extra: tuple[tuple[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "url": self.url, **dict(self.extra)}


@dataclass(frozen=True, kw_only=True)
class MessageEvent(Event):
    mid: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    reply_to_mid: str = ""
    reply_to_story_url: str = ""
    reply_to_story_id: str = ""
    quick_reply_payload: str = ""
    referral: dict[str, Any] = field(default_factory=dict)
    is_echo: bool = False
    is_deleted: bool = False
    is_unsupported: bool = False

    @property
    def outbound(self) -> bool:
        """Sent by the business (an echo), from any client."""
        return self.is_echo or self.from_business

    @property
    def customer_id(self) -> str:
        return self.recipient_id if self.outbound else self.sender_id


@dataclass(frozen=True, kw_only=True)
class ReactionEvent(Event):
    mid: str
    action: str = "react"  # react | unreact
    reaction: str = ""
    emoji: str = ""


@dataclass(frozen=True, kw_only=True)
class ReadEvent(Event):
    mid: str = ""
    watermark_ms: int | None = None


@dataclass(frozen=True, kw_only=True)
class PostbackEvent(Event):
    mid: str = ""
    title: str = ""
    payload: str = ""
    referral: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ReferralEvent(Event):
    details: dict[str, Any] = field(default_factory=dict)  # ref, source, type, ad_id...


@dataclass(frozen=True, kw_only=True)
class OptinEvent(Event):
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class MessageEditEvent(Event):
    """May arrive with no sender or recipient: resolve it by `mid` within the account."""

    mid: str
    text: str = ""
    num_edit: int = 0


@dataclass(frozen=True, kw_only=True)
class ChangeEvent(Event):
    """A `changes[]` item that is not a messaging event (comments, mentions...)."""

    field_name: str = ""
    value: Any = None


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(Event):
    """Anything else: kept so the caller can log why (never the whole body)."""

    reason: str
    raw: Any = None


@dataclass(frozen=True)
class WebhookBatch:
    object_type: str
    events: tuple[Event, ...]
    account_ids: tuple[str, ...]  # every distinct entry[].id, in order


def synthetic_mid(kind: str, event: Event, details: Any) -> str:
    """A stable id for events Meta gives no mid (postbacks of old versions, referrals,
    opt-ins), so a redelivery is still recognised. The prefix never collides with a mid."""
    material = json.dumps(
        [event.customer_id, event.timestamp_ms, details], sort_keys=True, default=str
    )
    return f"{kind}:{hashlib.sha256(material.encode()).hexdigest()[:40]}"


# --- parsing ---------------------------------------------------------------------------
def parse_webhook(payload: Any) -> WebhookBatch:
    """Every event of a webhook body, in document order. Never raises."""
    if not isinstance(payload, dict):
        return WebhookBatch("", (UnknownEvent(account_id="", reason="body is not an object"),), ())
    object_type = clean_text(payload.get("object"))
    entries = payload.get("entry")
    if not isinstance(entries, list):
        unknown = UnknownEvent(account_id="", reason="body has no entry list")
        return WebhookBatch(object_type, (unknown,), ())
    events: list[Event] = []
    account_ids: list[str] = []
    for entry in entries:
        try:
            entry_events = _parse_entry(entry)
        except Exception as e:  # a bug here must not stop the other entries
            entry_events = [UnknownEvent(account_id="", reason=f"entry: {type(e).__name__}")]
        for event in entry_events:
            if event.account_id and event.account_id not in account_ids:
                account_ids.append(event.account_id)
        events.extend(entry_events)
    return WebhookBatch(object_type, tuple(events), tuple(account_ids))


def account_ids_of(payload: Any) -> list[str]:
    """Just the `entry[].id`s: cheap enough for the webhook request itself."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return []
    ids: list[str] = []
    for entry in payload["entry"]:
        account_id = clean_id(entry.get("id")) if isinstance(entry, dict) else ""
        if account_id and account_id not in ids:
            ids.append(account_id)
    return ids


def _parse_entry(entry: Any) -> list[Event]:
    if not isinstance(entry, dict):
        return [UnknownEvent(account_id="", reason="entry is not an object")]
    account_id = clean_id(entry.get("id"))
    if not account_id:
        return [UnknownEvent(account_id="", reason="entry without id")]
    entry_ms = epoch_ms(entry.get("time"))
    events: list[Event] = []
    found = False
    for source in SOURCES:
        items = entry.get(source)
        if items is None:
            continue
        found = True
        if not isinstance(items, list):
            events.append(
                UnknownEvent(account_id=account_id, source=source, reason=f"{source} not a list")
            )
            continue
        for item in items:
            try:
                if source == "changes":
                    event = _parse_change(item, account_id, entry_ms)
                else:
                    event = _parse_item(item, account_id, source, entry_ms)
            except Exception as e:  # never let one odd item take the batch down
                event = UnknownEvent(
                    account_id=account_id, source=source, reason=f"item: {type(e).__name__}"
                )
            events.append(event)
    if not found:
        events.append(
            UnknownEvent(account_id=account_id, reason="entry without messaging/standby/changes")
        )
    return events


def _parse_change(item: Any, account_id: str, entry_ms: int | None) -> Event:
    if not isinstance(item, dict):
        return UnknownEvent(account_id=account_id, source="changes", reason="change not an object")
    field_name = clean_text(item.get("field"))
    value = item.get("value")
    if isinstance(value, dict) and any(key in value for key in _MESSAGING_KEYS):
        return _parse_item(value, account_id, "changes", entry_ms)
    return ChangeEvent(
        account_id=account_id,
        source="changes",
        timestamp_ms=entry_ms,
        field_name=field_name,
        value=clean_json(value),
    )


def _parse_item(item: Any, account_id: str, source: str, entry_ms: int | None) -> Event:
    if not isinstance(item, dict):
        return UnknownEvent(account_id=account_id, source=source, reason="item not an object")
    common: dict[str, Any] = {
        "account_id": account_id,
        "source": source,
        "sender_id": clean_id(_dict(item.get("sender")).get("id")),
        "recipient_id": clean_id(_dict(item.get("recipient")).get("id")),
        "timestamp_ms": epoch_ms(item.get("timestamp")) or entry_ms,
    }
    # message_edit first: its payload sits beside no `message`; `message` before `referral`
    # and `postback` before `referral`, since both may carry a referral inside.
    if "message_edit" in item:
        return _message_edit(item["message_edit"], common)
    if "message" in item:
        return _message(item["message"], common)
    if "reaction" in item:
        return _reaction(item["reaction"], common)
    if "read" in item:
        return _read(item["read"], common)
    if "postback" in item:
        return _postback(item["postback"], common)
    if "optin" in item:
        return OptinEvent(details=_details(item["optin"]), **common)
    if "referral" in item:
        return ReferralEvent(details=_details(item["referral"]), **common)
    keys = ",".join(sorted(clean_text(str(k))[:40] for k in item)[:10])
    return UnknownEvent(reason=f"unknown messaging kind ({keys})", raw=clean_json(item), **common)


def _details(value: Any) -> dict[str, Any]:
    cleaned = clean_json(value)
    return cleaned if isinstance(cleaned, dict) else {"value": cleaned}


def _message(raw: Any, common: dict[str, Any]) -> Event:
    if not isinstance(raw, dict):
        return UnknownEvent(reason="message is not an object", **common)
    mid = clean_id(raw.get("mid"))
    if not mid:
        return UnknownEvent(reason="message without mid", raw=clean_json(raw), **common)
    reply_to = _dict(raw.get("reply_to"))
    story = _dict(reply_to.get("story"))
    referral = raw.get("referral")
    return MessageEvent(
        mid=mid,
        text=clean_text(raw.get("text")),
        attachments=_attachments(raw.get("attachments")),
        reply_to_mid=clean_id(reply_to.get("mid")),
        reply_to_story_url=clean_text(story.get("url")),
        reply_to_story_id=clean_id(story.get("id")),
        quick_reply_payload=clean_text(_dict(raw.get("quick_reply")).get("payload")),
        referral=_details(referral) if referral is not None else {},
        is_echo=_flag(raw.get("is_echo")),
        is_deleted=_flag(raw.get("is_deleted")),
        is_unsupported=_flag(raw.get("is_unsupported")),
        **common,
    )


def _attachments(raw: Any) -> tuple[Attachment, ...]:
    if isinstance(raw, dict):  # one attachment sent bare instead of in a list
        raw = [raw]
    if not isinstance(raw, list):
        return ()
    attachments = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        payload = _dict(item.get("payload"))
        extra = tuple(
            (clean_text(str(key)), clean_json(value))
            for key, value in payload.items()
            if key not in ("url", "type")
            and (value is None or isinstance(value, str | int | float | bool))
        )
        attachments.append(
            Attachment(
                type=clean_text(item.get("type")) or "unknown",
                url=clean_text(payload.get("url") or item.get("url")),
                extra=extra,
            )
        )
    return tuple(attachments)


def _reaction(raw: Any, common: dict[str, Any]) -> Event:
    if not isinstance(raw, dict) or not clean_id(raw.get("mid")):
        return UnknownEvent(reason="reaction without mid", raw=clean_json(raw), **common)
    action = clean_text(raw.get("action")).lower() or "react"
    return ReactionEvent(
        mid=clean_id(raw.get("mid")),
        action="unreact" if action == "unreact" else "react",
        reaction=clean_text(raw.get("reaction")),
        emoji=clean_text(raw.get("emoji")),
        **common,
    )


def _read(raw: Any, common: dict[str, Any]) -> Event:
    raw = _dict(raw)
    return ReadEvent(
        mid=clean_id(raw.get("mid")), watermark_ms=epoch_ms(raw.get("watermark")), **common
    )


def _postback(raw: Any, common: dict[str, Any]) -> Event:
    if not isinstance(raw, dict):
        return UnknownEvent(reason="postback is not an object", **common)
    referral = raw.get("referral")
    return PostbackEvent(
        mid=clean_id(raw.get("mid")),
        title=loose_text(raw.get("title")),
        payload=loose_text(raw.get("payload")),
        referral=_details(referral) if referral is not None else {},
        **common,
    )


def _message_edit(raw: Any, common: dict[str, Any]) -> Event:
    if not isinstance(raw, dict) or not clean_id(raw.get("mid")):
        return UnknownEvent(reason="message_edit without mid", raw=clean_json(raw), **common)
    return MessageEditEvent(
        mid=clean_id(raw.get("mid")),
        text=clean_text(raw.get("text")),
        num_edit=_int(raw.get("num_edit")),
        **common,
    )
