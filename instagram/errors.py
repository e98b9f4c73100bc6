"""Typed errors for every way a Graph API call can fail, and the rule that picks one."""

from __future__ import annotations

from typing import Any

# Codes META_API.md lists as worth retrying with backoff.
TRANSIENT_CODES = frozenset({1, 2})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80002})
AUTH_CODES = frozenset({190})


class GraphError(Exception):
    """A failed call to Meta. `str()` never contains the request's token or body."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id
        self.retry_after = retry_after

    @property
    def code_label(self) -> str:
        """A short code for storing and showing: '190', '10/2534022', 'http-503', 'timeout'."""
        if self.code is not None:
            return f"{self.code}/{self.subcode}" if self.subcode else str(self.code)
        if self.status is not None:
            return f"http-{self.status}"
        return "network"


class AuthError(GraphError):
    """The token is invalid, expired or revoked (code 190): the account must reconnect."""


class RateLimitedError(GraphError):
    """Meta asked us to slow down (HTTP 429 or a throttling code)."""

    retryable = True


class TransientError(GraphError):
    """A 5xx, a timeout, a dropped connection or an error Meta marks transient."""

    retryable = True


class PermanentError(GraphError):
    """Any other refusal (window closed, bad parameter, user unavailable...): never retried."""


def classify_error(*, status: int, body: Any, retry_after: float | None = None) -> GraphError:
    """Turn an HTTP error response into the right typed error."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or error.get("error_user_msg") or "")
        code = _as_int(error.get("code"))
        subcode = _as_int(error.get("error_subcode"))
        fbtrace_id = str(error.get("fbtrace_id") or "")
        is_transient = bool(error.get("is_transient"))
    elif isinstance(body, dict) and ("error_type" in body or "error_message" in body):
        # The OAuth code exchange answers in a flat shape.
        message = str(body.get("error_message") or body.get("error_type") or "")
        code = _as_int(body.get("code"))
        subcode, fbtrace_id, is_transient = None, "", False
    else:
        message, code, subcode, fbtrace_id, is_transient = "", None, None, "", False

    message = message or f"HTTP {status}"
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "subcode": subcode,
        "fbtrace_id": fbtrace_id,
        "retry_after": retry_after,
    }
    if code in AUTH_CODES:
        return AuthError(message, **kwargs)
    if status == 429 or code in RATE_LIMIT_CODES:
        return RateLimitedError(message, **kwargs)
    if status >= 500 or code in TRANSIENT_CODES or is_transient:
        return TransientError(message, **kwargs)
    return PermanentError(message, **kwargs)


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
