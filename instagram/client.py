"""The one door to Meta: every Graph API and OAuth call goes through `GraphClient`.

No other module imports `requests`. Every call has a timeout; every failure becomes a typed
error from `instagram.errors`; tokens travel in headers or bodies and never reach a log line.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .answers import (
    ConversationDetail,
    ConversationPage,
    HistoryMessage,
    Me,
    MessageAttachments,
    MessageText,
    Profile,
    SentMessage,
    SubscribedApps,
    TokenGrant,
)
from .errors import GraphError, PermanentError, TransientError, classify_error
from .usage import Usage, parse_usage

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 15.0)
PROFILE_FIELDS = (
    "name,username,profile_pic,follower_count,is_user_follow_business,"
    "is_business_follow_user,is_verified_user"
)
# The Conversations API: a conversation's participants and its newest messages in one call
# (field expansion); Meta gives full details for the 20 newest only.
HISTORY_MESSAGE_FIELDS = "id,created_time,from,to,message,attachments"
CONVERSATION_FIELDS = f"participants,messages.limit(20){{{HISTORY_MESSAGE_FIELDS}}}"
ME_FIELDS = "user_id,username,name,profile_picture_url,account_type"
SUBSCRIBED_FIELDS = (
    "messages,message_reactions,messaging_seen,messaging_postbacks,"
    "messaging_referral,messaging_optins"
)
# Meta's pages spell two of these fields both ways (META_API.md): either spelling counts.
FIELD_SPELLINGS = {
    "message_reactions": frozenset({"message_reactions", "messaging_reactions"}),
    "messaging_referral": frozenset({"messaging_referral", "messaging_referrals"}),
}


def subscription_missing(fields: frozenset[str], *, wanted: str = SUBSCRIBED_FIELDS) -> list[str]:
    """The fields of `wanted` that `fields` (what Meta lists) lacks, in `wanted`'s order."""
    return [
        name
        for name in wanted.split(",")
        if not FIELD_SPELLINGS.get(name, frozenset({name})) & fields
    ]


_session: requests.Session | None = None
_session_pid = 0


def _shared_session() -> requests.Session:
    """One pooled session per process: connections to Meta are reused across calls.

    Keyed by pid: a session created before a fork (Celery's prefork pool) would share its
    sockets with the children."""
    global _session, _session_pid
    if _session is None or _session_pid != os.getpid():
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=32)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        _session, _session_pid = session, os.getpid()
    return _session


def shared_session_close() -> None:
    """Close the pooled connections (the next call opens new ones). For tests: Django's live
    server keeps a thread, and that thread's database connection, for every connection kept
    alive to it."""
    if _session is not None:
        _session.close()


def host_root(base_url: str) -> str:
    """The base URL without its version segment: `https://graph.instagram.com/v24.0` →
    `https://graph.instagram.com` (the token exchange and refresh live there)."""
    parts = urlsplit(base_url.rstrip("/"))
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[-1].startswith("v") and segments[-1][1:].replace(".", "").isdigit():
        segments = segments[:-1]
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), "", "")).rstrip("/")


class GraphClient:
    """Calls one account's Graph API base URL with its token."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str = "",
        timeout: tuple[float, float] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.session = session or _shared_session()
        # The usage headers of the last answer (success or failure), for callers that pace
        # themselves before Meta starts refusing.
        self.last_usage: Usage | None = None

    # --- messaging --------------------------------------------------------------------
    def send_message(self, *, ig_id: str, body: Mapping[str, Any]) -> SentMessage:
        """POST /{ig_id}/messages: a message, a reaction or a sender action."""
        return SentMessage.read(self.request("POST", f"/{ig_id}/messages", json=body))

    def get_message_attachments(self, *, mid: str) -> MessageAttachments:
        """GET /{mid}?fields=attachments: the message's media with fresh links (Meta answers
        only for a conversation's 20 newest messages)."""
        # A mid is base64-like: "/" or "+" in it must not change the path.
        answer = self.request("GET", f"/{quote(mid, safe='')}", params={"fields": "attachments"})
        return MessageAttachments.read(answer)

    def get_message_text(self, *, mid: str) -> MessageText:
        """GET /{mid}?fields=message: the text as it is now (after the customer's edits)."""
        path = f"/{quote(mid, safe='')}"
        return MessageText.read(self.request("GET", path, params={"fields": "message"}))

    def get_user_profile(self, *, igsid: str) -> Profile:
        return Profile.read(self.request("GET", f"/{igsid}", params={"fields": PROFILE_FIELDS}))

    # --- history (the Conversations API) ------------------------------------------------
    def get_conversations(self, *, after: str = "", limit: int = 25) -> ConversationPage:
        """GET /me/conversations?platform=instagram: one page, newest first."""
        params: dict[str, Any] = {
            "platform": "instagram",
            "fields": "id,updated_time",
            "limit": limit,
        }
        if after:
            params["after"] = after
        return ConversationPage.read(self.request("GET", "/me/conversations", params=params))

    def get_conversation(self, *, conversation_id: str) -> ConversationDetail:
        """GET /{conversation_id}: its participants and its 20 newest messages."""
        path = f"/{quote(conversation_id, safe='')}"
        answer = self.request("GET", path, params={"fields": CONVERSATION_FIELDS})
        return ConversationDetail.read(answer)

    def get_history_message(self, *, mid: str) -> HistoryMessage:
        """GET /{mid}: one message in full, for one the conversation listed by id alone."""
        path = f"/{quote(mid, safe='')}"
        return HistoryMessage.read(
            self.request("GET", path, params={"fields": HISTORY_MESSAGE_FIELDS})
        )

    # --- the connected account ---------------------------------------------------------
    def get_me(self) -> Me:
        return Me.read(self.request("GET", "/me", params={"fields": ME_FIELDS}))

    def subscribe_app(self, *, fields: str = SUBSCRIBED_FIELDS) -> bool:
        """False only when Meta answered `"success": false`."""
        answer = self.request("POST", "/me/subscribed_apps", params={"subscribed_fields": fields})
        return answer.get("success") is not False

    def get_subscribed_apps(self) -> SubscribedApps:
        """What Meta delivers for this account: the apps subscribed and their fields."""
        return SubscribedApps.read(self.request("GET", "/me/subscribed_apps"))

    def unsubscribe_app(self) -> None:
        self.request("DELETE", "/me/subscribed_apps")

    # --- tokens (these live on the host without the version segment) -------------------
    def exchange_long_lived_token(self, *, client_secret: str) -> TokenGrant:
        answer = self.request(
            "GET",
            f"{host_root(self.base_url)}/access_token",
            params={
                "grant_type": "ig_exchange_token",
                "client_secret": client_secret,
                "access_token": self.token,
            },
            auth=False,
        )
        return TokenGrant.read(answer)

    def refresh_long_lived_token(self) -> TokenGrant:
        answer = self.request(
            "GET",
            f"{host_root(self.base_url)}/refresh_access_token",
            params={"grant_type": "ig_refresh_token", "access_token": self.token},
            auth=False,
        )
        return TokenGrant.read(answer)

    def exchange_code(
        self, *, token_url: str, client_id: str, client_secret: str, redirect_uri: str, code: str
    ) -> TokenGrant:
        """The OAuth code → short-lived token exchange. Accepts flat and `data[]` answers."""
        answer = self.request(
            "POST",
            token_url,
            data={
                "client_id": client_id,
                "client_secret": client_secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
            auth=False,
        )
        data = answer.get("data")
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return TokenGrant.read(data[0])
        return TokenGrant.read(answer)

    # --- transport --------------------------------------------------------------------
    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        auth: bool = True,
    ) -> dict[str, Any]:
        url = path_or_url if "://" in path_or_url else f"{self.base_url}{path_or_url}"
        headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
        safe_url = url.split("?", 1)[0]
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.RequestException as e:
            raise _transport_error(e, method=method, safe_url=safe_url) from e

        self.last_usage = parse_usage(response.headers)
        body = _json_or_none(response)
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            error = classify_error(
                status=response.status_code if response.status_code >= 400 else 400,
                body=body,
                retry_after=_retry_after(response),
                usage=self.last_usage,
            )
            logger.info(
                "graph %s %s -> %s %s (%s)",
                method,
                safe_url,
                response.status_code,
                type(error).__name__,
                error.code_label,
            )
            raise error
        if not isinstance(body, dict):
            # Meta said yes but the answer is unreadable: a write may well have happened.
            raise PermanentError(
                f"Unexpected answer from {safe_url}",
                status=response.status_code,
                maybe_delivered=method != "GET",
            )
        return body


def _transport_error(e: requests.RequestException, *, method: str, safe_url: str) -> GraphError:
    """A request that got no HTTP answer. Whether it may have reached Meta matters for
    writes: a connection that was never made is safe to repeat, a read timeout is not."""
    never_sent = isinstance(e, requests.ConnectTimeout) or _connection_refused(e)
    maybe_delivered = method != "GET" and not never_sent
    if isinstance(e, requests.Timeout):
        return TransientError(f"Timed out calling {safe_url}", maybe_delivered=maybe_delivered)
    return TransientError(
        f"Could not reach {safe_url}: {type(e).__name__}", maybe_delivered=maybe_delivered
    )


def _connection_refused(e: requests.RequestException) -> bool:
    """The connection itself failed (DNS, refused, unreachable): nothing was sent."""
    if not isinstance(e, requests.ConnectionError):
        return False
    reason = e.args[0] if e.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # NameResolutionError is a NewConnectionError too.
    return isinstance(reason, NewConnectionError)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: requests.Response) -> float | None:
    """`Retry-After` in seconds: either delta-seconds or an HTTP date."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


__all__ = [
    "ConversationDetail",
    "ConversationPage",
    "GraphClient",
    "GraphError",
    "HistoryMessage",
    "Me",
    "MessageAttachments",
    "MessageText",
    "Profile",
    "SentMessage",
    "SubscribedApps",
    "TokenGrant",
    "Usage",
    "host_root",
]
