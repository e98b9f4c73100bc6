"""The accounts pages (admins only): list, connect, callback, disconnect, human-agent
switch and members. Views parse, call a service, and render or redirect."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .actions import account_disconnect, account_human_agent_set, account_members_set
from .connect import (
    NOT_CONFIGURED_TEXT,
    oauth_authorize_url,
    oauth_callback_finish,
    oauth_configured,
)
from .forms import AccountMembersForm, HumanAgentForm
from .models import InstagramAccount
from .oauth_state import StateRefused, oauth_state_consume, oauth_state_issue
from .roles import user_is_admin
from .selectors import account_alerts, account_alerts_version, account_rows

View = Callable[..., HttpResponse]


def admin_required(view: View) -> View:
    """Admins only; other signed-in users get 403 (LoginRequiredMiddleware sends anonymous
    visitors to the login form first)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_is_admin(request.user):
            raise PermissionDenied("Only admins manage connected accounts.")
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@admin_required
def account_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account_list.html", {"rows": account_rows()})


@require_GET
@admin_required
def alerts(request: HttpRequest) -> HttpResponse:
    """The banner's live poll: 204 while the alerts are those the page shows, else the new
    banner (empty when all is well) and its version."""
    current = account_alerts()
    version = account_alerts_version(current)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    response = render(request, "accounts/_alert_list.html", {"account_alerts": current})
    response["X-Alerts-Version"] = version
    return response


@require_GET
@admin_required
def connect(request: HttpRequest) -> HttpResponse:
    if not oauth_configured():
        messages.error(request, NOT_CONFIGURED_TEXT)
        return redirect("accounts:list")
    reconnect = request.GET.get("account", "")
    state = oauth_state_issue(
        session=request.session,
        reconnect_account_id=int(reconnect) if reconnect.isdigit() else None,
    )
    return HttpResponseRedirect(oauth_authorize_url(state=state))


@require_GET
@admin_required
def callback(request: HttpRequest) -> HttpResponse:
    # The state is checked first: nothing reaches Meta for a callback we did not start.
    try:
        pending = oauth_state_consume(session=request.session, state=request.GET.get("state", ""))
    except StateRefused as refusal:
        context = {"reason": str(refusal), "kind": refusal.reason}
        return render(request, "accounts/connect_refused.html", context, status=400)
    # Redirects from here on: the code leaves the address bar, and a reload cannot replay it.
    for notice in oauth_callback_finish(query=request.GET, pending=pending):
        messages.add_message(request, notice.level, notice.text)
    return redirect("accounts:list")


@require_http_methods(["GET", "POST"])
@admin_required
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(InstagramAccount, pk=pk)
    if request.method == "GET":
        return render(request, "accounts/disconnect_confirm.html", {"account": account})
    result = account_disconnect(account_id=account.pk)
    if result.unsubscribe_error:
        messages.warning(
            request,
            f"{account} is disconnected, but Meta did not confirm the webhook "
            f"unsubscription: {result.unsubscribe_error}",
        )
    else:
        messages.success(request, f"{account} is disconnected. Its history is kept.")
    return redirect("accounts:list")


@require_POST
@admin_required
def human_agent(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(InstagramAccount, pk=pk)
    enabled = HumanAgentForm(request.POST).enabled_value()
    account_human_agent_set(account_id=account.pk, enabled=enabled)
    state = "on" if enabled else "off"
    messages.success(
        request, f"Human agent replies (24 hours to 7 days) are {state} for {account}."
    )
    return redirect("accounts:list")


@require_http_methods(["GET", "POST"])
@admin_required
def members(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(InstagramAccount, pk=pk)
    if request.method == "GET":
        return _members_page(request, AccountMembersForm.for_account(account), account)
    form = AccountMembersForm(request.POST)
    if not form.is_valid():
        return _members_page(request, form, account, status=400)
    account_members_set(account_id=account.pk, user_ids=form.member_ids())
    messages.success(request, f"Members of {account} saved.")
    return redirect("accounts:list")


def _members_page(
    request: HttpRequest, form: AccountMembersForm, account: InstagramAccount, status: int = 200
) -> HttpResponse:
    context = {"account": account, "form": form}
    return render(request, "accounts/members.html", context, status=status)
