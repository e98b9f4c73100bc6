"""Statements run thousands of times a minute, planned once per database connection.

The live polls' statement (inbox/services/live.py) is cheap to run but not to plan: on
PostgreSQL the planner opens every index of the tables it reads, and planning it cost three
times what running it did (0.16 ms of the server's CPU against 0.05 ms for a conversation
row with its account). Django sends every statement unprepared (so that connection poolers
keep working); this runs the ones given here as server-side prepared statements of the
connection, which PostgreSQL plans once and then reuses a generic plan for.

If the database refuses them (a pooler in transaction mode that does not know prepared
statements, say), the process logs it once and sends them unprepared from then on. On
other databases they are plain statements.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

_refused = False


def prepared_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql` (with %s placeholders), as a prepared statement on PostgreSQL."""
    global _refused
    if connection.vendor != "postgresql" or _refused:
        return _plain_rows(sql, params)
    import psycopg

    # What Django's own cursor() does first: the health check and the connection.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    db: Any = connection  # the PostgreSQL backend's, which django-stubs does not spell
    raw = db.connection
    if raw.prepare_threshold is None:
        # Django turns preparing off for the connection; Django's cursors bind on the client
        # and never prepare, so this only lets the server-binding cursors below prepare.
        raw.prepare_threshold = 0
    started = time.monotonic()
    try:
        # Django's wrapper: its database errors and execute wrappers, as for its own cursors.
        with db.make_cursor(psycopg.Cursor(raw)) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    except DatabaseError:
        if connection.in_atomic_block:  # the transaction is spoilt: nothing to fall back on
            raise
        _refused = True
        logger.warning(
            "the database refused a prepared statement; sending them unprepared from now on",
            exc_info=True,
        )
        return _plain_rows(sql, params)
    if connection.queries_logged:  # as Django's debug cursor logs a statement (tests count them)
        connection.queries_log.append(
            {
                "sql": db.ops.compose_sql(sql, params),
                "time": f"{time.monotonic() - started:.3f}",
            }
        )
    return rows


def _plain_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
