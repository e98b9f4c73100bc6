"""The data-v of what a thread shows, computed from the presented data without rendering,
and the marks that let a live poll render only what changed since the page's last render.

Each part of the thread (header, tools, reply state, customer panel) and each message, note
and activity line carries a data-v that changes whenever it would render differently;
inbox.js replaces only the elements whose data-v differ. A poll that knows what the page
holds (inbox/services/live_held.py) renders only those, and a placeholder for each item the
page keeps, so that new items land in their place.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from .models import Message
from .services.live import digest
from .services.live_held import Held, held_let_go, held_lookup, held_record

_ITEM_PREFIX = {"message": "m", "note": "n", "activity": "a"}
PARTS = ("header", "tools", "composer-state", "panel")


def message_digest(
    message: Message, *, can_react: bool = False, replied: dict[str, Message] | None = None
) -> str:
    """Changes whenever the bubble would render differently; the live merge skips equal ones.
    Besides its own fields: whether a heart can be sent (the window), and the message it
    quotes (unsent or edited since)."""
    reactions = [(r.actor, r.reaction, r.emoji) for r in message.reactions.all()]
    quoted = (replied or {}).get(message.reply_to_mid) if message.reply_to_mid else None
    parts = (
        message.updated_at,
        message.status,
        message.text,
        message.edit_count,
        message.is_deleted,
        message.error_code,
        message.error_reason,
        message.next_attempt_at,
        message.seen_at,
        message.mid,
        reactions,
        bool(can_react),
        (quoted.is_deleted, quoted.text) if quoted is not None else None,
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=6).hexdigest()


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def thread_parts_present(context: dict[str, Any]) -> dict[str, str]:
    """Each part's data-v, from the fields it shows (the ticking minutes of the window's
    label included, as before: a part that shows them renders when they changed)."""
    c = context["conversation"]
    window = context["window"]
    return {
        "header": digest(
            c.status,
            c.assignee_id,
            window.label,
            context["window_meta_label"],
            c.display_name,
            c.customer_username,
            c.customer_picture_url,
        ),
        "tools": digest(
            context["labels_version"], _iso(c.snoozed_until), c.status, _iso(window.closes_at)
        ),
        "composer-state": digest(
            context["refusal"],
            window.label,
            len(context["window_contradiction"] or ""),
            _iso(c.other_app_since),
        ),
        "panel": digest(
            _iso(c.profile_fetched_at),
            c.status,
            c.assignee_id,
            c.profile_error or "",
            _iso(c.last_customer_message_at),
            window.label,
            c.display_name,
            c.customer_username,
        ),
    }


def _item_id(entry: dict[str, Any]) -> str:
    return f"{_ITEM_PREFIX[entry['kind']]}-{entry['item'].pk}"


def _item_version(entry: dict[str, Any], context: dict[str, Any]) -> str:
    # Notes and activity lines are written once: their id is their version.
    if entry["kind"] == "message":
        return message_digest(
            entry["item"], can_react=context["can_react"], replied=context["replied"]
        )
    return str(entry["item"].pk)


def thread_held_present(context: dict[str, Any]) -> Held:
    """What a render of this thread context holds: each part's and each item's data-v."""
    return Held(
        parts=thread_parts_present(context),
        items={_item_id(entry): _item_version(entry, context) for entry in context["timeline"]},
    )


def thread_partial_mark(context: dict[str, Any], *, now: Held, held: Held) -> None:
    """Mark what the page (holding `held`) keeps: the parts left out of the update, and the
    items sent as placeholders. Nothing else changes: what differs renders as before.

    A thread never drops an item the page shows (notes and activity lines are never
    deleted, an unsent message stays as a tombstone, an item that leaves the newest page
    stays on the open one): every item is either sent or kept."""
    context["keep_parts"] = {name for name, v in now.parts.items() if held.parts.get(name) == v}
    for entry in context["timeline"]:
        item_id = _item_id(entry)
        if held.items.get(item_id) == now.items[item_id]:
            entry["keep"] = item_id


def thread_live_present(context: dict[str, Any], *, held_key: str = "") -> None:
    """Add to a thread's context its parts' data-v and the key of what it holds (kept for
    the page's next polls); for a poll that sent the key of what its page holds
    (`held_key`), mark what the page keeps. A key not found: everything renders."""
    now = thread_held_present(context)
    context["part_v"] = now.parts
    context["held_key"] = held_record(held=now)
    context["keep_parts"] = set()
    held = held_lookup(key=held_key) if held_key else None
    if held is not None:
        thread_partial_mark(context, now=now, held=held)
        if held_key != context["held_key"]:
            held_let_go(key=held_key)


def _row_version(row: dict[str, Any]) -> str:
    # A row renders from its dict alone: the same dict, the same markup.
    return digest(*sorted(row.items()))


def rows_live_present(
    rows: list[dict[str, Any]], *, held_key: str = ""
) -> tuple[list[dict[str, Any]], str]:
    """The list's rows, each row the page holds already (`held_key`: what it holds, sent by
    its poll) marked `keep` (a placeholder renders in its place); and the key of what these
    rows hold, for the page's next poll."""
    now = Held(items={f"c-{row['pk']}": _row_version(row) for row in rows})
    key = held_record(held=now)
    held = held_lookup(key=held_key) if held_key else None
    if held is not None:
        if held_key != key:
            held_let_go(key=held_key)
        for row in rows:
            item_id = f"c-{row['pk']}"
            row["keep"] = held.items.get(item_id) == now.items[item_id]
    return rows, key
