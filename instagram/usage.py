"""Meta's usage headers: how close an app and a business account are to being throttled.

`X-App-Usage: {"call_count": 28, "total_time": 25, "total_cputime": 25}` (percentages of the
app's allowance) and `X-Business-Use-Case-Usage: {"<id>": [{"type": "instagram",
"call_count": 96, "total_time": 10, "total_cputime": 10, "estimated_time_to_regain_access": 3}]}`
(percentages per business account; the regain estimate is in minutes). Callers use them to
back off before Meta starts refusing, and for how long once it has.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

APP_USAGE_HEADER = "X-App-Usage"
BUSINESS_USAGE_HEADER = "X-Business-Use-Case-Usage"
_PERCENT_FIELDS = ("call_count", "total_time", "total_cputime")


@dataclass(frozen=True)
class Usage:
    # The highest percentage any reported counter has reached (100 means throttled).
    percent: float
    # Seconds until Meta expects to accept calls again, when it said so.
    regain_after: float | None = None

    @property
    def is_high(self) -> bool:
        """Close enough to the limit that a caller should slow down before it is refused."""
        return self.percent >= 90


def parse_usage(headers: Mapping[str, str]) -> Usage | None:
    """The combined usage of both headers, or None when neither is present and readable."""
    percents: list[float] = []
    regains: list[float] = []
    app = _load(headers.get(APP_USAGE_HEADER))
    if isinstance(app, dict):
        percents.extend(_percents(app))
    business = _load(headers.get(BUSINESS_USAGE_HEADER))
    if isinstance(business, dict):
        for entries in business.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                if not isinstance(entry, dict):
                    continue
                percents.extend(_percents(entry))
                minutes = _number(entry.get("estimated_time_to_regain_access"))
                if minutes is not None and minutes > 0:
                    regains.append(minutes * 60)
    if not percents and not regains:
        return None
    return Usage(percent=max(percents, default=0.0), regain_after=max(regains, default=None))


def _load(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _percents(entry: Mapping[str, Any]) -> Iterable[float]:
    for field in _PERCENT_FIELDS:
        value = _number(entry.get(field))
        if value is not None:
            yield value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
