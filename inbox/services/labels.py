"""Labels on conversations: agents add them by name and take them off; admins manage the
labels themselves (name, color) in admin. Adding or removing one is a line in the activity
log, which touches the conversation's `updated_at`: the thread's live version moves (and the
list's rows show labels), so open pages see the change."""

from __future__ import annotations

import hashlib
import logging
import re

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction

from inbox.models import Conversation, ConversationLabel, Label
from team.models import ActivityKind
from team.services import activity_record

logger = logging.getLogger(__name__)

AnyUser = AbstractBaseUser | AnonymousUser
# Letters (any script), digits, spaces and a few joiners: a name reads well on a chip and in
# a link's query string.
LABEL_NAME = re.compile(r"^\w[\w &+./'-]*$")
LABEL_COLORS = [color for color in Label.Color.values if color != Label.Color.GRAY]


class LabelRefused(Exception):
    """A label name or change the agent may not make; `.message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def label_name_clean(name: str) -> str:
    """The name as stored: spaces collapsed. Refused when empty, too long or odd."""
    name = " ".join(str(name).split())
    if not name:
        raise LabelRefused("Type a label name.")
    if len(name) > Label.NAME_MAX:
        raise LabelRefused(
            f"A label name is at most {Label.NAME_MAX} characters (this one has {len(name)})."
        )
    if not LABEL_NAME.match(name):
        raise LabelRefused(
            "A label name uses letters, digits, spaces and - _ . & + / ' only, "
            "and starts with a letter or digit."
        )
    return name


def label_color_for(name: str) -> str:
    """A new label's color, from its name: the same name always gets the same color."""
    index = hashlib.blake2b(name.lower().encode(), digest_size=2).digest()
    return LABEL_COLORS[int.from_bytes(index, "big") % len(LABEL_COLORS)]


def label_for_name(*, name: str) -> Label:
    """The label of that name (whatever its case), created with a color if new."""
    name = label_name_clean(name)
    found = Label.objects.filter(name__iexact=name).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Label.objects.create(name=name, color=label_color_for(name))
    except IntegrityError:
        # Created meanwhile by a colleague: theirs is the label.
        return Label.objects.get(name__iexact=name)


def conversation_label_add(*, conversation: Conversation, label: Label, actor: AnyUser) -> bool:
    """Put `label` on the conversation; False when it was there already."""
    if ConversationLabel.objects.filter(conversation=conversation, label=label).exists():
        return False
    try:
        with transaction.atomic():
            ConversationLabel.objects.create(conversation=conversation, label=label)
            activity_record(
                conversation=conversation,
                actor=actor,
                kind=ActivityKind.LABEL_ADDED,
                detail=label.name,
            )
    except IntegrityError:
        return False  # a colleague added it meanwhile
    logger.info("label %s added to conversation %s by user %s", label.pk, conversation.pk, actor.pk)
    return True


def conversation_label_remove(*, conversation: Conversation, label: Label, actor: AnyUser) -> bool:
    """Take `label` off the conversation; False when it was not on it."""
    with transaction.atomic():
        deleted, _ = ConversationLabel.objects.filter(
            conversation=conversation, label=label
        ).delete()
        if not deleted:
            return False
        activity_record(
            conversation=conversation,
            actor=actor,
            kind=ActivityKind.LABEL_REMOVED,
            detail=label.name,
        )
    logger.info(
        "label %s removed from conversation %s by user %s", label.pk, conversation.pk, actor.pk
    )
    return True
