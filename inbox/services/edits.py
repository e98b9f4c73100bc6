"""A message's edits: the newest text wins, the texts it replaced stay readable, and no edit
ever blanks a message.

Meta's `message_edit` webhook carries `num_edit` (how many times the message has been edited
so far) and only sometimes the new text. With the text, the edit is stored at once; without
it, the text we hold stays and the new one is read from Meta (`GET /{mid}?fields=message`)
by a task, outside the intake path. Edits arrive out of order and more than once, so every
change is guarded by edit numbers: a text is replaced only by one of a higher edit.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from accounts.meta import account_call
from common.queueing import task_queue
from inbox.models import Message
from instagram.errors import GraphError

from .conversations import conversation_refresh_preview

logger = logging.getLogger(__name__)

FETCH_TASK = "inbox.tasks.message_edit_fetch_task"
MAX_EDIT_NUMBER = 2_147_483_647  # what the column holds: a larger number is not Meta's
MAX_EARLIER_TEXTS = 20  # Instagram allows a handful of edits; this only bounds odd input


def message_edit_record(*, message: Message, num_edit: int, text: str) -> None:
    """Apply a `message_edit` webhook to its message (inside the intake's transaction)."""
    num_edit = min(num_edit, MAX_EDIT_NUMBER)
    if num_edit <= 0 or message.is_deleted:
        return  # `num_edit: 0` also announces a new message: nothing was edited
    locked = Message.objects.select_for_update().get(pk=message.pk)
    if locked.is_deleted:
        return  # unsent meanwhile
    seen = num_edit > locked.edit_count
    replaced = bool(text) and _replace_text(locked, text=text, num_edit=num_edit)
    if seen:
        locked.edit_count = num_edit
    if seen or replaced:
        locked.save(update_fields=_EDIT_FIELDS)
    if replaced:
        conversation_refresh_preview(conversation_id=locked.conversation_id)
    if not text and num_edit > locked.text_edit_count:
        transaction.on_commit(partial(_queue_fetch, locked.pk, num_edit))


def _queue_fetch(message_id: int, num_edit: int) -> None:
    # A lost publish leaves the previous text in place: the message is never blanked.
    task_queue(FETCH_TASK, message_id, num_edit)


def message_edit_fetch(*, message_id: int, num_edit: int) -> bool:
    """Read edit `num_edit`'s text from Meta and store it. Returns True when a retry may help
    (a transient failure); every other outcome leaves the text as it is or replaces it."""
    message = Message.objects.select_related("account").filter(pk=message_id).first()
    if message is None or message.is_deleted or message.text_edit_count >= num_edit:
        return False  # gone, unsent, or a newer text is already here
    account = message.account
    if not account.can_send:
        logger.info("edit of message %s not read: account %s cannot call Meta", message_id, account)
        return False
    try:
        with account_call(account, doing="reading an edited message") as client:
            answer = client.get_message_text(mid=message.mid)
    except GraphError as e:
        logger.info("edit of message %s not read: %s", message_id, e.code_label)
        return e.retryable  # a refused token (AuthError) is not
    if not answer.text:
        logger.info("edit of message %s: Meta sent no text; the previous one stays", message_id)
        return False
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message_id)
        if not locked.is_deleted and _replace_text(locked, text=answer.text, num_edit=num_edit):
            locked.save(update_fields=_EDIT_FIELDS)
            conversation_refresh_preview(conversation_id=locked.conversation_id)
    return False


def _replace_text(message: Message, *, text: str, num_edit: int) -> bool:
    """Make `text` the text of edit `num_edit`, keeping the one it replaces. False when the
    text held is already from this edit or a later one."""
    if num_edit <= message.text_edit_count:
        return False
    if text != message.text:
        if message.text:
            earlier = {
                "text": message.text,
                "edit": message.text_edit_count,
                "replaced_at": timezone.now().isoformat(),
            }
            message.earlier_texts = [*message.earlier_texts, earlier][-MAX_EARLIER_TEXTS:]
        message.text = text
    message.text_edit_count = num_edit
    message.edit_count = max(message.edit_count, num_edit)
    return True


_EDIT_FIELDS = ["text", "earlier_texts", "text_edit_count", "edit_count", "updated_at"]
