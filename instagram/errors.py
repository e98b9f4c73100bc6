"""Typed errors for every way a Graph API call can fail, and the rule that picks one.

AuthError         190 (any subcode), or a bare HTTP 401: the token is dead.
RateLimitedError  HTTP 429, codes 4, 17, 32, 613, 80000-80014: slow down, then retry.
TransientError    HTTP 5xx, codes 1, 2, 1200, `"is_transient": true`, timeouts, dropped
                  connections: retry with backoff.
PermanentError    everything else (10 window/permission, 100 bad parameter, 551/1545041
                  user unavailable, 200-299 permissions, 230 consent, 368 policy...):
                  never retry.
"""

from __future__ import annotations

from typing import Any

from .usage import Usage

AUTH_CODES = frozenset({190})
# 4 app, 17 user, 32 page, 613 custom limits; 80000-80014 are the business use case limits
# (80002 is Instagram's own).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
# 1 unknown error, 2 service unavailable, 1200 temporary send failure.
TRANSIENT_CODES = frozenset({1, 2, 1200})


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
        usage: Usage | None = None,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id
        # Seconds from a `Retry-After` header.
        self.retry_after = retry_after
        # The usage headers of the failed response, when Meta sent them.
        self.usage = usage
        # True when the request may have reached Meta and been acted on before the failure
        # (a read timeout, a connection dropped after sending): resending risks a duplicate.
        self.maybe_delivered = maybe_delivered

    @property
    def code_label(self) -> str:
        """A short code for storing and showing: '190', '10/2534022', 'http-503', 'timeout'."""
        if self.code is not None:
            return f"{self.code}/{self.subcode}" if self.subcode else str(self.code)
        if self.status is not None:
            return f"http-{self.status}"
        return "timeout" if "Timed out" in self.message else "network"

    @property
    def backoff_hint(self) -> float | None:
        """The longest wait Meta asked for (Retry-After, or the usage header's regain
        estimate), in seconds; None when it gave no hint."""
        hints = [h for h in (self.retry_after, self.usage and self.usage.regain_after) if h]
        return max(hints) if hints else None


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


def classify_error(
    *,
    status: int,
    body: Any,
    retry_after: float | None = None,
    usage: Usage | None = None,
) -> GraphError:
    """Turn an HTTP error response into the right typed error."""
    message, code, subcode, fbtrace_id, is_transient = _error_fields(body)
    message = message or f"HTTP {status}"
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "subcode": subcode,
        "fbtrace_id": fbtrace_id,
        "retry_after": retry_after,
        "usage": usage,
    }
    if code in AUTH_CODES or (status == 401 and code is None):
        # A bare 401 (no Graph code) is how a gateway refuses its own revoked token.
        return AuthError(message, **kwargs)
    if status == 429 or code in RATE_LIMIT_CODES:
        return RateLimitedError(message, **kwargs)
    if is_transient or status >= 500 or code in TRANSIENT_CODES:
        return TransientError(message, **kwargs)
    return PermanentError(message, **kwargs)


def _error_fields(body: Any) -> tuple[str, int | None, int | None, str, bool]:
    """(message, code, subcode, fbtrace_id, is_transient) from any of Meta's error shapes."""
    if not isinstance(body, dict):
        return "", None, None, "", False
    error = body.get("error")
    if isinstance(error, dict):
        message = error.get("message") or error.get("error_user_msg") or error.get("type")
        return (
            str(message or ""),
            _as_int(error.get("code")),
            _as_int(error.get("error_subcode")),
            str(error.get("fbtrace_id") or ""),
            error.get("is_transient") is True,
        )
    # The OAuth code exchange answers flat ({"error_type", "code", "error_message"}); the
    # older Instagram API nested the same fields under "meta".
    meta = body.get("meta")
    flat: dict[str, Any] = meta if isinstance(meta, dict) else body
    if "error_type" in flat or "error_message" in flat:
        message = flat.get("error_message") or flat.get("error_type")
        return str(message or ""), _as_int(flat.get("code")), None, "", False
    if isinstance(error, str):  # {"error": "invalid_request", "error_description": "..."}
        return str(body.get("error_description") or error), None, None, "", False
    return "", None, None, "", False


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
