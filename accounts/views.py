"""The accounts pages (admins only): list, connect, callback, disconnect, human-agent
switch and members. Views parse, call a service, and render or redirect."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .forms import AccountMembersForm, HumanAgentForm
from .models import InstagramAccount
from .oauth import (
    ConnectFailed,
    StateRefused,
    account_connect,
    oauth_authorize_url,
    oauth_refusal_text,
    oauth_state_consume,
    oauth_state_issue,
)
from .roles import user_is_admin
from .selectors import account_rows
from .services import account_disconnect, account_human_agent_set, account_members_set

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
def connect(request: HttpRequest) -> HttpResponse:
    if not (settings.INSTAGRAM_CLIENT_ID and settings.INSTAGRAM_CLIENT_SECRET):
        messages.error(
            request,
            "Instagram Login is not configured: set INSTAGRAM_CLIENT_ID and "
            "INSTAGRAM_CLIENT_SECRET (the Meta app's Instagram app id and secret).",
        )
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
        return render(
            request,
            "accounts/connect_refused.html",
            {"reason": str(refusal), "kind": refusal.reason},
            status=400,
        )
    # Redirects from here on: the code leaves the address bar, and a reload cannot replay it.
    if request.GET.get("error"):
        messages.error(
            request,
            oauth_refusal_text(
                error=request.GET.get("error", ""),
                reason=request.GET.get("error_reason", ""),
                description=request.GET.get("error_description", ""),
            ),
        )
        return redirect("accounts:list")
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, "Instagram sent no authorization code back: please try again.")
        return redirect("accounts:list")
    try:
        result = account_connect(code=code)
    except ConnectFailed as failure:
        messages.error(request, f"{failure} Nothing was saved; please try again.")
        return redirect("accounts:list")
    account = result.account
    verb = "connected" if result.created else "reconnected"
    messages.success(request, f"{account} is {verb}. Its messages now arrive in the inbox.")
    if pending.reconnect_account_id and pending.reconnect_account_id != account.pk:
        wanted = InstagramAccount.objects.filter(pk=pending.reconnect_account_id).first()
        if wanted:
            messages.warning(
                request,
                f"You meant to reconnect {wanted}, but Instagram signed in as {account}. "
                f"To reconnect {wanted}, log in to Instagram as it and reconnect again.",
            )
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
    form = HumanAgentForm(request.POST)
    form.is_valid()  # a BooleanField that is not required is always valid
    enabled = bool(form.cleaned_data.get("enabled"))
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
    if request.method == "POST":
        form = AccountMembersForm(request.POST)
        if form.is_valid():
            account_members_set(
                account_id=account.pk, user_ids=[u.pk for u in form.cleaned_data["members"]]
            )
            messages.success(request, f"Members of {account} saved.")
            return redirect("accounts:list")
        status = 400
    else:
        form = AccountMembersForm(initial={"members": account.members.all()})
        status = 200
    return render(
        request, "accounts/members.html", {"account": account, "form": form}, status=status
    )
