"""Meta's successful answers, read once into typed values.

The client returns these instead of raw JSON, so no caller parses Meta's shapes itself. Each
reader tolerates what Meta leaves out or sends with another type (a number as a string, a
missing field): an absent value becomes "" or None, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_FOLLOWERS = 2_147_483_647  # what a database's positive integer column holds
# Meta sends at most 1000 bytes of text; anything far beyond that is not a message's text.
MESSAGE_TEXT_MAX = 10_000


def _text(value: Any, length: int) -> str:
    """A string field, without NUL characters (no database stores them), clipped."""
    return value.replace("\x00", "")[:length] if isinstance(value, str) else ""


def _id(value: Any) -> str:
    """An id or a token: Meta sends ids as strings or numbers."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value)


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _count(value: Any) -> int | None:
    """A non-negative whole number, from a number or a string of digits."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def _seconds(value: Any) -> int | None:
    """A positive duration in seconds, from a number or a string (Meta sends both)."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


@dataclass(frozen=True)
class SentMessage:
    """`POST /{ig_id}/messages`: the id Meta gave the message ("" when it gave none, as for
    reactions and sender actions)."""

    message_id: str
    recipient_id: str

    @classmethod
    def read(cls, answer: dict[str, Any]) -> SentMessage:
        return cls(
            message_id=_id(answer.get("message_id")),
            recipient_id=_id(answer.get("recipient_id")),
        )


@dataclass(frozen=True)
class MessageText:
    """`GET /{mid}?fields=message`: a message's current text ("" when Meta sent none, as for
    an attachment, or a value that is not text)."""

    mid: str
    text: str

    @classmethod
    def read(cls, answer: dict[str, Any]) -> MessageText:
        return cls(mid=_id(answer.get("id")), text=_text(answer.get("message"), MESSAGE_TEXT_MAX))


@dataclass(frozen=True)
class Profile:
    """`GET /{igsid}`: what Meta shares of a customer who wrote to the account."""

    name: str
    username: str
    picture_url: str
    follower_count: int | None
    follows_business: bool | None
    business_follows: bool | None
    is_verified: bool | None

    @classmethod
    def read(cls, answer: dict[str, Any]) -> Profile:
        followers = _count(answer.get("follower_count"))
        return cls(
            name=_text(answer.get("name"), 255),
            username=_text(answer.get("username"), 255),
            picture_url=_text(answer.get("profile_pic"), 2000),
            follower_count=min(followers, MAX_FOLLOWERS) if followers is not None else None,
            follows_business=_flag(answer.get("is_user_follow_business")),
            business_follows=_flag(answer.get("is_business_follow_user")),
            is_verified=_flag(answer.get("is_verified_user")),
        )


@dataclass(frozen=True)
class Me:
    """`GET /me`: the connected account. `user_id` is its key (the id in webhooks)."""

    user_id: str
    username: str
    name: str
    profile_picture_url: str

    @classmethod
    def read(cls, answer: dict[str, Any]) -> Me:
        return cls(
            user_id=_id(answer.get("user_id")),
            username=_text(answer.get("username"), 255),
            name=_text(answer.get("name"), 255),
            profile_picture_url=_text(answer.get("profile_picture_url"), 2000),
        )


@dataclass(frozen=True)
class TokenGrant:
    """A token from the code exchange, the long-lived exchange or a refresh ("" when the
    answer carried none: the caller says which step failed)."""

    access_token: str
    expires_in: int | None  # seconds; None when Meta did not say
    user_id: str = ""  # the code exchange's (not the account's key: that is /me's)

    @classmethod
    def read(cls, answer: dict[str, Any]) -> TokenGrant:
        return cls(
            access_token=_id(answer.get("access_token")),
            expires_in=_seconds(answer.get("expires_in")),
            user_id=_id(answer.get("user_id")),
        )

    def expires_at(self, *, now: datetime) -> datetime | None:
        """The absolute expiry; None when unknown."""
        return now + timedelta(seconds=self.expires_in) if self.expires_in else None


@dataclass(frozen=True)
class SubscribedApp:
    """One app of `GET /me/subscribed_apps`: its id ("" when Meta left it out) and fields."""

    app_id: str
    fields: frozenset[str]


@dataclass(frozen=True)
class SubscribedApps:
    """`GET /me/subscribed_apps`: `{"data": [{"id", "name", "subscribed_fields": [...]}]}`.
    An app subscribed without fields has no `subscribed_fields` key; no app: `data` is []."""

    apps: tuple[SubscribedApp, ...]

    @classmethod
    def read(cls, answer: dict[str, Any]) -> SubscribedApps:
        data = answer.get("data")
        entries = data if isinstance(data, list) else []
        return cls(
            apps=tuple(_subscribed_app(entry) for entry in entries if isinstance(entry, dict))
        )

    def fields_of(self, *, app_id: str = "") -> frozenset[str]:
        """The fields of the app `app_id` when Meta lists it by id; otherwise of every app
        listed (an Instagram user token normally sees its own app only)."""
        mine = [app for app in self.apps if app_id and app.app_id == app_id]
        return frozenset().union(*(app.fields for app in (mine or self.apps)))


def _subscribed_app(entry: dict[str, Any]) -> SubscribedApp:
    fields = entry.get("subscribed_fields")
    names = fields if isinstance(fields, list) else []
    return SubscribedApp(
        app_id=_id(entry.get("id")),
        fields=frozenset(_text(name, 100) for name in names if isinstance(name, str)),
    )


def _attachment(item: Any) -> dict[str, str] | None:
    """One item of `attachments.data[]` in the webhook's flat shape ({"type", "url", ...}).
    Images come as `image_data`, videos (and voice notes) as `video_data`, anything else as
    `file_url`; the MIME type tells audio from video."""
    if not isinstance(item, dict):
        return None
    mime = _text(item.get("mime_type"), 100).lower()
    image, video = item.get("image_data"), item.get("video_data")
    if isinstance(image, dict) and _text(image.get("url"), 2000):
        kind, url = "image", _text(image.get("url"), 2000)
    elif isinstance(video, dict) and _text(video.get("url"), 2000):
        kind, url = ("audio" if mime.startswith("audio/") else "video"), _text(video["url"], 2000)
    elif _text(item.get("file_url"), 2000):
        kind = "audio" if mime.startswith("audio/") else "file"
        url = _text(item.get("file_url"), 2000)
    else:
        return None
    found = {"type": kind, "url": url}
    name = _text(item.get("name"), 255)
    return {**found, "name": name} if name else found


@dataclass(frozen=True)
class MessageAttachments:
    """`GET /{mid}?fields=attachments`: the message's media with fresh CDN links, in Meta's
    order, each as `{"type", "url"[, "name"]}`; items without a link are left out."""

    mid: str
    attachments: tuple[dict[str, str], ...]

    @classmethod
    def read(cls, answer: dict[str, Any]) -> MessageAttachments:
        edge = answer.get("attachments")
        items = edge.get("data") if isinstance(edge, dict) else edge
        found = [_attachment(item) for item in items] if isinstance(items, list) else []
        return cls(mid=_id(answer.get("id")), attachments=tuple(a for a in found if a))


# --- the Conversations API (history) ----------------------------------------------------
def _graph_time(value: Any) -> datetime | None:
    """Meta's `created_time`/`updated_time`: ISO-8601 with `+0000`, or epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdecimal():
        return _graph_time(int(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _edge(value: Any) -> list[dict[str, Any]]:
    """An edge's items: `{"data": [...]}` or a bare list; anything else is empty."""
    items = value.get("data") if isinstance(value, dict) else value
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _next_cursor(answer: dict[str, Any]) -> str:
    """The `after` cursor of the next page; "" on the last page (no `paging.next`)."""
    paging = answer.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return ""
    cursors = paging.get("cursors")
    return _id(cursors.get("after")) if isinstance(cursors, dict) else ""


@dataclass(frozen=True)
class ConversationRef:
    """One row of `GET /me/conversations`: its id and when its newest message came."""

    id: str
    updated_time: datetime | None


@dataclass(frozen=True)
class ConversationPage:
    """A page of `GET /me/conversations?platform=instagram`, newest first; `after` is the
    cursor of the next page ("" at the end)."""

    conversations: tuple[ConversationRef, ...]
    after: str

    @classmethod
    def read(cls, answer: dict[str, Any]) -> ConversationPage:
        rows = [
            ConversationRef(
                id=_id(row.get("id")), updated_time=_graph_time(row.get("updated_time"))
            )
            for row in _edge(answer)
        ]
        return cls(conversations=tuple(r for r in rows if r.id), after=_next_cursor(answer))


@dataclass(frozen=True)
class Participant:
    id: str
    username: str


@dataclass(frozen=True)
class HistoryMessage:
    """One message as the Conversations API gives it. Meta gives full details only for a
    conversation's 20 newest: older ones may come with their id alone (`from_id` "")."""

    mid: str
    created_time: datetime | None
    from_id: str
    to_ids: tuple[str, ...]
    text: str
    attachments: tuple[dict[str, str], ...]

    @classmethod
    def read(cls, answer: dict[str, Any]) -> HistoryMessage:
        sender = answer.get("from")
        found = [_attachment(item) for item in _edge(answer.get("attachments"))]
        return cls(
            mid=_id(answer.get("id")),
            created_time=_graph_time(answer.get("created_time")),
            from_id=_id(sender.get("id")) if isinstance(sender, dict) else "",
            to_ids=tuple(_id(p.get("id")) for p in _edge(answer.get("to")) if _id(p.get("id"))),
            text=_text(answer.get("message"), MESSAGE_TEXT_MAX),
            attachments=tuple(a for a in found if a),
        )


@dataclass(frozen=True)
class ConversationDetail:
    """`GET /{conversation_id}?fields=participants,messages{...}`: who is in it and its
    messages, newest first (the first page of the messages edge)."""

    id: str
    participants: tuple[Participant, ...]
    messages: tuple[HistoryMessage, ...]

    @classmethod
    def read(cls, answer: dict[str, Any]) -> ConversationDetail:
        people = [
            Participant(id=_id(p.get("id")), username=_text(p.get("username"), 255))
            for p in _edge(answer.get("participants"))
        ]
        messages = [HistoryMessage.read(m) for m in _edge(answer.get("messages"))]
        return cls(
            id=_id(answer.get("id")),
            participants=tuple(p for p in people if p.id),
            messages=tuple(m for m in messages if m.mid),
        )
