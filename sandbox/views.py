"""The customer simulator: play an Instagram user writing to the sandbox account."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from inbox.forms import form_errors_text

from .account import sandbox_account_restore
from .customers import (
    customer_age,
    customer_conversation,
    customer_create,
    customer_edit,
    customer_mark_read,
    customer_message_send,
    customer_react,
    customer_unsend,
)
from .fake_meta import SandboxDeliveryError, faults_add, faults_clear
from .forms import AgeForm, CustomerForm, FaultForm, MessageForm
from .models import SandboxCustomer, SandboxFault, SimulatedMessage

View = Callable[..., HttpResponse]

# Actions on the latest message of one side, and what to say when there is none.
LATEST_MESSAGE_ACTIONS: dict[str, tuple[Callable[..., SimulatedMessage | None], str]] = {
    "react": (customer_react, "The business has not sent anything to react to yet."),
    "unsend": (customer_unsend, "There is no message of the customer's to unsend."),
    "read": (customer_mark_read, "The business has not sent anything to read yet."),
}


def sandbox_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SANDBOX_ENABLED:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _webhook_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("inbox:instagram_webhook"))


def _inbox_link(customer: SandboxCustomer) -> str:
    conversation = customer_conversation(customer=customer)
    if conversation is None:
        return ""
    try:
        return reverse("inbox:conversation_detail", args=[conversation.pk])
    except NoReverseMatch:
        return ""


def _simulator_context(
    customers: list[SandboxCustomer], customer: SandboxCustomer | None
) -> dict[str, Any]:
    return {
        "customers": customers,
        "customer": customer,
        "thread": list(customer.messages.all()) if customer else [],
        "inbox_link": _inbox_link(customer) if customer else "",
        "customer_form": CustomerForm(),
        "message_form": MessageForm(),
        "fault_form": FaultForm(),
        "age_form": AgeForm(),
        "pending_faults": SandboxFault.objects.count(),
    }


@sandbox_only
@require_GET
def simulator(request: HttpRequest, customer_id: int | None = None) -> HttpResponse:
    customers = list(SandboxCustomer.objects.all())
    customer: SandboxCustomer | None = customers[0] if customers else None
    if customer_id is not None:
        customer = get_object_or_404(SandboxCustomer, pk=customer_id)
    return render(request, "sandbox/simulator.html", _simulator_context(customers, customer))


@sandbox_only
@require_GET
def thread(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The thread alone, for live polling."""
    customer = get_object_or_404(SandboxCustomer, pk=customer_id)
    return render(
        request,
        "sandbox/_thread.html",
        {"customer": customer, "thread": list(customer.messages.all())},
    )


@sandbox_only
@require_POST
def customer_new(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("sandbox:simulator")
    customer = customer_create(
        name=form.cleaned_data["name"].strip(), username=form.cleaned_data["username"]
    )
    return redirect("sandbox:customer", customer_id=customer.pk)


@sandbox_only
@require_POST
def customer_action(request: HttpRequest, customer_id: int, action: str) -> HttpResponse:
    customer = get_object_or_404(SandboxCustomer, pk=customer_id)
    try:
        _perform(request, customer, action)
    except SandboxDeliveryError as e:
        messages.error(request, str(e))
    return redirect("sandbox:customer", customer_id=customer.pk)


def _perform(request: HttpRequest, customer: SandboxCustomer, action: str) -> None:
    if action == "send":
        _send(request, customer)
    elif action == "age":
        _age(request, customer)
    elif action == "edit":
        _edit(request, customer)
    elif action in LATEST_MESSAGE_ACTIONS:
        act, nothing_there = LATEST_MESSAGE_ACTIONS[action]
        if act(customer=customer, webhook_url=_webhook_url(request)) is None:
            messages.error(request, nothing_there)
    else:
        raise Http404


def _send(request: HttpRequest, customer: SandboxCustomer) -> None:
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return
    customer_message_send(
        customer=customer,
        webhook_url=_webhook_url(request),
        text=form.cleaned_data["text"].strip(),
        image_url=form.cleaned_data["image_url"],
    )


def _edit(request: HttpRequest, customer: SandboxCustomer) -> None:
    text = str(request.POST.get("text", "")).strip()[:2000]
    if not text:
        messages.error(request, "Type the new text of your last message, then Edit.")
        return
    if customer_edit(customer=customer, webhook_url=_webhook_url(request), text=text) is None:
        messages.error(request, "There is no text message of the customer's to edit.")


def _age(request: HttpRequest, customer: SandboxCustomer) -> None:
    form = AgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Hours must be a whole number from 1 to 720.")
        return
    hours = form.cleaned_data["hours"]
    customer_age(customer=customer, hours=hours)
    messages.success(request, f"Moved {customer.name}'s messages {hours} h into the past.")


@sandbox_only
@require_POST
def faults(request: HttpRequest) -> HttpResponse:
    if "clear" in request.POST:
        faults_clear()
        messages.success(request, "No more injected failures.")
    else:
        _faults_add(request)
    return redirect(request.POST.get("next") or "sandbox:simulator")


def _faults_add(request: HttpRequest) -> None:
    form = FaultForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a failure and a count from 1 to 20.")
        return
    kind, count = form.cleaned_data["kind"], form.cleaned_data["count"]
    faults_add(kind=kind, count=count)
    label = SandboxFault.Kind(kind).label
    messages.success(request, f"The next {count} send(s) will fail: {label}.")


@sandbox_only
@require_POST
def account_restore(request: HttpRequest) -> HttpResponse:
    sandbox_account_restore()
    messages.success(request, "The sandbox account's token works again (as after reconnecting).")
    return redirect(request.POST.get("next") or "sandbox:simulator")
