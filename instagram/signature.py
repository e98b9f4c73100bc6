"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

PREFIX = "sha256="
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


def sign(body: bytes, secret: str) -> str:
    """The header value Meta would send for `body`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def signature_is_valid(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """True when `header` signs the raw `body` with any of the (non-empty) secrets.

    Compared in constant time; no secret at all means nothing is valid (fail closed).
    """
    if not header or not header.startswith(PREFIX):
        return False
    given = header[len(PREFIX) :].strip().lower()
    if not _HEX_SHA256.fullmatch(given):
        return False  # not a digest at all (compare_digest refuses non-ASCII text)
    valid = False
    for secret in secrets:
        if secret:
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            valid |= hmac.compare_digest(expected, given)
    return valid
