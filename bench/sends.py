"""Outbound send benchmark: real Celery workers, PostgreSQL and Redis, a local fake Meta.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inbox_sends \\
    REDIS_URL=redis://127.0.0.1:6379/2 \\
    python bench/sends.py [--replies 2000] [--accounts 10] [--cap 10] [--concurrency 16]

1. idle: replies trickle in well below the cap; prints enqueue→call latency p50/p95
   (target: p95 ≤ 1 s).
2. backlog: `--replies` replies over `--accounts` accounts are queued in one commit; prints
   throughput, each account's sustained rate as a share of the cap (target ≥ 90 %), and the
   highest per-account count in any one-second window (target: never above the cap).

`--cap` sets INSTAGRAM_RATE_LIMIT_TEXT for the workers (Meta's real cap is 100/s; a small
machine cannot feed 10 accounts at 100/s, so the default measures the limiter at 10/s). The
bench drops everything it created and stops every process it started, even on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import percentile
from bench.stack import (
    ROOT,
    migrate_and_set_up,
    required_urls,
    start,
    stop,
    wait_for,
    worker_command,
)


@dataclass
class Arrival:
    ig_id: str
    recipient: str
    at: float


class FakeMeta:
    """bench/fake_graph.py in its own process (its clock is not slowed by this one's work);
    every call it answers is read back from its record file."""

    def __init__(self, port: int, latency: float, env: dict[str, str]) -> None:
        self.base_url = f"http://127.0.0.1:{port}/v24.0"
        self.record = Path(tempfile.mkstemp(prefix="fake-graph-", suffix=".jsonl")[1])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_graph", "--port", str(port),
             "--latency", str(latency), "--record", str(self.record)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, start_new_session=True, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "fake Graph API at ...": it listens
        self._skip = 0

    @property
    def calls(self) -> list[Arrival]:
        lines = self.record.read_text().splitlines()[self._skip :]
        return [Arrival(**{k: v for k, v in json.loads(x).items() if k != "kind"}) for x in lines]

    def calls_for(self, ig_id: str) -> list[Arrival]:
        return [c for c in self.calls if c.ig_id == ig_id]

    def reset(self) -> None:
        self._skip = len(self.record.read_text().splitlines())

    def stop(self) -> None:
        stop(self.process)
        self.record.unlink(missing_ok=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replies", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--cap", type=float, default=10.0, help="calls/s per account")
    parser.add_argument("--idle", type=int, default=100, help="replies in the idle phase")
    parser.add_argument("--idle-gap", type=float, default=0.1, help="seconds between them")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=18210)
    parser.add_argument("--latency", type=float, default=0.02, help="fake Meta's answer time")
    parser.add_argument("--timeout", type=float, default=600)
    return parser.parse_args()


def environment(args: argparse.Namespace) -> dict[str, str]:
    required_urls()
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        LOG_LEVEL="WARNING",
        INSTAGRAM_RATE_LIMIT_TEXT=str(args.cap),
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    os.environ.update(env)
    return env


def start_workers(args: argparse.Namespace, env: dict[str, str]) -> list[subprocess.Popen]:
    return [
        start(worker_command(args.pool, args.concurrency, name=f"bench{n}-{os.getpid()}@%h"), env)
        for n in range(args.workers)
    ]


def wait_for_workers(count: int) -> None:
    from config.celery import app

    wait_for(lambda: len(app.control.ping(timeout=1.0) or []) >= count, 60, "the workers")


def seed(args: argparse.Namespace, graph: FakeMeta, run: str):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User
    from django.utils import timezone

    from accounts.models import InstagramAccount

    author = User.objects.create(username=f"bench-{run}")
    accounts = [
        InstagramAccount.objects.create(
            ig_id=f"bench{run}{n:02d}",
            username=f"bench_{run}_{n}",
            graph_api_url=graph.base_url,
            token_ciphertext="",
            source=InstagramAccount.Source.ENV,
        )
        for n in range(args.accounts)
    ]
    for account in accounts:
        account.access_token = f"hmat_bench_{account.ig_id}"
        account.save()
    return author, accounts, timezone.now()


def new_conversation(account, n: int, last_message):  # type: ignore[no-untyped-def]
    from inbox.models import Conversation

    return Conversation.objects.create(
        account=account,
        customer_igsid=f"{account.ig_id}c{n}",
        last_customer_message_at=last_message,
    )


def wait_until_settled(ids: list[int], timeout: float) -> None:
    from inbox.models import Message

    pending = Message.objects.filter(pk__in=ids, status__in=["queued", "sending"])
    try:
        wait_for(lambda: not pending.exists(), timeout, "the replies", every=0.5)
    except RuntimeError:
        print(f"  !! {pending.count()} replies still pending after {timeout:.0f}s")


def max_in_one_second(times: list[float]) -> int:
    ordered, best, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def idle_phase(args, graph, author, accounts, last_message) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from inbox.outbound.replies import reply_create

    queued_at: dict[str, float] = {}
    for n in range(args.idle):
        account = accounts[n % len(accounts)]
        conversation = new_conversation(account, 100000 + n, last_message)
        queued_at[conversation.customer_igsid] = time.time()
        reply_create(conversation=conversation, author=author, text=f"idle reply {n}")
        time.sleep(args.idle_gap)
    with contextlib.suppress(RuntimeError):  # a reply not sent by then is left out
        wait_for(lambda: len(graph.calls) >= args.idle, 30, "the idle calls", every=0.1)
    latencies = [c.at - queued_at[c.recipient] for c in graph.calls if c.recipient in queued_at]
    return {
        "count": len(latencies),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "max": max(latencies, default=float("nan")),
    }


def backlog_phase(args, graph, author, accounts, last_message):  # type: ignore[no-untyped-def]
    from django.db import transaction

    from inbox.outbound.replies import reply_create

    graph.reset()
    conversations = [
        new_conversation(accounts[n % len(accounts)], n, last_message) for n in range(args.replies)
    ]
    ids, committed = [], []
    with transaction.atomic():  # every task is published at commit: a real backlog
        # Runs first among the commit callbacks: the moment the replies are enqueued.
        transaction.on_commit(lambda: committed.append(time.time()))
        for n, conversation in enumerate(conversations):
            ids.append(reply_create(conversation=conversation, author=author, text=f"reply {n}").pk)
    queued_at = {c.customer_igsid: committed[0] for c in conversations}
    wait_until_settled(ids, args.timeout)
    return ids, queued_at


def report(args, graph, accounts, ids, queued_at, idle) -> None:  # type: ignore[no-untyped-def]
    from django.db.models import Count

    from inbox.models import Message
    from inbox.outbound.ratelimit import HEADROOM

    calls = graph.calls
    statuses = dict(
        Message.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("pk"))
    )
    recipients = [c.recipient for c in calls]
    span = max(c.at for c in calls) - min(c.at for c in calls) if calls else float("nan")
    effective = args.cap * HEADROOM
    rates, windows, gaps = [], [], []
    for account in accounts:
        times = sorted(c.at for c in graph.calls_for(account.ig_id))
        if len(times) > 1:
            rates.append((len(times) - 1) / (times[-1] - times[0]))
            gaps.extend(b - a for a, b in itertools.pairwise(times))
        windows.append(max_in_one_second(times))
    latencies = [c.at - queued_at[r] for c, r in zip(calls, recipients, strict=True)]

    print(f"\nOutbound send benchmark ({args.workers} worker x {args.pool}/{args.concurrency},"
          f" cap {args.cap:g}/s per account, limiter spacing at {effective:.2f}/s)")  # fmt: skip
    print(f"idle ({idle['count']:.0f} replies, one every {args.idle_gap:g}s):")
    print(f"  enqueue→call latency p50 {idle['p50'] * 1000:.0f} ms, p95 {idle['p95'] * 1000:.0f} "
          f"ms, max {idle['max'] * 1000:.0f} ms   (target p95 ≤ 1000 ms)")  # fmt: skip
    print(f"backlog ({len(ids)} replies over {len(accounts)} accounts, queued in one commit):")
    duplicates = len(calls) - len(set(recipients))
    print(f"  delivered: {statuses}; calls to Meta: {len(calls)}, "
          f"distinct recipients: {len(set(recipients))} (duplicates: {duplicates})")  # fmt: skip
    print(f"  throughput: {len(calls) / span:.1f} calls/s over {span:.1f}s "
          f"(ceiling {args.cap * len(accounts):g}/s)")  # fmt: skip
    median = statistics.median(rates)
    print(f"  per-account sustained rate: min {min(rates):.2f}/s, median {median:.2f}/s"
          f" = {median / args.cap:.0%} of the cap (target ≥ 90 %)")  # fmt: skip
    print(f"  gaps between one account's calls: p10 {percentile(gaps, 10) * 1000:.0f} ms, "
          f"p50 {percentile(gaps, 50) * 1000:.0f} ms, p90 {percentile(gaps, 90) * 1000:.0f} ms, "
          f"max {max(gaps) * 1000:.0f} ms (slots every {1000 / effective:.0f} ms)")  # fmt: skip
    print(
        f"  highest per-account count in any 1-second window: {max(windows)} "
        f"(cap {args.cap:g}: {'never above' if max(windows) <= args.cap else 'ABOVE THE CAP'})"
    )
    print(f"  enqueue→call latency under backlog: p50 {percentile(latencies, 50):.1f}s, "
          f"p95 {percentile(latencies, 95):.1f}s")  # fmt: skip


def cleanup(run: str) -> None:
    from django.contrib.auth.models import User

    from accounts.models import InstagramAccount
    from inbox.models import Conversation, Message

    accounts = InstagramAccount.objects.filter(ig_id__startswith=f"bench{run}")
    Message.objects.filter(account__in=accounts).delete()
    Conversation.objects.filter(account__in=accounts).delete()
    accounts.delete()
    User.objects.filter(username=f"bench-{run}").delete()


def main() -> None:
    args = parse_args()
    env = environment(args)
    migrate_and_set_up(env)

    run = uuid.uuid4().hex[:6]
    workers: list[subprocess.Popen] = []
    graph = FakeMeta(args.port, args.latency, env)
    try:
        author, accounts, last_message = seed(args, graph, run)
        workers = start_workers(args, env)
        wait_for_workers(args.workers)
        idle = idle_phase(args, graph, author, accounts, last_message)
        ids, queued_at = backlog_phase(args, graph, author, accounts, last_message)
        report(args, graph, accounts, ids, queued_at, idle)
    finally:
        stop(*workers)
        graph.stop()
        cleanup(run)


if __name__ == "__main__":
    main()
