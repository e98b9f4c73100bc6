"""Sessions in the database, read with one plain statement.

Every request of a logged-in agent reads their session, a few every second for each open
inbox page (its live polls). Django's database store spells it `Session.objects.get(...)`,
and compiling that cost more CPU than running it. This store reads it with plain SQL and is
otherwise Django's: sessions stay in the database, so a Redis that is down or restarted
never logs anyone out or brings a logged-out session back. It keeps the row's data as loaded
(`loaded_data`), which common/known_sessions.py compares to prove a login unchanged.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.db import connection
from django.utils import timezone


class SessionStore(DBStore):
    loaded_data: str | None = None

    def load(self) -> dict[str, Any]:
        self.loaded_data = None
        key = self.session_key
        if not key:
            self._session_key = None
            return {}
        table = connection.ops.quote_name(self.model._meta.db_table)
        sql = f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        self.loaded_data = row[0]
        return self.decode(row[0])
