"""The reports' part of the UI benchmark (bench/ui.py): the page and the CSV exports against
the seeded database (bench/seed.py).

- the summary rebuilt from scratch (`reports_rebuild`, what an upgrade runs once), and a
  catch-up after a burst of changed conversations (what the beat task does every minute);
- the page for each preset and a year: p50/p95 server time (the page's own catch-up
  included: the summary is current, as the beat task keeps it);
- the conversations CSV: time to its first row (the stream has started) and to its end, and
  the peak memory Python allocated while streaming it, for a week, a month and a year: the
  peak must stay flat as the range grows.
Target: p95 <= 500 ms for the page, first CSV row <= 500 ms.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench.figures import percentile
from inbox.models import Conversation
from reports.models import Episode
from reports.services.summary import summaries_catch_up, summaries_rebuild_all

TARGET_MS = 500.0
ADMIN = "bench-reports"


def reports_client() -> Client:
    user, _ = get_user_model()._default_manager.get_or_create(
        username=ADMIN, defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    return client


def _dates(days: int) -> str:
    until = timezone.localdate()
    return f"since={until - timedelta(days=days - 1)}&until={until}"


def _first_row(client: Client, url: str) -> tuple[float, float, int]:
    """(ms to the first row, ms to the end, rows)."""
    started = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    stream = iter(response.streaming_content)
    next(stream)  # the header row
    next(stream, None)  # the first conversation: the query has answered
    first = (time.perf_counter() - started) * 1000
    rows = 2 + sum(1 for _ in stream)
    response.close()
    return first, (time.perf_counter() - started) * 1000, rows


def _memory_peak(client: Client, url: str) -> float:
    """The peak of Python's allocations (MB) while the CSV streams."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    response = client.get(url)
    for _ in response.streaming_content:
        pass
    response.close()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def run(runs: int, *, rebuild: bool = True) -> None:
    print("\nReports")
    if rebuild:
        _rebuild()
    _pages(runs)
    _exports(runs)


def _rebuild() -> None:
    started = time.perf_counter()
    done = summaries_rebuild_all()
    print(
        f"summary rebuilt from scratch: {done} conversations, {Episode.objects.count()} "
        f"episodes in {time.perf_counter() - started:.1f}s"
    )
    with connection.cursor() as cursor:  # as autovacuum would soon after a bulk load
        cursor.execute("ANALYZE reports_episode")
        cursor.execute("ANALYZE reports_activity")
        cursor.execute("ANALYZE reports_hourtotal")
    recent = list(
        Conversation.objects.order_by("-last_message_at").values_list("pk", flat=True)[:1000]
    )
    Conversation.objects.filter(pk__in=recent).update(updated_at=timezone.now())
    started = time.perf_counter()
    caught = summaries_catch_up()
    print(
        f"catch-up after {caught} conversations changed: "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )


def _pages(runs: int) -> None:
    client = reports_client()
    account = Conversation.objects.values_list("account_id", flat=True).first()
    agent = (
        Conversation.objects.filter(assignee__isnull=False)
        .values_list("assignee_id", flat=True)
        .first()
    )
    pages = [
        ("page: today", "/reports/?range=today"),
        ("page: last 7 days", "/reports/?range=7d"),
        ("page: last 30 days", "/reports/?range=30d"),
        ("page: a year", f"/reports/?{_dates(365)}"),
        ("page: a year, one account", f"/reports/?{_dates(365)}&account={account}"),
        ("page: 30 days, one agent's conversations", f"/reports/?range=30d&agent={agent}"),
    ]
    print(f"{'page':52} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8}")
    worst = 0.0
    for label, url in pages:
        for _ in range(2):
            client.get(url)
        wall, cpu = [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        p50, p95 = statistics.median(wall), percentile(wall, 95)
        worst = max(worst, p95)
        flag = "" if p95 <= TARGET_MS else "  over target"
        print(f"{label:52} {p50:8.1f} {p95:8.1f} {statistics.median(cpu):8.1f}{flag}")

    print(f"worst page p95: {worst:.1f} ms (target {TARGET_MS:.0f} ms)")


def _exports(runs: int) -> None:
    client = reports_client()
    print(
        f"\n{'conversations CSV':24} {'rows':>8} {'first row p95':>14}"
        f" {'whole ms':>9} {'peak MB':>8}"
    )
    first_worst = 0.0
    for label, days in (("a week", 7), ("a month", 30), ("a year", 365)):
        url = f"/reports/conversations.csv?{_dates(days)}"
        firsts, wholes, rows = [], [], 0
        for _ in range(max(3, runs // 5)):
            first, whole, rows = _first_row(client, url)
            firsts.append(first)
            wholes.append(whole)
        peak = _memory_peak(client, url)
        first_p95 = percentile(firsts, 95)
        first_worst = max(first_worst, first_p95)
        print(f"{label:24} {rows:8} {first_p95:14.1f} {statistics.median(wholes):9.0f} {peak:8.1f}")
    first, whole, rows = _first_row(client, f"/reports/agents.csv?{_dates(365)}")
    print(f"{'agents CSV, a year':24} {rows:8} {first:14.1f} {whole:9.0f}")
    print(f"worst first CSV row p95: {first_worst:.1f} ms (target {TARGET_MS:.0f} ms)")
