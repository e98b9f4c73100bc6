"""`{% history_sync_panel account %}`: an account's history sync on the accounts page (the
accounts app renders the page; the sync is the inbox's). The page's accounts share one
query for their sync rows."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import InstagramAccount
from inbox.history.progress import history_panel, history_syncs

register = template.Library()

_ROWS = "history_sync_rows"


@register.inclusion_tag("inbox/history/_panel.html", takes_context=True)
def history_sync_panel(context: template.Context, account: InstagramAccount) -> dict[str, Any]:
    rows = context.render_context.get(_ROWS)
    if rows is None:
        rows = history_syncs()
        context.render_context[_ROWS] = rows
    return {
        "panel": history_panel(account=account, sync=rows.get(account.pk)),
        "account": account,
        "csrf_token": context.get("csrf_token"),
        "note": "",
    }
