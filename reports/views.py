"""The reports page and its CSV exports: admins and managers only (agents: 403; anonymous
users are sent to the login form by the login middleware). Bad filters answer 400 with the
form's errors (the page) or a line of text (a CSV), never a 500."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from common.queueing import task_queue
from reports.access import user_may_see_reports
from reports.exports import agents_csv, conversations_csv
from reports.forms import PRESETS, RANGE_CHOICES, ReportForm, ReportScope
from reports.presenters import report_present
from reports.services.summary import SummaryNotReady, summaries_catch_up


def _form(request: HttpRequest) -> ReportForm:
    if not user_may_see_reports(request.user):
        raise PermissionDenied("Reports are for admins and managers.")
    return ReportForm(request.GET)


# Above this many conversations, the summary's first build is left to the task.
FIRST_BUILD_IN_REQUEST = 5000


def _caught_up() -> bool:
    """Catch the summary up; False while its first build is under way in a worker."""
    try:
        summaries_catch_up(first_build_limit=FIRST_BUILD_IN_REQUEST)
    except SummaryNotReady:
        task_queue("reports.tasks.summaries_catch_up_task")
        return False
    return True


def _preparing(request: HttpRequest, *, page: bool) -> HttpResponse:
    text = (
        "The reports are being prepared for the first time (a few minutes for a large "
        "inbox; `python manage.py reports_rebuild` does it at once). Try again shortly."
    )
    if page:
        response = render(request, "reports/preparing.html", {"text": text}, status=503)
    else:
        response = HttpResponse(text + "\n", status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "60"
    return response


@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        return render(request, "reports/report.html", {"form": form}, status=400)
    if not _caught_up():
        return _preparing(request, page=True)
    scope = form.scope()
    report = report_present(scope=scope, now=timezone.now())
    shown = ReportForm(  # the form shows the dates the report covers, whatever chose them
        {**request.GET.dict(), "since": scope.since, "until": scope.until, "range": ""}
    )
    presets = [
        (key, label, scope.query_string(range=key), key == form.preset())
        for key, label in RANGE_CHOICES
        if key in PRESETS
    ]
    return render(
        request,
        "reports/report.html",
        {
            "form": shown,
            "report": report,
            "presets": presets,
            "query": scope.query_string(),
            "hours": range(24),
        },
    )


def _csv(
    request: HttpRequest, rows: Callable[[ReportScope], Iterable[str]], name: str
) -> HttpResponse | StreamingHttpResponse:
    form = _form(request)
    if not form.is_valid():
        errors = "; ".join(
            f"{field}: {' '.join(map(str, messages))}"
            if field != "__all__"
            else " ".join(map(str, messages))
            for field, messages in form.errors.items()
        )
        return HttpResponse(
            f"Bad filters: {errors}\n", status=400, content_type="text/plain; charset=utf-8"
        )
    if not _caught_up():
        return _preparing(request, page=False)
    scope = form.scope()
    response = StreamingHttpResponse(rows(scope), content_type="text/csv; charset=utf-8")
    filename = f"{name}-{scope.since:%Y%m%d}-{scope.until:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def conversations_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    return _csv(request, conversations_csv, "conversations")


@require_GET
def agents_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    return _csv(request, agents_csv, "agents")
