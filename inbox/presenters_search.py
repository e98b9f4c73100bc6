"""What a search result's row shows: the line of the message that matched, the match
highlighted (escaped: customers' text never becomes markup)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

# Characters kept either side of the match when its line is long.
CONTEXT_CHARS = 40


def search_snippet(text: str, q: str) -> SafeString | str:
    """The line of `text` that holds `q` (case-insensitive), shortened around it, with the
    match in <mark>; "" when `q` is not in it."""
    if not text or not q:
        return ""
    at = text.lower().find(q.lower())
    if at < 0 or len(text.lower()) != len(text):  # a lowercase that changes lengths: no mark
        return ""
    end = at + len(q)
    line_start = text.rfind("\n", 0, at) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    left = max(line_start, at - CONTEXT_CHARS)
    right = min(line_end, end + CONTEXT_CHARS)
    before = ("…" if left > line_start else "") + text[left:at]
    after = text[end:right] + ("…" if right < line_end else "")
    return format_html("{}<mark>{}</mark>{}", before, text[at:end], after)
