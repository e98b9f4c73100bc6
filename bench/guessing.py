"""Login-guessing check: webhook acks while clients guess passwords on /login/.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inbox REDIS_URL=redis://127.0.0.1:6379/1 \\
        python bench/guessing.py --seconds 20

Starts the product as `bench/intake.py` does (a fresh database, gunicorn, a Celery worker),
behind one trusted proxy as far as the login is concerned (`TRUSTED_PROXY_COUNT=1`), then
sends signed webhooks at `--rate` for `--seconds` twice on the same connections: alone, then
while `--guessers` clients, each from an address of its own (`X-Forwarded-For`) and at a
username of its own, post wrong passwords to /login/ as fast as answered, up to
`--guess-rate` tries a second each; the second load starts once every guesser has been
refused (the failures allowed before it are password hashes, a one-off per lock-out: how
long they took is printed). It prints the ack p99 of both loads and their ratio
(target: at most 1.5), and what the guessers got. `--failure-limit 1000000` turns the
lock-out off in effect, for comparison.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import re
import subprocess
import sys
import time
from collections import Counter
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fake_graph import FakeGraph
from bench.figures import percentile
from bench.intake import account_create, processes_start, warm_up
from bench.load import Phase, Senders, event_bodies, post_event
from bench.stack import (
    ROOT,
    bench_database_url,
    drop_database,
    group_cpu_seconds,
    migrate_and_set_up,
    recreate_database,
    required_urls,
    server_env,
    stop,
)

TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each load")
    parser.add_argument("--rate", type=float, default=100, help="webhooks a second")
    parser.add_argument("--concurrency", type=int, default=4, help="webhook senders")
    parser.add_argument("--lead", type=int, default=100, help="webhooks first, not measured")
    parser.add_argument("--guessers", type=int, default=6)
    parser.add_argument("--guess-rate", type=float, default=10, help="tries/s per guesser")
    parser.add_argument("--failure-limit", type=int, default=5, help="LOGIN_FAILURE_LIMIT")
    parser.add_argument(
        "--lockout-wait", type=float, default=180, help="longest wait for the lock-outs (s)"
    )
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=8)
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--celery-pool", default="prefork")
    parser.add_argument("--worker-nice", type=int, default=10)
    return parser.parse_args()


def guess(
    port: int,
    index: int,
    rate: float,
    stop: Event,
    refused: Synchronized,
    tried: Synchronized,
    results: Queue,
) -> None:
    """One guesser: the login form once (its CSRF token), then wrong passwords until `stop`;
    counts itself in `refused` at its first refusal; puts its statuses and when that was."""
    address, username = f"203.0.113.{index + 1}", f"agent{index}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", "/login/", headers={"X-Forwarded-For": address})
    page = conn.getresponse()
    cookie = (page.getheader("Set-Cookie") or "").split(";", 1)[0]
    match = TOKEN.search(page.read())
    token = match.group(1).decode() if match else ""
    headers = {
        "Cookie": cookie,
        "X-Forwarded-For": address,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    statuses: Counter[int] = Counter()
    began, first_refused, tries = time.monotonic(), 0.0, 0
    while not stop.is_set():
        if (wait := began + tries / rate - time.monotonic()) > 0:
            time.sleep(wait)
        body = urlencode(
            {"csrfmiddlewaretoken": token, "username": username, "password": f"guess-{tries}"}
        )
        conn.request("POST", "/login/", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        statuses[response.status] += 1
        with tried.get_lock():
            tried.value += 1
        if response.status == 429 and not first_refused:
            first_refused = time.monotonic() - began
            with refused.get_lock():
                refused.value += 1
        tries += 1
    conn.close()
    results.put((dict(statuses), first_refused))


def users_create(count: int) -> None:
    from django.contrib.auth import get_user_model

    for index in range(count):
        get_user_model().objects.create_user(f"agent{index}", password="a-real-password-123")


class Cost(NamedTuple):
    """gunicorn's CPU seconds during each load, and the guesses answered during the second."""

    alone: float
    guessed: float
    guesses: int


def measure(
    args: argparse.Namespace, web_group: int
) -> tuple[Phase, Phase, list[tuple[dict, float]], Cost]:
    """The webhooks alone; then the guessers start, and once each has met its lock-out (the
    few failures it is allowed, each a password hash, are over), the webhooks again while
    they go on guessing. gunicorn's CPU is read around both loads: what the second spends
    beyond the first is the guesses' cost, a figure a busy machine skews far less than p99."""
    count = args.lead + int(args.rate * args.seconds)
    loads = [[post_event(b) for b in event_bodies(count, tag)] for tag in ("alone", "guessed")]
    context = multiprocessing.get_context("fork")
    results, stop, refused = context.Queue(), context.Event(), context.Value("i", 0)
    tried = context.Value("q", 0)
    with Senders(args.port, loads, args.concurrency, args.rate, args.lead) as senders:
        cpu = group_cpu_seconds(web_group)
        alone = senders.run(0)
        cpu_alone = group_cpu_seconds(web_group) - cpu
        guessers = [
            context.Process(
                target=guess,
                args=(args.port, i, args.guess_rate, stop, refused, tried, results),
            )
            for i in range(args.guessers)
        ]
        for process in guessers:
            process.start()
        began = time.monotonic()
        while refused.value < args.guessers and time.monotonic() - began < args.lockout_wait:
            time.sleep(0.1)
        cpu, tries = group_cpu_seconds(web_group), tried.value
        guessed = senders.run(1)
        cost = Cost(cpu_alone, group_cpu_seconds(web_group) - cpu, tried.value - tries)
        stop.set()
        outcomes = [results.get(timeout=300) for _ in guessers]
        for process in guessers:
            process.join()
    return alone, guessed, outcomes, cost


def main() -> None:
    args = parse_args()
    database_url, redis_url = required_urls()
    bench_url, bench_name = bench_database_url(database_url)
    env = server_env(bench_url, redis_url, args.port)
    env.update(TRUSTED_PROXY_COUNT="1", LOGIN_FAILURE_LIMIT=str(args.failure_limit))
    print(f"database {bench_name} (fresh), broker {redis_url}, port {args.port}")
    recreate_database(database_url, bench_name)
    # The login gate's locks live in Redis and outlive a dropped database: an earlier run's
    # would refuse this run's guessers from their first try.
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    migrate_and_set_up(env)
    # The login page is HTML: with DEBUG off it needs the collected static files' manifest.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    profiles = FakeGraph(port=args.port + 50).start()
    account_create(profiles.base_url)
    users_create(args.guessers)
    processes = processes_start(args, env)
    try:
        warm_up(args)
        alone, guessed, outcomes, cost = measure(args, processes[0].pid)
    finally:
        stop(*processes)
        profiles.stop()
        from django.db import connections

        connections.close_all()
        drop_database(database_url, bench_name)
    report(args, alone, guessed, outcomes, cost)


def report(
    args: argparse.Namespace,
    alone: Phase,
    guessed: Phase,
    outcomes: list[tuple[dict, float]],
    cost: Cost,
) -> None:
    ms = 1000
    p99_alone, p99_guessed = percentile(alone.latencies, 99), percentile(guessed.latencies, 99)
    statuses: Counter[int] = Counter()
    for got, _ in outcomes:
        statuses.update(got)
    refused_after = [first for _, first in outcomes if first]
    print(
        f"webhooks at {args.rate:.0f}/s for {args.seconds:.0f} s, {args.concurrency} senders; "
        f"{args.guessers} guessers at up to {args.guess_rate:.0f} tries/s each (measured once "
        f"each was refused), "
        f"LOGIN_FAILURE_LIMIT={args.failure_limit}"
    )
    for name, phase in (("alone", alone), ("while guessing", guessed)):
        print(
            f"ack {name}: p50 {percentile(phase.latencies, 50) * ms:.1f} ms, "
            f"p95 {percentile(phase.latencies, 95) * ms:.1f} ms, "
            f"p99 {percentile(phase.latencies, 99) * ms:.1f} ms; {phase.failures} not 200"
        )
    print(
        f"guesses: {sum(statuses.values())} "
        f"({', '.join(f'{n} answered {s}' for s, n in sorted(statuses.items()))}); "
        + (
            f"each guesser refused from {min(refused_after):.1f}-{max(refused_after):.1f} s on"
            if len(refused_after) == len(outcomes)
            else f"{len(outcomes) - len(refused_after)} guessers never refused"
        )
    )
    webhooks = args.lead + int(args.rate * args.seconds)
    per_webhook = cost.alone / webhooks
    per_guess = max(cost.guessed - cost.alone, 0.0) / max(cost.guesses, 1)
    print(
        f"gunicorn CPU: {per_webhook * ms:.2f} ms a webhook (alone); "
        f"{per_guess * ms:.2f} ms a guess ({cost.guesses} during the second load), "
        f"{per_guess / per_webhook:.2f} x a webhook's"
    )
    print(f"ack p99 ratio, guessing / alone: {p99_guessed / p99_alone:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
