"""Who may read reports: admins and managers (agents may not)."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from accounts.roles import user_is_admin, user_is_manager


def user_may_see_reports(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    return user_is_admin(user) or user_is_manager(user)  # type: ignore[arg-type]
