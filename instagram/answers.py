"""Meta's successful answers, read once into typed values.

The client returns these instead of raw JSON, so no caller parses Meta's shapes itself. Each
reader tolerates what Meta leaves out or sends with another type (a number as a string, a
missing field): an absent value becomes "" or None, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
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
