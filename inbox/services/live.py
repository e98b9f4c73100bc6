"""Change stamps for the live polls: the one module that owns them.

An open page polls every 2-2.5 s, and nearly every poll finds nothing new. Instead of
rendering the list or reading the thread's messages to find that out, a poll compares
counters:

- `Conversation.live_version`: bumped by every change the open thread shows (a message
  stored, edited, unsent, reacted to, its delivery status; assignment, open/closed, the
  customer's profile, who controls the thread);
- `LiveVersion` per account: bumped together with each of its conversations' (so a list
  poll sees every change of every account the agent may see), and by account-wide changes;
- `LiveVersion` per agent: their own read state (the list's unread marks and count, and
  their unread mentions).

Whatever changes what an agent sees calls `live_touch` (or `live_touch_reader` for one
agent's read state), inside its transaction or after it: the bumps run once the outermost
transaction has committed, all of a transaction's touches in one statement per table, so
they add no lock to the transaction itself (no waits, no deadlock with other writers) and a
rolled-back change bumps nothing. Outside a transaction they run at once.

A poll that finds the counters it last saw answers 204 from one indexed query; a poll that is
behind renders. A version also expires (`LIVE_MAX_AGE`, or when a reply window shown
changes state), so even a bump lost with a dying process is caught up within minutes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, lru_cache, partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models.signals import post_delete, post_save

from accounts.models import InstagramAccount
from accounts.roles import user_is_admin
from common.known_sessions import KnownSession, known_session_proof_sql
from common.prepared import prepared_rows
from inbox.models import (
    Conversation,
    ConversationLabel,
    ConversationReadState,
    LiveVersion,
    Message,
    Reaction,
)

logger = logging.getLogger(__name__)

# The longest a version is trusted without rendering.
LIVE_MAX_AGE = timedelta(minutes=15)


@dataclass
class _Pending:
    accounts: set[int] = field(default_factory=set)
    conversations: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)


def _pending() -> _Pending:
    """What the current transaction (of this thread's connection) touched, its bumps
    registered to run after the commit. A new one after every commit, and whenever a
    rollback (of the transaction or of a savepoint) has discarded callbacks: Django then
    replaces its list of them, so a bucket never outlives the callback that flushes it, and
    a rolled-back transaction's touches are dropped with it."""
    if getattr(settings, "INBOX_LIVE_BUMP_AT_ONCE", False) or not connection.in_atomic_block:
        return _Pending()  # flushed by the caller at once
    held = getattr(connection, "_inbox_live", None)
    if held is not None and held[0] is connection.run_on_commit:
        return held[1]
    pending = _Pending()
    transaction.on_commit(partial(_flush, pending))
    connection._inbox_live = (connection.run_on_commit, pending)  # type: ignore[attr-defined]
    return pending


def _at_once(pending: _Pending) -> None:
    """Outside a transaction (or in the test suite, whose transactions never commit), the
    touch is bumped as it is made."""
    if getattr(settings, "INBOX_LIVE_BUMP_AT_ONCE", False) or not connection.in_atomic_block:
        _flush(pending)


def live_touch(*, account_id: int, conversation_id: int | None = None) -> None:
    """Something an agent of `account_id` can see changed (in `conversation_id`, if given):
    their open pages' next poll renders it. Call it wherever such a change is written,
    including `queryset.update()`s, which no model signal sees."""
    pending = _pending()
    pending.accounts.add(int(account_id))
    if conversation_id is not None:
        pending.conversations.add(int(conversation_id))
    _at_once(pending)


def live_touch_message(*, message: Message) -> None:
    """`live_touch` for a change of one message (its fields give account and conversation)."""
    live_touch(account_id=message.account_id, conversation_id=message.conversation_id)


def live_touch_many(*, conversations: Iterable[tuple[int, int]]) -> None:
    """`live_touch` for many (account_id, conversation_id) pairs at once."""
    pending = _pending()
    for account_id, conversation_id in conversations:
        pending.accounts.add(int(account_id))
        pending.conversations.add(int(conversation_id))
    _at_once(pending)


def live_touch_conversations(*, conversation_ids: Iterable[int]) -> None:
    """`live_touch` for conversations known by id only (one query finds their accounts)."""
    ids = set(conversation_ids)
    if ids:
        pairs = Conversation.objects.filter(pk__in=ids).values_list("account_id", "pk")
        live_touch_many(conversations=list(pairs))


def live_touch_reader(*, user_id: int) -> None:
    """One agent's own view changed (their read state): only their list renders again."""
    pending = _pending()
    pending.users.add(int(user_id))
    _at_once(pending)


def _flush(pending: _Pending) -> None:
    accounts, conversations, users = pending.accounts, pending.conversations, pending.users
    if not (accounts or conversations or users):
        return
    pending.accounts, pending.conversations, pending.users = set(), set(), set()
    try:
        _bump(Conversation._meta.db_table, "live_version", "id", conversations)
        table = LiveVersion._meta.db_table
        for owner, ids in (("account_id", accounts), ("user_id", users)):
            missing = _bump(table, "version", owner, ids)
            for owner_id in sorted(missing):  # an owner's first change: its row, then a bump
                try:
                    with transaction.atomic():
                        LiveVersion.objects.bulk_create(
                            [LiveVersion(**{owner: owner_id})], ignore_conflicts=True
                        )
                except IntegrityError:  # its owner is gone meanwhile: nobody to tell
                    continue
                _bump(table, "version", owner, {owner_id})
    except DatabaseError:
        # The change itself is committed; the stamps' expiry (LIVE_MAX_AGE) catches it up.
        logger.exception("live versions not bumped for accounts %s", sorted(accounts))


def _bump(table: str, column: str, key: str, ids: set[int]) -> set[int]:
    """Add one to `column` of each row, in one round trip; return the ids that have no row.
    In the order of the ids, as intake locks conversations, so that the bump and a
    transaction never wait for each other in a circle."""
    if not ids:
        return set()
    quote = connection.ops.quote_name
    # Names from our own models, never from input.
    sql = f"UPDATE {quote(table)} SET {quote(column)} = {quote(column)} + 1 WHERE {quote(key)} = %s"  # noqa: S608
    ordered = sorted(ids)
    with connection.cursor() as cursor:
        if len(ordered) == 1:
            cursor.execute(sql, ordered)
            return set() if cursor.rowcount else set(ordered)
        cursor.executemany(sql, [[owner_id] for owner_id in ordered])
    if table == Conversation._meta.db_table:
        return set()  # a conversation deleted meanwhile needs no stamp
    found = LiveVersion.objects.filter(**{f"{key}__in": ordered}).values_list(key, flat=True)
    return set(ordered) - set(found)


# --- saves the ORM announces --------------------------------------------------------------
# A conversation, message or reaction saved or deleted through the ORM's model methods is
# touched here, whoever wrote it; statements that bypass them (`queryset.update()`,
# `bulk_create`) call the functions above where they are written.


def _conversation_saved(sender: type, instance: Conversation, **kwargs: Any) -> None:
    live_touch(account_id=instance.account_id, conversation_id=instance.pk)


def _message_saved(sender: type, instance: Message, **kwargs: Any) -> None:
    live_touch_message(message=instance)


def _reaction_saved(sender: type, instance: Reaction, **kwargs: Any) -> None:
    message = Message.objects.filter(pk=instance.message_id).only("account", "conversation")
    for found in message:
        live_touch_message(message=found)


def _read_state_saved(sender: type, instance: ConversationReadState, **kwargs: Any) -> None:
    live_touch_reader(user_id=instance.user_id)


def _of_a_conversation_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    """A row of a conversation's own (a label on it, an internal note, a line of its
    activity): the conversation and its account, from the row when it carries the account."""
    account_id = getattr(instance, "account_id", None)
    if account_id is not None:
        live_touch(account_id=account_id, conversation_id=instance.conversation_id)
    else:
        live_touch_conversations(conversation_ids=[instance.conversation_id])


def _mentions_changed(sender: type, user_ids: Iterable[int], **kwargs: Any) -> None:
    """Their unread mentions changed: their lists render again, with the count."""
    for user_id in user_ids:
        live_touch_reader(user_id=user_id)


def live_signals_connect() -> None:
    """Called once by the inbox app when it loads."""
    from team.models import ActivityEvent, Note
    from team.signals import mentions_changed

    mentions_changed.connect(_mentions_changed, dispatch_uid="live-mentions")

    for model, receiver in (
        (Conversation, _conversation_saved),
        (Message, _message_saved),
        (Reaction, _reaction_saved),
        (ConversationReadState, _read_state_saved),
        (ConversationLabel, _of_a_conversation_saved),
        (Note, _of_a_conversation_saved),
        (ActivityEvent, _of_a_conversation_saved),
    ):
        post_save.connect(receiver, sender=model, dispatch_uid=f"live-save-{model.__name__}")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"live-delete-{model.__name__}")


# --- reading -------------------------------------------------------------------------------


def digest(*parts: Any) -> str:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).hexdigest()


def _list_stamp_sql(*, proof: str = "") -> str:
    """The list's stamp rows; with `proof` (a boolean SQL expression) as a first column, and
    whether the agent is an admin read in the same statement rather than passed in."""
    return _list_stamp_sql_made(connection.vendor, proof)


@lru_cache(maxsize=8)
def _list_stamp_sql_made(vendor: str, proof: str) -> str:
    quote = connection.ops.quote_name
    account = InstagramAccount._meta.db_table
    members = InstagramAccount.members.through._meta.db_table
    stamps = LiveVersion._meta.db_table
    users = get_user_model()._meta.db_table
    admin = f"(SELECT u.is_superuser FROM {quote(users)} u WHERE u.id = %s)" if proof else "%s"  # noqa: S608
    # Plain SQL: compiling the ORM's spelling of it cost more than running it.
    return (
        f"SELECT {proof + ', ' if proof else ''}a.id, s.version, a.username, a.status, "  # noqa: S608
        f"a.human_agent_enabled, a.updated_at, "
        f"(SELECT r.version FROM {quote(stamps)} r WHERE r.user_id = %s) "
        f"FROM {quote(account)} a LEFT JOIN {quote(stamps)} s ON s.account_id = a.id "
        f"WHERE {admin} OR a.id IN (SELECT m.instagramaccount_id FROM {quote(members)} m "
        f"WHERE m.user_id = %s) ORDER BY a.id"
    )


def list_stamps(*, user: AbstractBaseUser | AnonymousUser) -> tuple[str, str]:
    """What every list of `user` depends on, in one indexed query: the accounts they may see
    (membership), each one's counter and the account fields a row shows (its name, whether
    replies may carry the human agent tag), and the agent's own read-state counter. And the
    part of it every agent who sees the same accounts shares (all but that read counter): a
    list page built at that stamp shows any of them the same conversations
    (inbox.selectors.conversation_list_page)."""
    if not user.is_authenticated or not user.is_active:
        return digest(None), ""
    with connection.cursor() as cursor:
        cursor.execute(_list_stamp_sql(), [user.pk, user_is_admin(user), user.pk])
        rows = cursor.fetchall()
    shared = digest("accounts", *(row[:-1] for row in rows)) if rows else ""
    return digest(user.pk, *rows), shared


def list_stamp_known(*, known: KnownSession) -> str | None:
    """`list_stamps`' first stamp for a remembered login, proven in the same statement
    (common/known_sessions.py): None when the proof fails (or the agent sees no account),
    and Django must check the login."""
    proof, proof_params = known_session_proof_sql(known)
    sql = _list_stamp_sql(proof=proof)
    rows = prepared_rows(sql, [*proof_params, known.user_id, known.user_id, known.user_id])
    if not rows or not rows[0][0]:
        return None
    return digest(known.user_id, *(row[1:] for row in rows))


def _thread_poll_sql(*, proof: str = "") -> str:
    return _thread_poll_sql_made(connection.vendor, proof)


@lru_cache(maxsize=8)
def _thread_poll_sql_made(vendor: str, proof: str) -> str:
    quote = connection.ops.quote_name
    conversation = Conversation._meta.db_table
    account = InstagramAccount._meta.db_table
    members = InstagramAccount.members.through._meta.db_table
    users = get_user_model()._meta.db_table
    admin = f"(SELECT u.is_superuser FROM {quote(users)} u WHERE u.id = %s)" if proof else "%s"  # noqa: S608
    fields = ", ".join(f"c.{quote(f)}" for f in _thread_fields())
    return (
        f"SELECT {fields}, a.status, a.human_agent_enabled, a.token_ciphertext <> '', "  # noqa: S608
        f"{proof or 'TRUE'} "
        f"FROM {quote(conversation)} c JOIN {quote(account)} a ON a.id = c.account_id "
        f"WHERE c.id = %s AND ({admin} OR c.account_id IN (SELECT m.instagramaccount_id FROM "
        f"{quote(members)} m WHERE m.user_id = %s))"
    )


@cache
def _thread_fields() -> list[str]:
    """`_THREAD_FIELDS` in the model's order (as `Model.from_db` takes a part of them)."""
    return [f.attname for f in Conversation._meta.concrete_fields if f.attname in _THREAD_FIELDS]


_CONVERTERS: dict[str, list[tuple[int, Any, Any]]] = {}


def _thread_converters() -> list[tuple[int, Any, Any]]:
    """The converters of the columns that need one, as the ORM would apply them (SQLite
    gives dates as text), made once per database."""
    if connection.alias not in _CONVERTERS:
        table = Conversation._meta.db_table
        converters = []
        for index, name in enumerate(_thread_fields()):
            field: Any = Conversation._meta.get_field(name)
            column = field.get_col(table)
            for converter in connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            ):
                converters.append((index, column, converter))
        _CONVERTERS[connection.alias] = converters
    return _CONVERTERS[connection.alias]


def _thread_poll_row(sql: str, params: list[Any], *, prepared: bool = False) -> Conversation | None:
    """One plain statement, no RawQuerySet: compiling one cost more than the query."""
    if prepared:
        rows = prepared_rows(sql, params)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    found = rows[0] if rows else None
    if found is None or not found[-1]:
        return None
    names = _thread_fields()
    values = list(found[: len(names)])
    for index, column, converter in _thread_converters():
        values[index] = converter(values[index], column, connection)
    row = Conversation.from_db(connection.alias, names, values)
    status, human_agent, has_token = found[len(names) : len(names) + 3]
    row.account = InstagramAccount(
        id=row.account_id,
        status=status,
        human_agent_enabled=bool(human_agent),
        token_ciphertext="x" if has_token else "",
    )
    return row


def thread_poll_conversation(
    *, user: AbstractBaseUser | AnonymousUser, conversation_id: int
) -> Conversation | None:
    """The conversation as far as the thread's version needs it (its own row and its
    account's sending state), if `user` may see it; one query, no rendering. The live poll
    compares the version it makes with the client's before it loads anything else."""
    if not user.is_authenticated or not user.is_active:
        return None
    params = [conversation_id, user_is_admin(user), user.pk]
    return _thread_poll_row(_thread_poll_sql(), params)


def thread_poll_known(*, known: KnownSession, conversation_id: int) -> Conversation | None:
    """`thread_poll_conversation` for a remembered login, proven in the same statement
    (common/known_sessions.py): None when the proof fails or the agent may not see it."""
    proof, proof_params = known_session_proof_sql(known)
    params = [*proof_params, conversation_id, known.user_id, known.user_id]
    return _thread_poll_row(_thread_poll_sql(proof=proof), params, prepared=True)


# The conversation's columns the thread's version covers (`thread_stamp`), and what the
# reply window and the refusal are decided from.
_THREAD_FIELDS = (
    "id",
    "account_id",
    "live_version",
    "updated_at",
    "status",
    "assignee_id",
    "customer_name",
    "customer_username",
    "other_app_since",
    "last_customer_message_at",
)


def thread_stamp(*, conversation: Conversation, extra: Iterable[Any] = ()) -> str:
    """What the open thread depends on, from the conversation row the poll has loaded anyway
    (no query): its counter and the fields its header, panel and reply box show."""
    return digest(
        conversation.live_version,
        conversation.updated_at,
        conversation.status,
        conversation.assignee_id,
        conversation.customer_name,
        conversation.customer_username,
        conversation.other_app_since,
        *extra,
    )


STAMP_CHARS = 16  # a digest's hex digits


def version_make(*, stamp: str, now: datetime, boundaries: Iterable[datetime | None] = ()) -> str:
    """The version handed to a page rendered at `now`: the stamp, and (in hex) the second at
    which it stops holding: the first of `boundaries` after `now` (a reply window shown
    changes state then), or LIVE_MAX_AGE at the latest."""
    until = now + LIVE_MAX_AGE
    for moment in boundaries:
        if moment is not None and now < moment < until:
            until = moment
    return f"{stamp}{int(until.timestamp()):x}"


def version_holds(*, client: str, stamp: str, now: datetime) -> bool:
    """Whether the version a client holds is still current: the same stamp, not expired."""
    held, until = client[:STAMP_CHARS], client[STAMP_CHARS:]
    try:
        return held == stamp and now.timestamp() < int(until, 16)
    except ValueError:
        return False
