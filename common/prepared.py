"""Statements run thousands of times a minute, planned once per database connection.

The live polls' statement (inbox/services/live.py) is cheap to run but not to plan: on
PostgreSQL the planner opens every index of the tables it reads, and planning it cost three
times what running it did (0.16 ms of the server's CPU against 0.05 ms for a conversation
row with its account). Django sends every statement unprepared (so that connection poolers
keep working); this runs the ones given here as server-side prepared statements of the
connection, which PostgreSQL plans once and then reuses a generic plan for.

The statement is also its own health check, as intake's insert is (inbox/intake/ledger.py):
instead of Django's `SELECT 1` round trip before it, a persistent connection the server
dropped (a restart, say) is replaced and the statement sent once more (it only reads).

If the database refuses prepared statements (a pooler in transaction mode that does not
know them, say), the process logs it once and sends them unprepared from then on. On other
databases they are plain statements.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

_refused = False


def prepared_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql` (with %s placeholders), as a prepared statement on PostgreSQL."""
    global _refused
    if connection.vendor != "postgresql" or _refused:
        return _plain_rows(sql, params)
    in_autocommit = not connection.in_atomic_block
    if in_autocommit:
        db: Any = connection
        db.health_check_done = True  # this statement is the health check
    started = time.monotonic()
    try:
        rows = _reconnecting(sql, params, in_autocommit=in_autocommit)
    except (InterfaceError, OperationalError):
        raise  # the database is down: as for any other statement
    except DatabaseError:
        if not in_autocommit:  # the transaction is spoilt: nothing to fall back on
            raise
        _refused = True
        logger.warning(
            "the database refused a prepared statement; sending them unprepared from now on",
            exc_info=True,
        )
        return _plain_rows(sql, params)
    if connection.queries_logged:  # as Django's debug cursor logs a statement (tests count them)
        composed = connection.ops.compose_sql(sql, params)  # type: ignore[attr-defined]
        connection.queries_log.append(
            {"sql": composed, "time": f"{time.monotonic() - started:.3f}"}
        )
    return rows


def _reconnecting(sql: str, params: Sequence[Any], *, in_autocommit: bool) -> list[tuple[Any, ...]]:
    try:
        return _prepared_rows(sql, params)
    except (InterfaceError, OperationalError):
        if not in_autocommit or connection_usable(connection):
            raise
        logger.info("database connection lost since its last use: reconnecting")
        connection.close()
        return _prepared_rows(sql, params)


def _prepared_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    import psycopg

    connection.ensure_connection()
    db: Any = connection  # the PostgreSQL backend's, which django-stubs does not spell
    raw = db.connection
    if raw.prepare_threshold is None:
        # Django turns preparing off for the connection; Django's cursors bind on the client
        # and never prepare, so this only lets the server-binding cursors below prepare.
        raw.prepare_threshold = 0
    # Django's wrapper: its database errors and execute wrappers, as for its own cursors.
    with db.make_cursor(psycopg.Cursor(raw)) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _plain_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def connection_usable(db: BaseDatabaseWrapper) -> bool:
    """Whether an open connection still answers (Django's own health check)."""
    return db.connection is not None and db.is_usable()
