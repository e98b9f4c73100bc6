"""How a logged-in agent is loaded on each request, and how a password is checked.

Every request of a logged-in agent loads their user row, a few every second for each open
inbox page (its live polls): Django's ModelBackend spells it `User.objects.get(pk=...)`,
and compiling that cost more CPU than the query. This backend loads it with one plain
statement, and otherwise is ModelBackend.

It has the last word on a password: a wrong one ends the login here (PermissionDenied), so
Django's ModelBackend, still listed after it only to load the sessions it signed in, never
checks the same password a second time.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest


class AgentBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            raise PermissionDenied  # a wrong password: no other backend checks it again
        return user

    def get_user(self, user_id: Any) -> User | None:
        sql, names, converters = _user_query(connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, column, converter in converters:
            values[index] = converter(values[index], column, connection)
        user = User.from_db(connection.alias, names, values)
        return user if self.user_can_authenticate(user) else None


_QUERIES: dict[str, tuple[str, list[str], list[tuple[int, Any, Any]]]] = {}


def _user_query(conn: Any) -> tuple[str, list[str], list[tuple[int, Any, Any]]]:
    """The statement, the field names and the converters of the columns that need one (the
    values as the ORM would hand them over: SQLite gives dates as text), made once."""
    if conn.alias not in _QUERIES:
        fields = list(User._meta.concrete_fields)
        quote = conn.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        table, key = quote(User._meta.db_table), quote(User._meta.pk.column)
        sql = f"SELECT {columns} FROM {table} WHERE {key} = %s"  # noqa: S608
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(User._meta.db_table)
            for converter in conn.ops.get_db_converters(column) + column.get_db_converters(conn):
                converters.append((index, column, converter))
        _QUERIES[conn.alias] = (sql, [f.attname for f in fields], converters)
    return _QUERIES[conn.alias]
