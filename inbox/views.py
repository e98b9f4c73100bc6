"""The agents' inbox pages. Views parse, call a service or presenter, and render; what a
page shows of a conversation (its reply window, its list row) is decided once per request in
`inbox.presenters`.

Every page works as plain HTML forms and links first; htmx and the small inbox.js add live
updates and in-place actions on top. Partial answers: 204 when nothing changed.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from accounts.roles import agent_name
from common.known_sessions import known_session_note
from common.login import answered_before_login
from team import services as team
from team.forms import NoteForm, note_requested
from team.presenters import saved_replies_present, saved_reply_pick
from team.selectors import mentions_unread_count

from .forms import AssignForm, ListFilterForm, ReplyForm, StatusForm, form_errors_text
from .models import Conversation, Message
from .outbound import replies as sending
from .presenters import (
    ReplyState,
    list_boundaries,
    list_filters_query,
    list_key,
    list_present,
    reply_state_present,
    thread_present,
    thread_version,
)
from .presenters_live import thread_live_present
from .selectors import ListFilters, conversations_for_user
from .services import live, media, work
from .services.snooze import agent_timezone
from .views_collisions import (
    assign_confirm,
    colleague_to_confirm,
    go_on,
    takes_from_colleague,
)
from .views_live import list_poll_answer, thread_poll_answer
from .views_presence import presence_headers, presence_list_seen

CHANGED_EVENT = "inbox:changed"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _filters(request: HtmxHttpRequest) -> ListFilters:
    return ListFilterForm(request.GET).filters()


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _list_query(request: HtmxHttpRequest) -> str:
    return list_filters_query(request.GET).urlencode()


def _current_id(request: HtmxHttpRequest, current: Conversation | None = None) -> int | None:
    # The open conversation, highlighted (the thread page's live list poll names it).
    return current.pk if current else _int(request.GET.get("current", ""))


def _list_stamp(request: HtmxHttpRequest, current_id: int | None) -> str:
    """The change stamp of this agent's list as this request asks for it: one query."""
    return _list_stamps(request, current_id)[0]


def _list_stamps(request: HtmxHttpRequest, current_id: int | None) -> tuple[str, str]:
    """`_list_stamp`, and the stamp its page shares with the agents who see the same
    accounts (`live.list_stamps`)."""
    stamp, shared = live.list_stamps(user=request.user)
    return live.digest(stamp, list_key(request.GET, current_id=current_id)), shared


def _list_context(
    request: HtmxHttpRequest,
    current: Conversation | None = None,
    stamp: str = "",
    shared: str = "",
) -> dict[str, Any]:
    """The list's context; with `shared` (read with `stamp`), the page built for another
    agent at that stamp serves (the live poll that is behind)."""
    current_id = _current_id(request, current)
    # Read before the rows: a change committed while they render shows at the next poll.
    stamp = stamp or _list_stamp(request, current_id)
    now = timezone.now()
    context = list_present(
        user=request.user,
        filters=_filters(request),
        older=request.GET.get("older", ""),
        newer=request.GET.get("newer", ""),
        shared=shared,
    )
    context["current_id"] = current_id
    context["list_query"] = _list_query(request)
    context["rows_version"] = live.version_make(
        stamp=stamp, now=now, boundaries=list_boundaries(context["page"].conversations, now)
    )
    return context


@answered_before_login(list_poll_answer)  # an unchanged live poll: 204 from one statement
@require_GET
def conversation_list(request: HtmxHttpRequest) -> HttpResponse:
    if request.GET.get("fragment") == "rows" or (
        request.htmx and not request.htmx.history_restore_request
    ):
        if request.headers.get("X-Inbox-Poll"):
            presence_list_seen(request)
        return _rows_response(request)
    return render(request, "inbox/conversation_list.html", _list_context(request))


def _rows_response(request: HtmxHttpRequest) -> HttpResponse:
    """The list rows for live polling and search-as-you-type: 204 from the change stamp
    while the client's version holds, without building the list."""
    stamp, shared = _list_stamps(request, _current_id(request))
    # The next poll's 204 needs no session or user loaded.
    known_session_note(request, name=agent_name(request.user))
    if live.version_holds(client=request.GET.get("v", ""), stamp=stamp, now=timezone.now()):
        return HttpResponse(status=204)
    context = _list_context(request, stamp=stamp, shared=shared)
    context["rows_held"] = request.GET.get("r", "")  # what the page holds: its rows not sent
    response = render(request, "inbox/_conversation_rows.html", context)
    response["X-Inbox-Version"] = context["rows_version"]
    response["X-Inbox-Unread"] = str(context["unread"])
    if request.headers.get("X-Inbox-Poll"):  # the live poll updates the Mentions link
        response["X-Inbox-Mentions"] = str(mentions_unread_count(user=request.user))
    return response


def _agent(request: HttpRequest) -> User:
    """The logged-in agent (LoginRequiredMiddleware has turned everyone else away)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _conversation_or_404(request: HtmxHttpRequest, pk: int) -> Conversation:
    """Another account's conversation answers 404, the same as one that does not exist."""
    return get_object_or_404(conversations_for_user(request.user), pk=pk)


def _thread_context(
    request: HtmxHttpRequest,
    conversation: Conversation,
    reply_state: ReplyState | None = None,
    version: str = "",
    held_key: str = "",
) -> dict[str, Any]:
    context = thread_present(
        conversation=conversation,
        before_id=_int(request.GET.get("before", "")),
        reply_state=reply_state,
        version=version,
        tz=agent_timezone(str(request.COOKIES.get("tz", ""))[:64]),
    )
    context["list_query"] = _list_query(request)
    thread_live_present(context, held_key=held_key)
    return context


def _thread_page(
    request: HtmxHttpRequest, conversation: Conversation, status: int = 200, **extra: Any
) -> HttpResponse:
    """The whole page: the list with this conversation highlighted, and its thread."""
    context = _list_context(request, current=conversation)
    context.update(_thread_context(request, conversation))
    # Saved replies, their placeholders filled; `?saved=ID` puts one in the box (no JS).
    replies = saved_replies_present(conversation=conversation, agent=request.user)
    picked = saved_reply_pick(replies, request.GET.get("saved", ""))
    context.update({"saved_replies": replies, "draft": picked.text if picked else ""})
    context.update(extra)
    return render(request, "inbox/conversation_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def conversation_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The thread. A POST is the reply box's plain submission (no JavaScript needed): a
    reply, or an internal note when the box is in note mode."""
    if request.method == "POST":
        if note_requested(request.POST):
            return conversation_note(request, pk)
        return conversation_reply(request, pk)
    conversation = _conversation_or_404(request, pk)
    work.conversation_mark_read(conversation=conversation, user=request.user)
    mentions = team.mentions_read_on_open(user=request.user, conversation=conversation)
    return _thread_page(request, conversation, mentions_unread=mentions)


def conversation_note(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """An internal note: stored and shown to the team; nothing goes to Meta."""
    conversation = _conversation_or_404(request, pk)
    form = NoteForm(request.POST)
    error = "" if form.is_valid() else form_errors_text(form)
    if not error:
        try:
            team.note_create(
                conversation=conversation, author=_agent(request), text=form.cleaned_data["note"]
            )
        except team.NoteRefused as refused:
            error = refused.message
    if not error:
        return _done(request, conversation, "" if request.htmx else "Note added.")
    if request.htmx:
        return render(request, "inbox/_error.html", {"error": error}, status=422)
    draft = form.data.get("note", "")
    return _thread_page(
        request,
        conversation,
        status=422,
        reply_error=error,
        note_draft=draft,
        compose_mode="note",
        draft=form.data.get("text", ""),
    )


@answered_before_login(thread_poll_answer)  # an unchanged live poll: 204 from one statement
@require_GET
def conversation_updates(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The live poll of an open thread: 204 while the client's version holds (decided from
    the conversation row alone, no message read), else every part that can change
    (messages, header, window state, customer panel), merged in place by inbox.js."""
    now = timezone.now()
    client = request.GET.get("v", "")
    reply_state = None
    if client:
        # The usual poll: nothing new. Decided from one small query, before anything else.
        row = live.thread_poll_conversation(user=request.user, conversation_id=pk)
        if row is not None:
            reply_state = reply_state_present(conversation=row, now=now)
            version = thread_version(conversation=row, reply_state=reply_state, now=now)
            if live.version_holds(client=client, stamp=version[: live.STAMP_CHARS], now=now):
                return _thread_poll_finish(request, row, HttpResponse(status=204))
    conversation = _conversation_or_404(request, pk)
    reply_state = reply_state or reply_state_present(conversation=conversation, now=now)
    version = thread_version(conversation=conversation, reply_state=reply_state, now=now)
    if live.version_holds(client=client, stamp=version[: live.STAMP_CHARS], now=now):
        response = HttpResponse(status=204)
    else:
        if request.GET.get("visible") == "1":
            work.conversation_mark_read(conversation=conversation, user=request.user)
            team.mentions_mark_read(user=request.user, conversation=conversation)
        # Only what changed since the render the page holds (`r`), when that is known.
        held = request.GET.get("r", "")
        context = _thread_context(request, conversation, reply_state, version, held)
        response = render(request, "inbox/_thread_update.html", context)
    return _thread_poll_finish(request, conversation, response)


def _thread_poll_finish(
    request: HtmxHttpRequest, conversation: Conversation, response: HttpResponse
) -> HttpResponse:
    """What every thread poll answer carries, 204 or not: the place for state that changes
    without changing the thread (who else is looking, who is typing) as response headers."""
    # The next poll's 204 needs no session or user loaded.
    known_session_note(request, name=agent_name(request.user))
    return presence_headers(request, response, conversation.pk)


def _done(request: HtmxHttpRequest, conversation: Conversation, note: str = "") -> HttpResponse:
    """htmx: 204 plus an event that makes the page refresh its live parts now.
    Plain forms: back to the conversation (POST/redirect/GET) with a note."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps({CHANGED_EVENT: {"note": note}})
        return response
    if note:
        flash.success(request, note)
    return HttpResponseRedirect(_conversation_url(request, conversation))


def _refused(request: HtmxHttpRequest, conversation: Conversation, message: str) -> HttpResponse:
    if request.htmx:
        return render(request, "inbox/_error.html", {"error": message}, status=422)
    flash.error(request, message)
    return HttpResponseRedirect(_conversation_url(request, conversation))


def _conversation_url(request: HtmxHttpRequest, conversation: Conversation) -> str:
    url = reverse("inbox:conversation_detail", args=[conversation.pk])
    query = request.POST.get("list_query", "")
    return f"{url}?{query}" if query else url


@require_POST
def conversation_assign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation_or_404(request, pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _refused(request, conversation, form_errors_text(form))
    assignee = form.cleaned_data["assignee"]
    if takes_from_colleague(request, conversation, assignee):
        return assign_confirm(request, conversation)
    if assignee is None:
        work.conversation_unassign(conversation=conversation, actor=request.user)
        return _done(request, conversation, "Unassigned.")
    try:
        work.conversation_assign(conversation=conversation, assignee=assignee, actor=request.user)
    except work.WorkRefused as refused:
        return _refused(request, conversation, refused.message)
    who = "you" if assignee.pk == request.user.pk else assignee.get_username()
    return _done(request, conversation, f"Assigned to {who}.")


@require_POST
def conversation_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation_or_404(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _refused(request, conversation, "Unknown status.")
    if form.cleaned_data["status"] == Conversation.Status.CLOSED:
        work.conversation_close(conversation=conversation, actor=request.user)
        return go_on(request, conversation, "Resolved. The customer's next message reopens it.")
    work.conversation_reopen(conversation=conversation, actor=request.user)
    return _done(request, conversation, "Reopened.")


@require_POST
def conversation_unread(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Mark unread and go back to the list: the agent will come back to it."""
    conversation = _conversation_or_404(request, pk)
    work.conversation_mark_unread(conversation=conversation, user=request.user)
    query = request.POST.get("list_query", "")
    url = reverse("inbox:conversation_list")
    return HttpResponseRedirect(f"{url}?{query}" if query else url)


def _reply_error_response(
    request: HtmxHttpRequest,
    conversation: Conversation,
    form: ReplyForm,
    error: str,
    confirm_colleague: bool = False,
) -> HttpResponse:
    """A refused reply: htmx gets the reason for the box (422, the draft stays); a plain
    form gets the page again with its draft and the reason."""
    extra = {"error": error, "confirm_colleague": confirm_colleague}
    if request.htmx:
        return render(request, "inbox/_error.html", extra, status=422)
    draft = form.data.get("text", "")
    return _thread_page(
        request,
        conversation,
        status=422,
        reply_error=error,
        draft=draft,
        confirm_colleague=confirm_colleague,
    )


def conversation_reply(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The reply box: text, an attachment (upload or URL) or the heart sticker."""
    conversation = _conversation_or_404(request, pk)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _reply_error_response(request, conversation, form, form_errors_text(form))
    author = _agent(request)
    colleague = colleague_to_confirm(request, conversation)
    if colleague:
        return _reply_error_response(
            request,
            conversation,
            form,
            f"{colleague} is assigned to this conversation. Send anyway?",
            confirm_colleague=True,
        )
    try:
        sending.reply_create(conversation=conversation, author=author, **form.reply_fields())
    except sending.ReplyRefused as refused:
        return _reply_error_response(request, conversation, form, refused.message)
    return _done(request, conversation)


def _message_for(request: HtmxHttpRequest, pk: int) -> Message:
    """A message of a conversation the agent may see; 404 for anything else."""
    return get_object_or_404(
        Message.objects.select_related("conversation__account"),
        pk=pk,
        conversation__in=conversations_for_user(request.user),
    )


@require_POST
def message_react(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Heart a customer's message, or take the heart back."""
    message = _message_for(request, pk)
    conversation = message.conversation
    try:
        sending.reaction_send(
            message=message, author=_agent(request), remove=request.POST.get("remove") == "1"
        )
    except sending.ReplyRefused as refused:
        return _refused(request, conversation, refused.message)
    return _done(request, conversation)


@require_http_methods(["GET", "POST"])
def message_retry(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Send a reply again: a failed one at once; an unknown one (Instagram may have it) once
    the agent confirms. The second step is a page of its own, or a part under htmx."""
    message = _message_for(request, pk)
    if request.method == "GET":
        return _retry_confirm(request, message)
    confirmed = request.POST.get("confirmed") == "1"
    try:
        sending.message_retry(message=message, author=_agent(request), confirmed=confirmed)
    except sending.RetryNeedsConfirmation:
        return _retry_confirm(request, message)
    except sending.ReplyRefused as refused:
        return _refused(request, message.conversation, refused.message)
    return _done(request, message.conversation, "Sending again.")


def _retry_confirm(request: HtmxHttpRequest, message: Message) -> HttpResponse:
    template = "inbox/_retry_confirm.html" if request.htmx else "inbox/retry_confirm.html"
    return render(request, template, {"message": message})


@require_POST
def message_refresh(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Ask Instagram for new links to a message's media (its CDN links expire)."""
    message = _message_for(request, pk)
    try:
        media.message_media_refresh(message=message)
    except media.MediaRefreshRefused as refused:
        return _refused(request, message.conversation, refused.message)
    return _done(request, message.conversation, "Media links refreshed.")
