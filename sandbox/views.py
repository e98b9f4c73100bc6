"""The customer simulator: play an Instagram user writing to the sandbox account."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from inbox.models import Conversation

from . import services
from .models import SandboxCustomer, SandboxFault

View = Callable[..., HttpResponse]


def sandbox_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SANDBOX_ENABLED:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
    username = forms.RegexField(
        regex=r"^[A-Za-z0-9._]{1,30}$",
        required=False,
        error_messages={"invalid": "Letters, digits, dots and underscores, up to 30."},
    )


class MessageForm(forms.Form):
    text = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
    image_url = forms.URLField(required=False, assume_scheme="https", max_length=2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("text", "").strip() and not data.get("image_url"):
            raise forms.ValidationError("Type a message or paste an image URL.")
        return data


class FaultForm(forms.Form):
    kind = forms.ChoiceField(choices=SandboxFault.Kind.choices)
    count = forms.IntegerField(min_value=1, max_value=20, initial=1)


class AgeForm(forms.Form):
    hours = forms.IntegerField(min_value=1, max_value=24 * 30, initial=25)


def _errors_text(form: forms.Form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _webhook_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("inbox:instagram_webhook"))


def _inbox_link(customer: SandboxCustomer) -> str:
    conversation = Conversation.objects.filter(
        account__ig_id=settings.SANDBOX_ACCOUNT_ID, customer_igsid=customer.igsid
    ).first()
    if conversation is None:
        return ""
    try:
        return reverse("inbox:conversation_detail", args=[conversation.pk])
    except NoReverseMatch:
        return ""


@sandbox_only
@require_GET
def simulator(request: HttpRequest, customer_id: int | None = None) -> HttpResponse:
    customers = list(SandboxCustomer.objects.all())
    customer = None
    if customer_id is not None:
        customer = get_object_or_404(SandboxCustomer, pk=customer_id)
    elif customers:
        customer = customers[0]
    context = {
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
    return render(request, "sandbox/simulator.html", context)


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
        messages.error(request, _errors_text(form))
        return redirect("sandbox:simulator")
    customer = services.customer_create(
        name=form.cleaned_data["name"].strip(), username=form.cleaned_data["username"]
    )
    return redirect("sandbox:customer", customer_id=customer.pk)


@sandbox_only
@require_POST
def customer_action(request: HttpRequest, customer_id: int, action: str) -> HttpResponse:
    customer = get_object_or_404(SandboxCustomer, pk=customer_id)
    try:
        _perform(request, customer, action)
    except services.SandboxDeliveryError as e:
        messages.error(request, str(e))
    return redirect("sandbox:customer", customer_id=customer.pk)


def _perform(request: HttpRequest, customer: SandboxCustomer, action: str) -> None:
    url = _webhook_url(request)
    if action == "send":
        form = MessageForm(request.POST)
        if not form.is_valid():
            messages.error(request, _errors_text(form))
            return
        services.customer_message_send(
            customer=customer,
            webhook_url=url,
            text=form.cleaned_data["text"].strip(),
            image_url=form.cleaned_data["image_url"],
        )
    elif action == "react":
        if services.customer_react(customer=customer, webhook_url=url) is None:
            messages.error(request, "The business has not sent anything to react to yet.")
    elif action == "unsend":
        if services.customer_unsend(customer=customer, webhook_url=url) is None:
            messages.error(request, "There is no message of the customer's to unsend.")
    elif action == "read":
        if services.customer_mark_read(customer=customer, webhook_url=url) is None:
            messages.error(request, "The business has not sent anything to read yet.")
    elif action == "age":
        age_form = AgeForm(request.POST)
        if age_form.is_valid():
            services.customer_age(customer=customer, hours=age_form.cleaned_data["hours"])
            messages.success(
                request,
                f"Moved {customer.name}'s messages {age_form.cleaned_data['hours']} h "
                "into the past.",
            )
        else:
            messages.error(request, "Hours must be a whole number from 1 to 720.")
    else:
        raise Http404


@sandbox_only
@require_POST
def faults(request: HttpRequest) -> HttpResponse:
    if "clear" in request.POST:
        services.faults_clear()
        messages.success(request, "No more injected failures.")
    else:
        form = FaultForm(request.POST)
        if form.is_valid():
            services.faults_add(kind=form.cleaned_data["kind"], count=form.cleaned_data["count"])
            label = SandboxFault.Kind(form.cleaned_data["kind"]).label
            messages.success(
                request, f"The next {form.cleaned_data['count']} send(s) will fail: {label}."
            )
        else:
            messages.error(request, "Pick a failure and a count from 1 to 20.")
    return redirect(request.POST.get("next") or "sandbox:simulator")


@sandbox_only
@require_POST
def account_restore(request: HttpRequest) -> HttpResponse:
    services.sandbox_account_restore()
    messages.success(request, "The sandbox account's token works again (as after reconnecting).")
    return redirect(request.POST.get("next") or "sandbox:simulator")
