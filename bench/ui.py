"""Time the inbox pages against a PostgreSQL database seeded by bench/seed.py.

    DATABASE_URL=postgres://.../inbox_bench python bench/ui.py [--runs 50]

Server time per request through Django's test Client in this process (URL routing,
middleware, queries and template rendering; no network), p50 and p95 over repeated requests
after a warm-up, and the median CPU time of the web process (its share of the work, whatever
else the machine is doing). Target: p95 <= 100 ms for the list, a thread and search.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from bench.figures import percentile  # noqa: E402
from inbox.models import Conversation, Message  # noqa: E402
from team.models import ActivityEvent, Note  # noqa: E402

TARGET_MS = 100.0


def measure(
    client: Client, url: str, runs: int, expect: int = 200, prepare: Callable | None = None
) -> tuple[list, list]:
    """Wall time per request, and the CPU time this (the web) process spent on it: on a
    busy machine the wall time includes waiting for a core, the CPU time does not.
    `prepare` runs before each request, untimed."""
    for _ in range(3):  # warm-up: connection, template cache
        if prepare:
            prepare()
        client.get(url)
    wall, cpu = [], []
    for _ in range(runs):
        if prepare:
            prepare()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        if response.status_code != expect:
            raise SystemExit(f"{url} answered {response.status_code}, expected {expect}")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--agent", default="bench")
    parser.add_argument("--only", choices=["inbox", "reports"], help="one part only")
    parser.add_argument("--match", default="", help="inbox: only the pages whose name has this")
    parser.add_argument(
        "--keep-summary", action="store_true", help="reports: skip rebuilding the summary"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run against the seeded PostgreSQL database (DATABASE_URL).")
    web_process_prepare()
    if args.only != "inbox":
        from bench import reports

        reports.run(args.runs, rebuild=not args.keep_summary)
        if args.only == "reports":
            return
    agent = get_user_model()._default_manager.get(username=args.agent)
    client = Client()
    client.force_login(agent)

    conversations = Conversation.objects.count()
    messages = Message.objects.count()
    sizes = Conversation.objects.annotate(n=Count("messages")).order_by("-n")
    busiest = sizes.values_list("pk", "n").first()
    typical = (
        Conversation.objects.filter(status="open")
        .annotate(n=Count("messages"))
        .filter(n__gte=8, n__lte=12)
        .values_list("pk", "n")
        .first()
    )
    someone = Conversation.objects.order_by("pk")[conversations // 2]
    # Team work on: a typical thread with a note and activity lines in it (bench/seed.py).
    noted = (
        Conversation.objects.filter(status="open", pk__in=Note.objects.values("conversation"))
        .filter(pk__in=ActivityEvent.objects.values("conversation"))
        .annotate(n=Count("messages"))
        .filter(n__gte=8, n__lte=12)
        .values_list("pk", "n")
        .first()
    )
    assert busiest
    assert typical
    thread_url = f"/c/{typical[0]}/"
    cases: list[tuple[str, str, int]] = [
        ("list: open, all accounts", "/", 200),
        ("list: open, one account", f"/?account={someone.account_id}", 200),
        ("list: closed, page 2", _page_two(client, "/?status=closed"), 200),
        ("list: mine", "/?box=mine", 200),
        ("list: label VIP", "/?label=VIP", 200),
        ("list: labels VIP and Refund", "/?label=VIP&label=Refund", 200),
        ("list: reply window ending", "/?window=ending", 200),
        ("list: snoozed", "/?status=snoozed", 200),
        (f"thread: {typical[1]} messages", thread_url, 200),
        (f"thread: busiest ({busiest[1]} messages, newest page)", f"/c/{busiest[0]}/", 200),
        *(
            [(f"thread: {noted[1]} messages, notes and activity", f"/c/{noted[0]}/", 200)]
            if noted
            else []
        ),
        ("mentions", "/mentions/", 200),
        ("search: @username", f"/?q={someone.customer_username}", 200),
        ("search: customer name", "/?q=Priya+Raman", 200),
        ("search: message text (order no.)", "/?q=%2345123", 200),
        ("search: message text (common word)", "/?q=linen", 200),
        ("live poll: thread unchanged", f"/c/{typical[0]}/updates/?v={{thread_version}}", 204),
        ("live poll: list unchanged", "/?fragment=rows&v={rows_version}", 204),
        # Behind by one message: the page holds the thread without its newest message. Its
        # map is made from the current one (nothing is written to the database); the full
        # render is what a poll costs whose page's map is not known (as before partial polls).
        *(
            (f"live poll: {name} behind by one message{how}", f"{path}{{behind{kind}}}", 200)
            for name, path in (("thread", thread_url), ("busiest thread", f"/c/{busiest[0]}/"))
            for kind, how in (("_full", " (full)"), ("", ""))
        ),
        ("live poll: list behind by one row (full)", "/{list_behind_full}", 200),
        ("live poll: list behind by one row", "/{list_behind}", 200),
    ]
    print(f"{conversations} conversations, {messages} messages; {args.runs} runs each\n")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'page':60} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8}")
    worst = 0.0
    for label, url, expect in [case for case in cases if args.match in case[0]]:
        # Versions taken right before their case, as the page a poll comes from has them:
        # opening threads above marked some read, and a version expires when a reply window
        # it covers changes state.
        if "{rows_version}" in url:
            url = url.format(rows_version=client.get("/?fragment=rows")["X-Inbox-Version"])
        if "{thread_version}" in url:
            page = client.get(thread_url).content.decode()
            version = re.search(r'data-v="([0-9a-f]+)" data-conversation', page).group(1)
            url = url.format(thread_version=version)
        prepare = None
        if "{list_behind" in url:
            query, prepare = _list_behind_by_one(client, full="_full}" in url)
            url = "/" + query
        elif "{behind" in url:
            path = url.split("{")[0]
            query, prepare = _behind_by_one(client, path, full="{behind_full}" in url)
            url = path + query
        timings, cpu = measure(client, url, args.runs, expect, prepare)
        if prepare:  # the partial answer it meant to time, not a full one
            prepare()
            assert b"data-keep" in client.get(url).content, f"{label}: not partial"
        p50, p95 = statistics.median(timings), percentile(timings, 95)
        worst = max(worst, p95) if not label.startswith("live") else worst
        flag = "" if p95 <= TARGET_MS else "  over target"
        print(f"{label:60} {p50:8.1f} {p95:8.1f} {statistics.median(cpu):8.1f}{flag}")
    print(f"\nworst p95 of list/thread/search: {worst:.1f} ms (target {TARGET_MS:.0f} ms)")


def _behind_by_one(client: Client, path: str, full: bool) -> tuple[str, Callable | None]:
    """The updates query of a page that holds the thread at `path` without its newest
    message: a version that no longer holds, and (unless `full`) the key of its map; and
    what puts the map back before each poll (a poll drops the map it moved on from)."""
    page = client.get(path).content.decode()
    version = re.search(r'data-v="([0-9a-f]+)" data-conversation', page)[1]
    stale = "0" * 16 + version[16:]
    if full:
        return f"updates/?v={stale}", None
    from inbox.services.live_held import Held, held_lookup, held_record

    key = re.search(r'data-conversation="\d+" data-r="([0-9a-f]+)"', page)[1]
    held = held_lookup(key=key)
    assert held, "the page's map was not kept"
    newest = [item for item in held.items if item.startswith("m-")][-1]
    items = {item: v for item, v in held.items.items() if item != newest}
    older = Held(parts=held.parts, items=items)
    return f"updates/?v={stale}&r={held_record(held=older)}", partial(held_record, held=older)


def _list_behind_by_one(client: Client, full: bool) -> tuple[str, Callable | None]:
    """The rows query of a page that holds the list with its top row as it was before a
    change, as `_behind_by_one` makes the thread's."""
    response = client.get("/?fragment=rows")
    stale = "0" * 16 + response["X-Inbox-Version"][16:]
    if full:
        return f"?fragment=rows&v={stale}", None
    from inbox.services.live_held import Held, held_lookup, held_record

    key = re.search(r'class="rows" role="list" data-r="([0-9a-f]+)"', response.content.decode())[1]
    held = held_lookup(key=key)
    assert held, "the list's map was not kept"
    top = next(iter(held.items))
    older = Held(items={**held.items, top: "before"})
    return f"?fragment=rows&v={stale}&r={held_record(held=older)}", partial(held_record, held=older)


def web_process_prepare() -> None:
    """Start as a web process does (config/wsgi.py): every view loaded, and all that is
    loaded left out of garbage collection. Without it a full collection here walks some
    110,000 objects the web processes never walk, 50-60 ms stopping one request in a few
    dozen, which is then the p95 of a 15-run case."""
    import_module(settings.ROOT_URLCONF)
    gc.collect()
    gc.freeze()


def _page_two(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    match = re.search(r'href="\?([^"]*older=[^"]*)"', html)
    return f"/?{match.group(1).replace('&amp;', '&')}" if match else url


if __name__ == "__main__":
    main()
