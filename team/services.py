"""Team work's writes: notes (with their mentions), the activity log, mentions read.

`activity_record` is the one entry point for the activity log: the inbox's assignment and
status services call it, and so do labels and snoozes. Every write here also moves the
conversation's `updated_at`, which is part of the thread's live-poll version: open pages
show a new note or activity line on their next poll.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime
from typing import cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from accounts.roles import account_agents

from .models import NOTE_MAX_CHARS, ActivityEvent, ActivityKind, Mention, Note
from .refs import ConversationRef
from .selectors import UNREAD_MENTIONS_CAP, mentions_unread_count
from .signals import mentions_changed

logger = logging.getLogger(__name__)

AnyUser = AbstractBaseUser | AnonymousUser

# `@name` not preceded by a letter, digit or dot (so "a@b.com" is no mention); Django's
# usernames take letters, digits and . + - _. A sentence's full stop is not part of a name.
MENTION = re.compile(r"(?<![\w.@])@([\w.+-]+)")


class NoteRefused(Exception):
    """Why a note cannot be saved; `.message` is for the agent's form."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def mentioned_names(text: str) -> list[str]:
    """The usernames `@mentioned` in `text`, in order, each once (as written, minus a
    trailing full stop)."""
    names: list[str] = []
    for match in MENTION.finditer(text):
        name = match.group(1).rstrip(".")
        if name and name.lower() not in (n.lower() for n in names):
            names.append(name)
    return names


def _touch(conversation: ConversationRef, now: datetime) -> None:
    """Move the thread's version on (see the module's docstring): through the model the
    activity log's foreign key names, which team does not import."""
    model = cast(type[Model], ActivityEvent._meta.get_field("conversation").related_model)
    model._default_manager.filter(pk=conversation.pk).update(updated_at=now)
    conversation.updated_at = now


def activity_record(
    *,
    conversation: ConversationRef,
    actor: AnyUser | None,
    kind: ActivityKind | str,
    detail: str = "",
) -> ActivityEvent:
    """Record that `actor` (None: the system) did `kind` to the conversation. `detail` is
    what it was done with, in words: an assignee's username, a label, a snooze's end."""
    now = timezone.now()
    event = ActivityEvent.objects.create(
        conversation_id=conversation.pk,
        account_id=conversation.account_id,
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        kind=kind,
        detail=detail[:255],
    )
    _touch(conversation, now)
    return event


def _mentioned_users(
    conversation: ConversationRef, names: Iterable[str]
) -> tuple[list[User], list[str]]:
    """The agents who may see the conversation, by the names written; and the unknown names."""
    wanted = {name.lower(): name for name in names}
    if not wanted:
        return [], []
    found = {
        user.get_username().lower(): user
        for user in account_agents(account_id=conversation.account_id)
        if user.get_username().lower() in wanted
    }
    unknown = [name for key, name in wanted.items() if key not in found]
    return list(found.values()), unknown


def note_validate(*, conversation: ConversationRef, text: str) -> list[User]:
    """The mentioned agents of a valid note; a `NoteRefused` that says what is wrong."""
    if not text.strip():
        raise NoteRefused("Write the note first: it is empty.")
    if len(text) > NOTE_MAX_CHARS:
        raise NoteRefused(
            f"This note is {len(text):,} characters; a note takes at most {NOTE_MAX_CHARS:,}."
        )
    users, unknown = _mentioned_users(conversation, mentioned_names(text))
    if unknown:
        names = ", ".join(f"@{name}" for name in unknown)
        raise NoteRefused(
            f"Nobody who works this inbox is called {names}. Check the name, or remove the @."
        )
    return users


def note_create(*, conversation: ConversationRef, author: User, text: str) -> Note:
    """An internal note on the conversation: stored, shown to the team, never sent to Meta.
    Mentioned teammates find it in their Mentions (not the author: they know)."""
    mentioned = note_validate(conversation=conversation, text=text)
    with transaction.atomic():
        note = Note.objects.create(conversation_id=conversation.pk, author=author, text=text)
        mentions = Mention.objects.bulk_create(
            [
                Mention(note=note, user=user, account_id=conversation.account_id)
                for user in mentioned
                if user.pk != author.pk
            ]
        )
        if mentions:
            mentions_changed.send(Mention, user_ids=[m.user_id for m in mentions])
        activity_record(
            conversation=conversation,
            actor=author,
            kind=ActivityKind.NOTE_ADDED,
            detail=", ".join(f"@{u.get_username()}" for u in mentioned),
        )
    logger.info(
        "note %s added to conversation %s by user %s (%d mentioned)",
        note.pk,
        conversation.pk,
        author.pk,
        len(mentioned),
    )
    return note


def mentions_read_on_open(*, user: AnyUser, conversation: ConversationRef) -> int:
    """The agent opened the conversation: its mentions of them are read. Answers how many
    unread mentions they have left (as `mentions_unread_count` counts), for the page; one
    query when there were none, the usual case."""
    unread = mentions_unread_count(user=user)
    if unread and unread <= UNREAD_MENTIONS_CAP:
        unread -= mentions_mark_read(user=user, conversation=conversation)
    elif unread:
        mentions_mark_read(user=user, conversation=conversation)
    return unread


def mentions_mark_read(
    *, user: AnyUser, conversation: ConversationRef | None = None, now: datetime | None = None
) -> int:
    """The agent has seen their mentions (in one conversation, or all of them)."""
    if user.pk is None:
        return 0
    unread = Mention.objects.filter(user_id=user.pk, read_at__isnull=True)
    if conversation is not None:
        unread = unread.filter(note__conversation_id=conversation.pk)
    marked = unread.update(read_at=now or timezone.now())
    if marked:
        mentions_changed.send(Mention, user_ids=[user.pk])
    return marked
