"""Keeping tokens and secrets out of text that is logged, stored or shown."""

from __future__ import annotations

import re

# Bearer headers, query parameters and JSON fields that carry credentials, and the shapes of
# Instagram (IGAA..., IGQ...) and gateway (hmat_...) tokens wherever they appear.
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]+"),
    re.compile(
        r"(?i)((?:access_token|client_secret|refresh_token|code|hub\.verify_token)"
        r"[\"']?\s*[=:]\s*[\"']?)[^&\"'\s,}]+"
    ),
    re.compile(r"\b(IG[A-Za-z0-9]{2})[A-Za-z0-9_\-]{20,}"),
    re.compile(r"\b(hmat_)[A-Za-z0-9_\-]+"),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text
