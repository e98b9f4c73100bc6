"""Agents: the people who work the inboxes (the `createagent` command's service)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction

from .models import InstagramAccount


@transaction.atomic
def agent_upsert(
    *,
    username: str,
    password: str | None,
    account_ig_ids: Sequence[str] = (),
    is_admin: bool = False,
) -> tuple[User, bool]:
    """Create or update an agent. Admins see every account and may connect accounts."""
    accounts = list(InstagramAccount.objects.filter(ig_id__in=account_ig_ids))
    missing = set(account_ig_ids) - {a.ig_id for a in accounts}
    if missing:
        raise ValueError(f"No connected account with id {', '.join(sorted(missing))}.")
    user, created = User.objects.get_or_create(username=username)
    if created and not password:
        raise ValueError("A new agent needs --password.")
    if password:
        user.set_password(password)
    user.is_active = True
    if is_admin:
        user.is_superuser = user.is_staff = True
    user.save()
    if accounts:
        user.instagram_accounts.add(*accounts)
    return user, created
