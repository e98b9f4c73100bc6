"""The one door to Meta: every Graph API and OAuth call goes through `GraphClient`.

No other module imports `requests`. Every call has a timeout; every failure becomes a typed
error from `instagram.errors`; tokens travel in headers or bodies and never reach a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from .errors import GraphError, PermanentError, TransientError, classify_error

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 15.0)
PROFILE_FIELDS = (
    "name,username,profile_pic,follower_count,is_user_follow_business,"
    "is_business_follow_user,is_verified_user"
)
ME_FIELDS = "user_id,username,name,profile_picture_url,account_type"
SUBSCRIBED_FIELDS = (
    "messages,message_reactions,messaging_seen,messaging_postbacks,"
    "messaging_referral,messaging_optins"
)

_session: requests.Session | None = None


def _shared_session() -> requests.Session:
    """One pooled session per process: connections to Meta are reused across calls."""
    global _session
    if _session is None:
        _session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=32)
        _session.mount("https://", adapter)
        _session.mount("http://", adapter)
    return _session


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

    # --- messaging --------------------------------------------------------------------
    def send_message(self, *, ig_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /{ig_id}/messages: a message, a reaction or a sender action."""
        return self.request("POST", f"/{ig_id}/messages", json=body)

    def get_user_profile(self, *, igsid: str) -> dict[str, Any]:
        return self.request("GET", f"/{igsid}", params={"fields": PROFILE_FIELDS})

    # --- the connected account ---------------------------------------------------------
    def get_me(self) -> dict[str, Any]:
        return self.request("GET", "/me", params={"fields": ME_FIELDS})

    def subscribe_app(self, *, fields: str = SUBSCRIBED_FIELDS) -> dict[str, Any]:
        return self.request("POST", "/me/subscribed_apps", params={"subscribed_fields": fields})

    def unsubscribe_app(self) -> dict[str, Any]:
        return self.request("DELETE", "/me/subscribed_apps")

    # --- tokens (these live on the host without the version segment) -------------------
    def exchange_long_lived_token(self, *, client_secret: str) -> dict[str, Any]:
        return self.request(
            "GET",
            f"{host_root(self.base_url)}/access_token",
            params={
                "grant_type": "ig_exchange_token",
                "client_secret": client_secret,
                "access_token": self.token,
            },
            auth=False,
        )

    def refresh_long_lived_token(self) -> dict[str, Any]:
        return self.request(
            "GET",
            f"{host_root(self.base_url)}/refresh_access_token",
            params={"grant_type": "ig_refresh_token", "access_token": self.token},
            auth=False,
        )

    def exchange_code(
        self, *, token_url: str, client_id: str, client_secret: str, redirect_uri: str, code: str
    ) -> dict[str, Any]:
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
            return data[0]
        return answer

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
        except requests.Timeout as e:
            raise TransientError(f"Timed out calling {safe_url}") from e
        except requests.RequestException as e:
            raise TransientError(f"Could not reach {safe_url}: {type(e).__name__}") from e

        body = _json_or_none(response)
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            error = classify_error(
                status=response.status_code if response.status_code >= 400 else 400,
                body=body,
                retry_after=_retry_after(response),
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
            raise PermanentError(f"Unexpected answer from {safe_url}", status=response.status_code)
        return body


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


__all__ = ["GraphClient", "GraphError", "host_root"]
