"""The webhook request's write: its body into the ledger, committed before the answer.

Every committed statement costs the database a commit, with its flush of the write-ahead log,
and the request a round trip; for a webhook that is most of what storing it costs. So the
webhook requests one web process serves at the same moment share a statement: a request
whose insert finds another one's in flight queues its row, and when that statement returns,
the first request queued inserts every queued row at once, with its own connection, and
wakes the others. Nobody waits for a group to fill: a request alone inserts at once, and
under load a group is whatever arrived during one round trip. Each request still answers
only once its own row is committed (group commit, as databases do it for their log).

A statement that stays in flight longer than a few milliseconds is most likely waiting for
a slow disk, and the rows queued behind it would wait for that flush and then for one of
their own. So the request that has waited that long inserts the queued rows in a statement
of its own, in flight beside the first: its commit joins the flush already under way or the
next one, as the commits of separate connections do.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.db import DataError, InterfaceError, OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from common.prepared import connection_usable
from inbox.models import WebhookEvent
from instagram.event_values import clean_text

logger = logging.getLogger(__name__)

# What a value of one row can make the database (DataError: a NUL in text on PostgreSQL, an
# invalid escape in JSON) or its driver (UnicodeEncodeError for a lone surrogate, ValueError)
# refuse: that row's failure, never its group's, and never an outage's 503. Not TypeError:
# that is a bug of ours, which must answer 500 so that Meta delivers the body again.
REFUSED_VALUE = (DataError, ValueError)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class UnstorableError(ValueError):
    """The database refuses a value of this body, even with its unstorable characters
    escaped."""


# A statement's rows at most; more wait for the next one. (A web process has a few threads,
# so a group is rarely near this.)
GROUP_LIMIT = 32
# How long a queued request waits for the statement in flight before it inserts the queued
# rows in one of its own, and how many statements of a process may be in flight at once.
# At the disk's usual speed, one statement in 20 came after a patience at 500 events/s and
# one in 5 to 7 as fast as answered (a round trip waits for a busy core too), with the same
# throughput, ack p99 and database CPU as one statement at a time (measured; 2 ms cost
# throughput). Behind a slow flush it is what keeps the acks flowing: with every flush
# slowed to 20 ms, 281 events/s with one statement in flight and up to 498/s with these
# (bench/README.md). New statements start at most one a patience apart, so the limit binds
# only when a flush takes several times the patience.
PATIENCE_SECONDS = 0.005
IN_FLIGHT_LIMIT = 4
_COLUMNS = (
    "body, body_sha256, object_type, account_ids, state, attempts, last_error, "
    "received_at, updated_at"
)
_VALUES = "(%s, %s, %s, %s, %s, 0, '', %s, %s)"


@dataclass(eq=False)
class LedgerRow:
    body: str
    body_sha256: str
    object_type: str
    account_ids: list[str]
    on_stored: Callable[[int], None]
    # Set for the request that waits on it:
    event_id: int | None = None
    error: BaseException | None = None
    leads: bool = False  # inserts the queued rows itself
    done: threading.Event = field(default_factory=threading.Event)

    escaped: bool = False  # its unstorable characters escaped after a refusal

    def escape(self) -> LedgerRow:
        """This row with its text values cleaned of what a database or its driver refuses:
        in the body, NUL and lone surrogates become JSON escapes (raw, JSON can only hold
        them inside strings, so the body keeps its meaning and its hash stays the one of
        the bytes Meta signed)."""
        self.body = _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", self.body)
        self.object_type = clean_text(self.object_type)
        self.account_ids = [clean_text(account_id) for account_id in self.account_ids]
        self.escaped = True
        return self

    def result(self) -> int | None:
        if self.error is not None:
            raise self.error
        return self.event_id


class LedgerWriter:
    """One per process: the rows of requests waiting for a statement in flight."""

    def __init__(
        self, patience: float = PATIENCE_SECONDS, in_flight_limit: int = IN_FLIGHT_LIMIT
    ) -> None:
        self.patience = patience
        self.in_flight_limit = in_flight_limit
        self._lock = threading.Lock()
        self._queue: list[LedgerRow] = []  # waiting for a statement, or about to lead one
        self._in_flight = 0  # statements, counting those whose leader is about to start

    def insert(self, row: LedgerRow) -> int | None:
        """Store this row, with those of concurrent requests. Returns its id, or None for a
        byte-identical redelivery; raises django.db.Error when the database is down."""
        if transaction.get_connection().in_atomic_block:
            # The row belongs to the caller's transaction: its own statement, on its
            # connection (a test's, or a caller that wraps the request in a transaction).
            ledger_insert_rows([row])
            _announce([row])
            return row.result()
        with self._lock:
            self._queue.append(row)
            if not self._in_flight:
                self._lead(row)
        if not row.leads and not row.done.wait(self.patience):
            with self._lock:  # still queued, behind a slow statement: a second one?
                if not row.leads and row in self._queue and self._in_flight < self.in_flight_limit:
                    self._lead(row)
        if not row.leads:
            row.done.wait()
            if not row.leads:
                return row.result()  # stored by another request's statement
        with self._lock:
            group = self._take(row)
        try:
            ledger_insert_rows(group)
        finally:
            with self._lock:
                self._in_flight -= 1
                if self._queue and not self._queue[0].leads:
                    successor = self._queue[0]
                    self._lead(successor)
                    successor.done.set()
            for other in group:
                if other is not row:
                    other.done.set()
        _announce(group)
        return row.result()

    def _take(self, row: LedgerRow) -> list[LedgerRow]:
        """A leader's group, out of the queue (under the lock): its own row, and the oldest
        of the others that no other request is about to lead."""
        group = [row, *[r for r in self._queue if not r.leads][: GROUP_LIMIT - 1]]
        self._queue = [r for r in self._queue if r not in group]
        return group

    def _lead(self, row: LedgerRow) -> None:
        """Make this queued row's request insert the queued rows (under the lock)."""
        row.leads = True
        self._in_flight += 1


_writer = LedgerWriter()


def ledger_insert(
    *,
    body: str,
    body_sha256: str,
    object_type: str,
    account_ids: list[str],
    on_stored: Callable[[int], None],
) -> int | None:
    """Store an authentic body; its id, or None when that body is stored already.

    `on_stored(id)` runs once the row is committed, once for a group of rows stored by one
    statement (with the newest id), by the request that inserted them, after the others
    were woken: the processing task one publish queues takes every fresh event it finds."""
    return _writer.insert(LedgerRow(body, body_sha256, object_type, account_ids, on_stored))


def _announce(rows: Sequence[LedgerRow]) -> None:
    ids = [row.event_id for row in rows if row.event_id is not None]
    if ids:
        transaction.on_commit(partial(rows[0].on_stored, max(ids)))


def ledger_insert_rows(rows: Sequence[LedgerRow]) -> None:
    """Insert these rows in one statement and set each one's id or error; an exception is
    set, not raised (but for one that stops the process, which every row hears of too).

    `ON CONFLICT DO NOTHING` makes a redelivery a no-op without an error (no savepoint, no
    error line in the database log), and in autocommit the rows are durable when this
    returns. Raw SQL because the ORM cannot return the ids of an insert that ignores
    conflicts; SQLite (3.35+) and PostgreSQL share this syntax. A group that fails for any
    reason but a lost database (a value the database or its driver refuses, say) is tried
    a row at a time, so one row's error is its request's alone; a row refused for a value
    of its own is tried once more with its unstorable characters escaped."""
    try:
        ids = _insert(rows)
    except Exception as e:
        if not connection_usable(transaction.get_connection()):
            _fail(rows, e)  # the database is gone, or the caller's transaction is broken
        elif len(rows) > 1:
            for row in rows:
                ledger_insert_rows([row])
        elif isinstance(e, REFUSED_VALUE) and not rows[0].escaped:
            ledger_insert_rows([rows[0].escape()])
        else:
            _fail(rows, UnstorableError(str(e)[:200]) if isinstance(e, REFUSED_VALUE) else e)
        return
    except BaseException as e:  # the waiting requests must hear of it too
        _fail(rows, e)
        raise
    first: set[str] = set()
    for row in rows:  # the same body twice in one group: the second is a redelivery
        if row.body_sha256 not in first:
            first.add(row.body_sha256)
            row.event_id = ids.get(row.body_sha256)


def _fail(rows: Sequence[LedgerRow], error: BaseException) -> None:
    for row in rows:
        row.error = error


def _insert(rows: Sequence[LedgerRow]) -> dict[str, int]:
    """The ids of the rows inserted, by body hash.

    The statement is its own health check: instead of Django's `SELECT 1` round trip before
    it, a persistent connection the server dropped (a restart, say) is replaced and the
    statement tried once more. Retrying is safe: a row that did get in makes the second try
    a conflict, and the sweep queues that row's processing."""
    connection = transaction.get_connection()
    ops = connection.ops
    table = ops.quote_name(WebhookEvent._meta.db_table)
    now = ops.adapt_datetimefield_value(timezone.now())
    pending = WebhookEvent.State.PENDING.value
    ordered = sorted(rows, key=lambda row: row.body_sha256)  # two groups never wait in a circle
    sql = (
        f"INSERT INTO {table} ({_COLUMNS}) VALUES "  # noqa: S608
        + ", ".join([_VALUES] * len(ordered))
        + " ON CONFLICT (body_sha256) DO NOTHING RETURNING body_sha256, id"
    )
    params: list[object] = []
    for row in ordered:
        account_ids = json.dumps(row.account_ids)
        params += [row.body, row.body_sha256, row.object_type, account_ids, pending, now, now]
    in_autocommit = not connection.in_atomic_block
    if in_autocommit:
        connection.health_check_done = True
    try:
        return _execute(connection, sql, params)
    except (InterfaceError, OperationalError):
        if not in_autocommit or connection_usable(connection):
            raise
        logger.info("database connection lost since its last use: reconnecting")
        connection.close()
        return _execute(connection, sql, params)


def _execute(connection: BaseDatabaseWrapper, sql: str, params: list) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {sha: int(pk) for sha, pk in cursor.fetchall()}
