"""What the pages show of team work: the thread's timeline (messages, notes and activity
lines in time order), a note's highlighted mentions, activity in words, saved replies with
their placeholders filled from the customer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.roles import agent_name

from .models import ActivityEvent, ActivityKind, Note
from .refs import ConversationRef, MessageRef
from .selectors import saved_replies_for, thread_notes_and_activity
from .services import MENTION

Entry = MessageRef | Note | ActivityEvent


KINDS = ("message", "note", "activity")


def timeline_present(
    *,
    conversation: ConversationRef,
    messages: Sequence[MessageRef],
    has_earlier: bool,
    until: Any = None,
) -> list[dict[str, Any]]:
    """One page of the thread: its messages with the notes and activity of the same span
    (from its first message when earlier ones exist, up to `until`: the next page's first
    message, or now), in time order; a message before a note or line of the same instant.
    Each entry is {"kind", "item", "timestamp"}: plain dicts keep the template's lookups
    cheap on every page and poll."""
    since = messages[0].timestamp if has_earlier and messages else None
    notes, events = thread_notes_and_activity(conversation=conversation, since=since, until=until)
    entries: list[tuple[datetime, int, int, Entry]] = [(m.timestamp, 0, m.pk, m) for m in messages]
    entries += [(n.created_at, 1, n.pk, n) for n in notes]
    entries += [(e.created_at, 2, e.pk, e) for e in events]
    entries.sort(key=lambda entry: entry[:3])
    return [{"kind": KINDS[kind], "item": item, "timestamp": at} for at, kind, _, item in entries]


def _name(user: AbstractBaseUser | None) -> str:
    if user is None:
        return "Inbox"
    return agent_name(user)


_ACTIVITY = {
    ActivityKind.ASSIGNED: "{who} assigned this to {detail}",
    ActivityKind.UNASSIGNED: "{who} unassigned this",
    ActivityKind.CLOSED: "{who} resolved this",
    ActivityKind.REOPENED: "{who} reopened this",
    ActivityKind.NOTE_ADDED: "{who} added a note",
    ActivityKind.LABEL_ADDED: "{who} added the label {detail}",
    ActivityKind.LABEL_REMOVED: "{who} removed the label {detail}",
    ActivityKind.SNOOZED: "{who} snoozed this until {detail}",
    ActivityKind.UNSNOOZED: "{who} ended the snooze",
}


def activity_label(event: ActivityEvent) -> str:
    """The event in words: "alice assigned this to bob"."""
    template = _ACTIVITY.get(ActivityKind(event.kind), "{who}: {detail}")
    if event.kind == ActivityKind.UNSNOOZED and event.actor is None:
        template = "The snooze ended: {detail}"
    if event.kind == ActivityKind.REOPENED and event.actor is None:
        template = "Reopened: {detail}"
    if event.actor is not None and event.detail == event.actor.get_username():
        template = template.replace("to {detail}", "to themselves")
    if not event.detail:
        template = template.replace(": {detail}", "").replace(" {detail}", "")
    return template.format(who=_name(event.actor), detail=event.detail)


def note_html(note: Note) -> SafeString:
    """The note's text, escaped, with its @mentions highlighted."""

    def highlight(match: re.Match[str]) -> str:
        name = match.group(1).rstrip(".")
        rest = match.group(1)[len(name) :]
        return f'<mark class="mention">@{name}</mark>{rest}'

    # Escaped first: the names matched are plain text, and stay so.
    return mark_safe(MENTION.sub(highlight, escape(note.text)))  # noqa: S308


@dataclass(frozen=True)
class SavedReplyView:
    pk: int
    title: str
    shortcut: str
    text: str  # placeholders filled


PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders_fill(
    text: str, *, conversation: ConversationRef, agent: AbstractBaseUser | AnonymousUser
) -> str:
    """{first_name}, {name}, {username} of the customer and the agent's {agent_name};
    an unknown placeholder stays as written, for the agent to see and edit."""
    name = conversation.customer_name.strip()
    username = conversation.customer_username
    values = {
        "first_name": name.split()[0] if name else username,
        "name": name or username,
        "username": username,
        "agent_name": _name(agent) if isinstance(agent, AbstractBaseUser) else "",
    }
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def saved_replies_present(
    *, conversation: ConversationRef, agent: AbstractBaseUser | AnonymousUser
) -> list[SavedReplyView]:
    return [
        SavedReplyView(
            pk=reply.pk,
            title=reply.title,
            shortcut=reply.shortcut,
            text=placeholders_fill(reply.text, conversation=conversation, agent=agent),
        )
        for reply in saved_replies_for(conversation=conversation)
    ]


def saved_reply_pick(replies: list[SavedReplyView], pk: str) -> SavedReplyView | None:
    return next((reply for reply in replies if str(reply.pk) == pk), None)
