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
        model = User
        table = connection.ops.quote_name(model._meta.db_table)
        key = connection.ops.quote_name(model._meta.pk.column)
        found = list(
            model._default_manager.raw(f"SELECT * FROM {table} WHERE {key} = %s", [user_id])  # noqa: S608
        )
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None
