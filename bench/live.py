"""The inbox's live polls at team scale: K logged-in agents, each polling as inbox.js does.

    DATABASE_URL=postgres://.../inbox_bench REDIS_URL=redis://127.0.0.1:6379/1 \
        python bench/live.py [--agents 50,100,200,300] [--seconds 20] [--webhook-agents 300]

It uses the database bench/seed.py fills (100k conversations, 1M messages; seeded first when
it is empty), migrates it, adds K agents (members of every account, each logged in with a
session of their own and one conversation open) and starts gunicorn as the Procfile does (3
workers, 8 threads each, gunicorn.conf.py) and a Celery worker. For each K, in the same run:

1. the floor: `/healthz/` at the rate the agents poll, on the same kind of connections;
2. the polls: each agent opens its conversation's page once during the lead (the list and
   the thread rendered, their versions handed over, as a page load does), then asks for
   the list every 2.5 s with the version it holds
   (`/?fragment=rows&current=...&v=...`) and for its open thread every 2 s
   (`/c/<id>/updates/?v=...&visible=1`), each poll due an interval after the previous one
   was sent and never before it is answered, as inbox.js does, each on its own keep-alive
   connection. Nothing changes, so every poll
   is answered 204.

It prints polls/s, p50/p95/p99 of the answers, the CPU time per request of gunicorn's
processes and of PostgreSQL's backends (from /proc), and the ratio of a poll's CPU to a
`/healthz/` request's. Then a second run with `--webhook-agents` agents: one new customer
message a second arrives by signed webhook, and each agent's poll answers are read for it:
the time from the webhook's 200 until it is in an agent's answer, over every agent and
message. Targets on 2 cores at 100k conversations: an unchanged poll <= 1.5 x the CPU of a
`/healthz/` request; 300 agents with p95 <= 100 ms; every new message in every agent's
answer <= 3 s after its webhook's 200.

The load generator runs in `--senders` processes (asyncio, a coroutine per agent), on the
same two cores as the server: its own CPU time is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import percentile
from bench.load import SECRET, Connection, http_request
from bench.stack import (
    ROOT,
    database_cpu_seconds,
    group_cpu_seconds,
    healthy,
    migrate_and_set_up,
    required_urls,
    server_env,
    start,
    stop,
    wait_for,
    web_command,
    worker_command,
)
from instagram.signature import sign

LIST_POLL_S = 2.5  # static/js/inbox.js: LIST_POLL_MS
THREAD_POLL_S = 2.0  # THREAD_POLL_MS
POLL_SLACK_S = 1.0  # POLL_SLACK_MS
MARK = b"livebench"
MARK_RE = re.compile(rb"livebench(\d+)x")
RUN = f"{int(time.time()) % 1000000:06d}"  # this run's messages: no earlier run's count
VERSION_RE = re.compile(rb'class="thread-update" data-v="([0-9a-f]+)" data-r="([0-9a-f]*)"')
ROWS_HELD_RE = re.compile(rb'<ul class="rows"[^>]*data-r="([0-9a-f]*)"')


@dataclass
class Agent:
    cookie: str
    thread_id: int


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # s, of every measured answer
    statuses: dict[int, int] = field(default_factory=dict)
    seen: dict[tuple[int, int], float] = field(default_factory=dict)  # (agent, n) → when
    cpu: float = 0.0
    requests: int = 0


# --- the load generator ------------------------------------------------------------------
async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, dict[bytes, bytes], bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get(b"content-length", b"0"))
    body = await reader.readexactly(length) if length else b""
    return int(lines[0].split(b" ", 2)[1]), headers, body


async def _poller(
    port: int,
    index: int,
    agent: Agent | None,
    kind: str,
    interval: float,
    window: tuple[float, float],
    result: Result,
    version: str | None = None,
    held: str = "",
) -> None:
    """One polling loop: a list or thread poll of `agent` from the `version` its page was
    opened with (and the key of what it holds, `held`, sent as `r` as inbox.js does, so that
    a poll that is behind gets only what changed), or `/healthz/` when agent is None.
    Answers between window[0] and window[1] (monotonic) are measured."""
    start_at, end_at = window
    if version is None:  # the floor: spread over the lead as the agents' pages are
        spread = max(0.0, start_at - time.monotonic() - 2 * interval)
        await asyncio.sleep(random.random() * spread)
    else:  # inbox.js polls an interval after the page has loaded
        await asyncio.sleep(interval)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    version = version or ""
    cookie = {"Cookie": f"sessionid={agent.cookie}", "X_Inbox_Poll": "1"} if agent else {}
    while time.monotonic() < end_at:
        if agent is None:
            path = "/healthz/"
        elif kind == "list":
            path = f"/?fragment=rows&current={agent.thread_id}&v={version}"
        else:
            path = f"/c/{agent.thread_id}/updates/?v={version}&visible=1"
        if held and agent is not None:
            path += f"&r={held}"
        request = http_request("GET", path, b"", **cookie)
        began = time.monotonic()
        try:
            status, headers, body = await _exchange(reader, writer, request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status, headers, body = 0, {}, b""
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = time.monotonic()
        if start_at <= began and done <= end_at:
            result.latencies.append(done - began)
            result.statuses[status] = result.statuses.get(status, 0) + 1
        if status == 200 and agent is not None:
            if kind == "list":
                version = headers.get(b"x-inbox-version", b"").decode()
                found = ROWS_HELD_RE.search(body)
                held = found.group(1).decode() if found else ""
            elif found := VERSION_RE.search(body):
                version, held = found.group(1).decode(), found.group(2).decode()
            if MARK in body:
                for n in MARK_RE.findall(body):
                    if n.startswith(RUN.encode()):
                        result.seen.setdefault((index, int(n[len(RUN) :])), done)
        if headers.get(b"connection") == b"close":
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # Due an interval after this poll was sent (inbox.js: nextPoll, POLL_SLACK_MS).
        await asyncio.sleep(interval - min(time.monotonic() - began, POLL_SLACK_S))
    writer.close()


PAGE_LIST_VERSION_RE = re.compile(rb'id="conv-list"[^>]*data-v="([0-9a-f]*)"')
PAGE_THREAD_VERSION_RE = re.compile(
    rb'data-v="([0-9a-f]+)" data-conversation="\d+" data-r="([0-9a-f]*)"'
)


async def _agent_open(
    port: int, index: int, agent: Agent, window: tuple[float, float], result: Result
) -> None:
    """One agent: opens their conversation's page (which renders the list and the thread and
    hands both versions, as a browser's page load does) at a moment spread over the lead,
    ending two intervals before the measured window, then polls both from those versions."""
    spread = max(0.0, window[0] - time.monotonic() - 2 * LIST_POLL_S)
    await asyncio.sleep(random.random() * spread)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = http_request("GET", f"/c/{agent.thread_id}/", b"", Cookie=f"sessionid={agent.cookie}")
    try:
        status, _headers, body = await _exchange(reader, writer, request)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        status, body = 0, b""
    writer.close()
    found = PAGE_LIST_VERSION_RE.search(body) if status == 200 else None
    list_version = found.group(1).decode() if found else ""
    found = ROWS_HELD_RE.search(body) if status == 200 else None
    list_held = found.group(1).decode() if found else ""
    found = PAGE_THREAD_VERSION_RE.search(body) if status == 200 else None
    thread_version, thread_held = (
        (found.group(1).decode(), found.group(2).decode()) if found else ("", "")
    )
    await asyncio.gather(
        _poller(port, index, agent, "list", LIST_POLL_S, window, result, list_version, list_held),
        _poller(
            port, index, agent, "thread", THREAD_POLL_S, window, result, thread_version, thread_held
        ),
    )


def _sender(
    port: int, agents: list[tuple[int, Agent | None]], window: tuple[float, float], queue: Any
) -> None:
    result = Result()
    cpu = time.process_time()

    async def main() -> None:
        loops = []
        for index, agent in agents:
            if agent is None:  # the floor: /healthz/ at the polls' two rates
                loops.append(_poller(port, index, None, "", LIST_POLL_S, window, result))
                loops.append(_poller(port, index, None, "", THREAD_POLL_S, window, result))
            else:
                loops.append(_agent_open(port, index, agent, window, result))
        await asyncio.gather(*loops)

    asyncio.run(main())
    result.cpu = time.process_time() - cpu
    queue.put(result)


def load_run(
    port: int, agents: list[Agent | None], seconds: float, senders: int, lead: float
) -> tuple[Result, float, float]:
    """Every agent's (or /healthz/ client's) two polling loops for `seconds` after a lead
    of `lead` s; the merged result and the measured window (monotonic)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.monotonic() + lead
    window = (start_at, start_at + seconds)
    numbered = list(enumerate(agents))
    shares = [numbered[i::senders] for i in range(senders)]
    processes = [
        context.Process(target=_sender, args=(port, share, window, queue), daemon=True)
        for share in shares
        if share
    ]
    for process in processes:
        process.start()
    merged = Result()
    for _ in processes:
        part = queue.get(timeout=seconds + lead + 120)
        merged.latencies += part.latencies
        merged.cpu += part.cpu
        merged.seen.update(part.seen)
        for status, count in part.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + count
    for process in processes:
        process.join(timeout=10)
    merged.requests = len(merged.latencies)
    return merged, *window


# --- the webhooks --------------------------------------------------------------------------
def _webhook_sender(
    port: int, customers: list[str], ig_id: str, window: tuple[float, float], queue: Any
) -> None:
    """One new customer message a second during the window; (n, its 200's time) each."""
    conn = Connection(port)
    acks: dict[int, tuple[float, float]] = {}  # n: its 200's time, monotonic and wall clock
    start_at, end_at = window
    n = 0
    while True:
        due = start_at + n
        if due > end_at - 4:  # the last one has time to show before the window closes
            break
        time.sleep(max(0.0, due - time.monotonic()))
        stamp = int(time.time() * 1000)
        customer = customers[n % len(customers)]
        item = {
            "sender": {"id": customer},
            "recipient": {"id": ig_id},
            "timestamp": stamp,
            "message": {"mid": f"livebench-{stamp}-{n}", "text": f"In stock? livebench{RUN}{n}x"},
        }
        entry = {"id": ig_id, "time": stamp, "messaging": [item]}
        body = json.dumps({"object": "instagram", "entry": [entry]}).encode()
        request = http_request(
            "POST",
            "/webhooks/instagram/",
            body,
            Content_Type="application/json",
            X_Hub_Signature_256=sign(body, SECRET),
        )
        if conn.exchange(request) == 200:
            acks[n] = (time.monotonic(), time.time())
        n += 1
    conn.close()
    queue.put(acks)


# --- setting up ----------------------------------------------------------------------------
def seed_if_empty(env: dict[str, str]) -> None:
    from inbox.models import Conversation

    if Conversation.objects.exists():
        return
    print("the database is empty: seeding it (bench/seed.py)...", flush=True)
    subprocess.run(
        [sys.executable, "bench/seed.py"], cwd=ROOT, env={**env, "DEBUG": "true"}, check=True
    )


def agents_make(count: int) -> list[Agent]:
    """`count` agents, members of every account, each logged in (a session of their own, as
    the login form makes it) with one of the newest open conversations open."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.base import SessionBase
    from django.utils.module_loading import import_string

    from accounts.models import InstagramAccount
    from inbox.models import Conversation

    store_class: type[SessionBase] = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    accounts = list(InstagramAccount.objects.all())
    threads = list(
        Conversation.objects.filter(status="open")
        .order_by("-last_message_at", "-id")
        .values_list("pk", flat=True)[:40]
    )
    agents = []
    for i in range(count):
        user, created = User.objects.get_or_create(username=f"live-agent-{i:03d}")
        if created:
            user.set_unusable_password()
            user.save()
            for account in accounts:
                account.members.add(user)
        session = store_class()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "accounts.backends.AgentBackend"  # as the login form
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        agents.append(Agent(cookie=session.session_key or "", thread_id=threads[i % len(threads)]))
    return agents


def agents_analyze() -> None:
    """The planner's figures for the tables the agents were just added to, as autovacuum has
    them a minute later. Before it had, each poll's login proof read the users' table
    whole: the thread poll's statement alone cost PostgreSQL 0.21 ms against 0.10 ms after,
    and a run at 300 agents measured a ratio of 1.72 (0.56 ms of PostgreSQL a poll) against
    1.25 (0.32 ms) in the next."""
    from django.db import connection

    from accounts.models import InstagramAccount

    tables = (
        "django_session",
        "auth_user",
        InstagramAccount.members.through._meta.db_table,
    )
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def webhook_customers() -> tuple[str, list[str]]:
    """The first account's ig_id and 20 of its customers with recent conversations (their
    profiles marked fresh: the bench has no Meta to fetch them from)."""
    from django.utils import timezone

    from inbox.models import Conversation

    newest = Conversation.objects.order_by("-last_message_at").select_related("account").first()
    assert newest is not None
    account = newest.account
    rows = Conversation.objects.filter(account=account).order_by("-last_message_at")[:20]
    ids = [c.pk for c in rows]
    Conversation.objects.filter(pk__in=ids).update(profile_fetched_at=timezone.now())
    return account.ig_id, [c.customer_igsid for c in rows]


# --- measuring ---------------------------------------------------------------------------
@dataclass
class Phase:
    label: str
    result: Result
    seconds: float
    web_cpu: float
    db_cpu: float
    worker_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.result.requests / self.seconds

    def per_request_ms(self, cpu: float) -> float:
        return cpu / max(self.result.requests, 1) * 1000

    def ms(self, pct: float) -> float:
        return percentile(self.result.latencies, pct) * 1000


def lead_seconds(agents: int) -> float:
    """Time before the measured window: the agents' first polls (which render, as opening a
    page does) spread over it, 8 a second, then two poll intervals to settle."""
    return agents / 8 + 2 * LIST_POLL_S + 1


def measured(
    label: str, port: int, agents: list[Agent | None], args: argparse.Namespace, pids: list[int]
) -> Phase:
    db_name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    web, worker = pids
    # Counters read at the window's edges, from a thread of this process.
    marks: dict[str, tuple[float, float, float]] = {}
    lead = lead_seconds(len(agents))

    def read() -> tuple[float, float, float]:
        return group_cpu_seconds(web), database_cpu_seconds(db_name), group_cpu_seconds(worker)

    import threading

    def at_edges(start_at: float, end_at: float) -> None:
        time.sleep(max(0.0, start_at - time.monotonic()))
        marks["start"] = read()
        time.sleep(max(0.0, end_at - time.monotonic()))
        marks["end"] = read()
        from django.db import connection

        connection.close()  # its backend would leave the next phase's sum while it runs

    start_at = time.monotonic() + lead
    watcher = threading.Thread(target=at_edges, args=(start_at, start_at + args.seconds))
    watcher.start()
    result, *_ = load_run(port, agents, args.seconds, args.senders, lead)
    watcher.join()
    (w0, d0, k0), (w1, d1, k1) = marks["start"], marks["end"]
    return Phase(label, result, args.seconds, w1 - w0, d1 - d0, k1 - k0)


def webhook_run(
    port: int, agents: list[Agent], args: argparse.Namespace, pids: list[int]
) -> tuple[Phase, dict[int, tuple[float, float]]]:
    ig_id, customers = webhook_customers()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    lead = lead_seconds(len(agents))
    start_at = time.monotonic() + lead
    sender = context.Process(
        target=_webhook_sender,
        args=(port, customers, ig_id, (start_at, start_at + args.seconds), queue),
        daemon=True,
    )
    sender.start()
    phase = measured("polls, 1 webhook/s", port, list(agents), args, pids)
    acks = queue.get(timeout=60)
    sender.join(timeout=10)
    return phase, acks


def stored_delays(acks: dict[int, tuple[float, float]]) -> list[float]:
    """For each acknowledged message, the time from its webhook's 200 until the worker
    stored it (its row's created_at): the part of the time to visible before any poll."""
    from inbox.models import Message

    delays = []
    rows = Message.objects.filter(text__contains=f"livebench{RUN}").values_list(
        "text", "created_at"
    )
    for text, created_at in rows:
        found = MARK_RE.search(text.encode())
        n = int(found.group(1)[len(RUN) :]) if found else -1
        if n in acks:
            delays.append(created_at.timestamp() - acks[n][1])
    return delays


def report_phase(phase: Phase, floor: Phase | None) -> None:
    result = phase.result
    web, db = phase.per_request_ms(phase.web_cpu), phase.per_request_ms(phase.db_cpu)
    line = (
        f"  {phase.label:22} {phase.rate:7.1f}/s  p50 {phase.ms(50):6.1f}  p95 "
        f"{phase.ms(95):6.1f}  p99 {phase.ms(99):6.1f} ms  CPU/request {web:5.2f} gunicorn"
        f" + {db:5.2f} PostgreSQL ms  cores {(phase.web_cpu + phase.db_cpu) / phase.seconds:4.2f}"
    )
    if floor is not None:
        floor_total = floor.per_request_ms(floor.web_cpu + floor.db_cpu)
        ratio = (web + db) / floor_total if floor_total else float("nan")
        line += f"  ratio {ratio:4.2f}"
    print(line)
    statuses = ", ".join(f"{count} x {status}" for status, count in sorted(result.statuses.items()))
    generator = phase.per_request_ms(result.cpu)
    print(f"  {'':22} answers: {statuses}; load generator {generator:.2f} ms/request")


def _cpu_per_request(phases: list[Phase]) -> float:
    cpu = sum(phase.web_cpu + phase.db_cpu for phase in phases)
    return cpu / max(sum(phase.result.requests for phase in phases), 1) * 1000


def report_rounds(floors: list[Phase], polled: list[Phase]) -> None:
    """The ratio over every round of a K (each round's floor measured right before its
    polls), so that the machine's drift from one 20 s window to the next weighs less."""
    floor, polls = _cpu_per_request(floors), _cpu_per_request(polled)
    each = ", ".join(
        f"{_cpu_per_request([p]) / _cpu_per_request([f]):.2f}"
        for f, p in zip(floors, polled, strict=True)
    )
    print(
        f"  over {len(floors)} rounds: {polls:.2f} ms per poll against {floor:.2f} ms per"
        f" /healthz/ request: ratio {polls / floor:.2f} (rounds: {each})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", default="50,100,200,300", help="K values, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per load")
    parser.add_argument(
        "--rounds", type=int, default=1, help="floor-then-polls rounds per K (ratio over all)"
    )
    parser.add_argument("--webhook-agents", type=int, default=300, help="0: no webhook run")
    parser.add_argument("--senders", type=int, default=2, help="load generator processes")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--web-workers", type=int, default=3)
    args = parser.parse_args()
    ks = [int(k) for k in args.agents.split(",") if k]
    # Stopped from outside (a timeout, ^C): still stop what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if healthy(args.port):
        sys.exit(f"something already answers on port {args.port}: stop it first")
    database_url, redis_url = required_urls()
    env = server_env(database_url, redis_url, args.port)
    # PostgreSQL's CPU is read from its backends in /proc, so a backend that ends takes its
    # share with it: the server's connections are kept for the whole run.
    env["CONN_MAX_AGE"] = "3600"
    migrate_and_set_up(env)
    seed_if_empty(env)
    # web refuses to start without the static files (and serves the current inbox.js).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    from config.celery import app
    from inbox.models import Conversation, Message

    app.control.purge()
    agents = agents_make(max([*ks, args.webhook_agents]))
    agents_analyze()
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    # gunicorn as the Procfile starts it (its threads and keep-alive from gunicorn.conf.py).
    web = start(web_command(args.port, args.web_workers, 8), env, logs / "live-gunicorn.log")
    worker = start(worker_command("prefork", 2, nice=10), env, logs / "live-celery.log")
    try:
        wait_for(lambda: healthy(args.port), 60, "gunicorn")
        pids = [web.pid, worker.pid]
        print(
            f"{Conversation.objects.count()} conversations, {Message.objects.count()} messages;"
            f" {args.seconds:.0f} s per load; load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores"
        )
        for k in ks:
            each = f"the list every {LIST_POLL_S} s, a thread every {THREAD_POLL_S} s"
            print(f"\n{k} agents (each: {each})")
            floors, polled = [], []
            for _ in range(args.rounds):
                floor = measured("/healthz/ (floor)", args.port, [None] * k, args, pids)
                report_phase(floor, None)
                polls = measured("polls, nothing new", args.port, list(agents[:k]), args, pids)
                report_phase(polls, floor)
                print(f"  {'':22} load average {os.getloadavg()[0]:.1f}")
                floors.append(floor)
                polled.append(polls)
            if args.rounds > 1:
                report_rounds(floors, polled)
        if args.webhook_agents:
            k = args.webhook_agents
            print(f"\n{k} agents, one new customer message a second by webhook")
            phase, acks = webhook_run(args.port, agents[:k], args, pids)
            report_phase(phase, None)
            print(
                f"  {'':22} worker CPU {phase.worker_cpu / max(len(acks), 1) * 1000:.1f} ms/message"
            )
            delays = []
            missing = 0
            for n, (acked, _wall) in acks.items():
                for index in range(k):
                    seen = phase.result.seen.get((index, n))
                    if seen is None:
                        missing += 1
                    else:
                        delays.append(seen - acked)
            if delays:
                print(
                    f"  time to visible over {len(acks)} messages x {k} agents: p50 "
                    f"{percentile(delays, 50):.2f} s, p95 {percentile(delays, 95):.2f} s, p99 "
                    f"{percentile(delays, 99):.2f} s, max {max(delays):.2f} s; never seen: "
                    f"{missing}"
                )
            else:
                print(f"  no message seen by any agent ({len(acks)} acknowledged)")
            stored = stored_delays(acks)
            if stored:
                print(
                    f"  {'':22} stored by the worker after the 200: p50 "
                    f"{percentile(stored, 50) * 1000:.0f} ms, p95 "
                    f"{percentile(stored, 95) * 1000:.0f} ms, max {max(stored) * 1000:.0f} ms"
                )
            print(f"  {'':22} load average {os.getloadavg()[0]:.1f}")
    finally:
        stop(web, worker)
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
