"""The history sync's part of the accounts page (admins only): its panel, polled while a sync
runs, and the "Sync history" button. Without JavaScript the button is a plain form that
comes back to the accounts page; with htmx it swaps the panel in place.

An account the user may not work is 404; one they may work but do not administer is 403
(the accounts page is for admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import InstagramAccount
from accounts.roles import accounts_for_user, user_is_admin

from .progress import history_panel, history_sync_of
from .sync import history_start_request

PANEL = "inbox/history/_panel.html"


def _account(request: HttpRequest, pk: int) -> InstagramAccount:
    account = get_object_or_404(accounts_for_user(request.user), pk=pk)
    if not user_is_admin(request.user):
        raise PermissionDenied("Only admins sync an account's history.")
    return account


def _panel(request: HttpRequest, account: InstagramAccount, note: str = "") -> HttpResponse:
    panel = history_panel(account=account, sync=history_sync_of(account))
    context = {"panel": panel, "account": account, "note": note}
    return render(request, PANEL, context)


@require_GET
def history_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel alone, for the page's poll while a sync runs."""
    return _panel(request, _account(request, pk))


@require_POST
def history_start(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    queued, note = history_start_request(account=account)
    if getattr(request, "htmx", False):
        return _panel(request, account, note)
    messages.add_message(request, messages.SUCCESS if queued else messages.WARNING, note)
    return redirect("accounts:list")
