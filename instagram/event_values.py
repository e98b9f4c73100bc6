"""Values from Meta's webhook JSON made safe: strings any database accepts, ids as strings,
epoch timestamps in milliseconds whichever unit Meta used. Pure Python, never raises."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

# Below this an epoch value is in seconds (1e11 ms is 1973; 1e11 s is the year 5138).
_SECONDS_LIMIT = 100_000_000_000
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last instant datetime holds
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_DEPTH = 6


def clean_text(value: Any) -> str:
    """A string safe for any database: no NUL, no lone surrogate. Non-strings → ""."""
    if not isinstance(value, str):
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def loose_text(value: Any) -> str:
    """A field Meta documents as text, as sent; a number or an object where text belongs
    becomes JSON text, so an odd postback still shows what it carried."""
    if value is None or isinstance(value, str):
        return clean_text(value)
    return json.dumps(clean_json(value), ensure_ascii=False)


def clean_id(value: Any) -> str:
    """Meta ids arrive as strings, sometimes as numbers: always a string here."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return clean_text(value).strip()


def clean_json(value: Any, depth: int = 0) -> Any:
    """A JSON-compatible copy that every database accepts (no NaN, no NUL, bounded depth)."""
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {clean_text(str(k)): clean_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v, depth + 1) for v in value]
    return None


def epoch_ms(value: Any) -> int | None:
    """Epoch milliseconds from Meta's `timestamp`/`time` (ms, or seconds in some shapes)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = int(value * 1000) if abs(value) < _SECONDS_LIMIT else int(value)
    elif isinstance(value, int):
        value = value * 1000 if abs(value) < _SECONDS_LIMIT else value
    else:
        return None
    return value if 0 < value <= _MAX_MS else None


def ms_to_datetime(ms: int | None) -> datetime | None:
    """An aware UTC datetime from epoch milliseconds (None stays None)."""
    if ms is None:
        return None
    return _EPOCH + timedelta(milliseconds=ms)
