"""The team's tools on a conversation: labels, snooze, and who else is on it (presence on
the live poll). Plain forms first, enhanced by htmx and inbox.js like the rest."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from .forms import LabelForm, SnoozeForm, form_errors_text
from .models import Conversation, Label
from .services import labels as labelling
from .services import snooze
from .views import (
    HtmxHttpRequest,
    _conversation_or_404,
    _done,
    _refused,
    conversation_detail,
)


def conversation_page(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The conversation's own URL: its page and reply box (`views.conversation_detail`),
    and the label form when it is posted there rather than to its own URL."""
    if request.method == "POST" and "label" in request.POST and "text" not in request.POST:
        return conversation_labels_apply(request, _conversation_or_404(request, pk))
    return conversation_detail(request, pk)


@require_POST
def conversation_labels(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Add a label by name (`label`), or take one off (`remove`: its id)."""
    conversation = _conversation_or_404(request, pk)
    return conversation_labels_apply(request, conversation)


def conversation_labels_apply(request: HtmxHttpRequest, conversation: Conversation) -> HttpResponse:
    form = LabelForm(request.POST)
    if not form.is_valid():
        return _refused(request, conversation, form_errors_text(form))
    remove = form.cleaned_data.get("remove")
    if remove:
        label = Label.objects.filter(pk=remove).first()
        if label is None:
            return _refused(request, conversation, "That label no longer exists.")
        labelling.conversation_label_remove(
            conversation=conversation, label=label, actor=request.user
        )
        return _done(request, conversation, f"Label “{label.name}” removed.")
    try:
        label = labelling.label_for_name(name=form.cleaned_data["label"])
    except labelling.LabelRefused as refused:
        return _refused(request, conversation, refused.message)
    labelling.conversation_label_add(conversation=conversation, label=label, actor=request.user)
    return _done(request, conversation, f"Label “{label.name}” added.")


def agent_tz_name(request: HtmxHttpRequest) -> str:
    """The agent's time zone as their browser named it (the form's field, else the cookie
    inbox.js sets)."""
    return str(request.POST.get("tz") or request.COOKIES.get("tz") or "")[:64]


@require_POST
def conversation_snooze(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Snooze until a preset or a custom time (in the agent's time zone), or wake now."""
    conversation = _conversation_or_404(request, pk)
    tz = snooze.agent_timezone(agent_tz_name(request))
    with timezone.override(tz):  # a custom time is the agent's local time
        form = SnoozeForm(request.POST)
        valid = form.is_valid()
    if not valid:
        return _refused(request, conversation, form_errors_text(form))
    if form.cleaned_data.get("wake"):
        snooze.conversation_unsnooze(conversation=conversation, actor=request.user)
        return _done(request, conversation, "Woken: back in the Open list.")
    try:
        until = snooze.snooze_until_parse(
            preset=form.cleaned_data.get("preset") or "",
            custom=form.cleaned_data.get("until"),
            tz=tz,
        )
        snooze.conversation_snooze(conversation=conversation, until=until, actor=request.user)
    except snooze.SnoozeRefused as refused:
        return _refused(request, conversation, refused.message)
    local = timezone.localtime(until, tz)
    note = f"Snoozed until {local:%a %d %b, %H:%M}. It comes back sooner if the customer writes."
    warning = snooze.snooze_window_warning(conversation=conversation, until=until)
    return _done(request, conversation, f"{note} {warning}".strip())
