"""Webhook intake benchmark: gunicorn + a Celery worker against PostgreSQL and Redis.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inbox REDIS_URL=redis://127.0.0.1:6379/1 \\
        python bench/intake.py --events 2000 --concurrency 16 --rate 500

It creates a fresh database (the DATABASE_URL name + "_bench"), migrates it, starts gunicorn
(config.wsgi) and a Celery worker, sends a load to /healthz/ with bounded concurrency at the
offered rate (0 = as fast as the server answers), then the same load of N unique signed
events on the same connections, and prints ack latency p50/p95/p99, both throughputs and
their ratio, and how long after the last ack every event was processed. A local fake of
Meta's profile endpoint answers the profile fetches new conversations trigger. Everything it
started is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import runpy
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fake_graph import FakeGraph
from bench.figures import percentile
from bench.load import HEALTHZ, IG_ID, Phase, Senders, event_bodies, post_event
from bench.stack import (
    ROOT,
    bench_database_url,
    connections_per_process,
    database_cpu_seconds,
    drop_database,
    group_cpu_seconds,
    healthy,
    migrate_and_set_up,
    recreate_database,
    required_urls,
    server_env,
    start,
    stop,
    wait_for,
    web_command,
    worker_command,
)


class Run(NamedTuple):
    """What one run measured."""

    health: Phase
    intake: Phase
    split: list[int]  # the senders' connections per web process
    health_cpu: float  # gunicorn's CPU seconds over the /healthz/ load
    web_cpu: float  # gunicorn's, over the webhooks
    worker_cpu: float  # the worker's, from the webhooks' start until every event is processed
    database_cpu: float  # PostgreSQL's backends', over the same
    processed_after: float  # seconds from the last ack until every event was processed
    messages: int  # stored by the run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="N unique events")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent senders")
    parser.add_argument("--rate", type=float, default=500, help="offered events/s (0: max)")
    parser.add_argument("--port", type=int, default=18100)
    # A load that starts on an idle server is not yet its steady state: at 500/s the first
    # 0.1-0.4 s of webhooks were the slow ones (the lead's p99 51-80 ms, against 17-44 ms
    # afterwards), and in a 6 s run that moment was most of the slowest 1 %. Each load's
    # lead runs into its measured requests without a pause, so they meet a server at work;
    # its figures are printed too.
    parser.add_argument(
        "--lead", type=int, default=500, help="requests sent first and not measured"
    )
    # The defaults are the Procfile's and gunicorn.conf.py's, so the figures are those of
    # what ships. Threads overlap the waits on each commit's fsync as well as 8 sync workers
    # did, for less CPU per request (1.4-1.6 ms against 1.8-2.0 ms, measured), and a slow
    # disk needs 8 of them (gunicorn.conf.py). Two prefork processes keep the lag well under
    # a second; one leaves more CPU to gunicorn but lags 2-4 s at 500/s; a thread pool
    # cannot use the second core (7 s). The worker runs at a lower priority, so that acks go
    # first when the two share the cores: at 500/s its lag stays about 0.2 s and the ack p99
    # went from 52-53 ms to 32-41 ms (measured on a slow day).
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--web-threads",
        type=int,
        default=runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"],
        help="threads per worker",
    )
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--celery-pool", default="prefork", help="prefork, threads or solo")
    parser.add_argument("--worker-nice", type=int, default=10, help="the worker's niceness")
    parser.add_argument("--keep-db", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--slow-flush-ms",
        type=int,
        default=0,
        choices=range(101),
        metavar="MS",
        help="make each flush of PostgreSQL's log wait MS ms (0-100), as a slow disk does",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    database_url, redis_url = required_urls()
    bench_url, bench_name = bench_database_url(database_url)
    env = server_env(bench_url, redis_url, args.port)

    print(f"database {bench_name} (fresh), broker {redis_url}, port {args.port}")
    load_before = os.getloadavg()[0]
    recreate_database(database_url, bench_name, args.slow_flush_ms)
    migrate_and_set_up(env)
    profiles = FakeGraph(port=args.port + 50).start()  # for the fetches new conversations queue
    account_create(profiles.base_url)
    processes = processes_start(args, env)
    try:
        baseline = warm_up(args)
        web, worker = (process.pid for process in processes)
        run = measure(args, web, worker, bench_name, baseline)
    finally:
        stop(*processes)
        profiles.stop()
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(database_url, bench_name)
    report(args, run, load_before)


def account_create(graph_api_url: str) -> None:
    """The account the events are for, its Graph API at `graph_api_url`; and a broker with
    nothing left over from an earlier run in its db."""
    from accounts.models import InstagramAccount
    from config.celery import app

    app.control.purge()
    account = InstagramAccount(ig_id=IG_ID, username="bench", graph_api_url=graph_api_url)
    account.access_token = "IGAAbenchtoken0000000000000000"
    account.save()


def processes_start(args: argparse.Namespace, env: dict[str, str]) -> list[subprocess.Popen]:
    """gunicorn and a Celery worker, as the Procfile runs them; their logs in var/bench/."""
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    web = web_command(args.port, args.web_workers, args.web_threads)
    worker = worker_command(args.celery_pool, args.celery_concurrency, args.worker_nice)
    return [start(web, env, logs / "gunicorn.log"), start(worker, env, logs / "celery.log")]


def processed() -> int:
    from inbox.models import WebhookEvent

    return WebhookEvent.objects.filter(state="processed").count()


def warm_up(args: argparse.Namespace) -> int:
    """Once gunicorn answers, a few events through the whole path; returns how many."""
    wait_for(lambda: healthy(args.port), 60, "gunicorn")
    warm = event_bodies(args.concurrency * 2, "warmup")
    with Senders(args.port, [[post_event(b) for b in warm]], args.concurrency, 0) as senders:
        senders.run(0)
    wait_for(lambda: processed() == len(warm), 60, "the worker")
    return len(warm)


def measure(args: argparse.Namespace, web: int, worker: int, bench_name: str, baseline: int) -> Run:
    """The /healthz/ load, then the webhooks', and the wait until every event is processed.
    `web` and `worker` are the process groups of gunicorn and the Celery worker."""
    from inbox.models import Message

    # /healthz/ first, then the webhooks right after it on the same connections: the
    # worker's processing, which follows the webhooks, then costs /healthz/ nothing.
    sent = args.lead + args.events
    loads = [[HEALTHZ] * sent, [post_event(b) for b in event_bodies(sent, "run")]]
    with Senders(args.port, loads, args.concurrency, args.rate, args.lead) as senders:
        split = connections_per_process(web, args.port)
        health_cpu = group_cpu_seconds(web)
        health = senders.run(0)
        health_cpu = group_cpu_seconds(web) - health_cpu
        web_cpu, worker_cpu = group_cpu_seconds(web), group_cpu_seconds(worker)
        database_cpu = database_cpu_seconds(bench_name)
        intake = senders.run(1)
        web_cpu = group_cpu_seconds(web) - web_cpu
    wait_for(lambda: processed() >= baseline + sent, 300, "every event to be processed")
    processed_after = time.monotonic() - intake.last_ack
    worker_cpu = group_cpu_seconds(worker) - worker_cpu
    database_cpu = database_cpu_seconds(bench_name) - database_cpu
    messages = Message.objects.filter(mid__startswith="bench-run").count()
    return Run(
        health,
        intake,
        split,
        health_cpu,
        web_cpu,
        worker_cpu,
        database_cpu,
        processed_after,
        messages,
    )


def report(args: argparse.Namespace, run: Run, load_before: float) -> None:
    """The set-up, the acks' latencies and throughputs, then what each event cost."""
    health, intake = run.health, run.intake
    intake_rps = args.events / intake.elapsed
    health_rps = args.events / health.elapsed
    latencies = intake.latencies
    ms = 1000
    print(
        f"offered: {args.rate or 'max'} events/s, {args.events} events after a lead of "
        f"{args.lead}, "
        f"{args.concurrency} senders, gunicorn {args.web_workers}x{args.web_threads} "
        f"(the senders' connections per web process: {' + '.join(map(str, run.split))}), "
        f"celery --pool {args.celery_pool} -c {args.celery_concurrency} at nice "
        f"{args.worker_nice}, {os.cpu_count()} CPUs, "
        + (f"each log flush slowed by {args.slow_flush_ms} ms, " if args.slow_flush_ms else "")
        + f"load average {load_before:.1f} before the run (a busy machine skews every figure)"
    )
    print(
        f"intake ack latency: p50 {percentile(latencies, 50) * ms:.1f} ms, "
        f"p95 {percentile(latencies, 95) * ms:.1f} ms, "
        f"p99 {percentile(latencies, 99) * ms:.1f} ms, "
        f"mean {statistics.fmean(latencies) * ms:.1f} ms; {intake.failures} not 200"
    )
    if args.lead:
        print(
            f"lead (not measured) ack p99: intake "
            f"{percentile(intake.lead_latencies, 99) * ms:.1f} ms, healthz "
            f"{percentile(health.lead_latencies, 99) * ms:.1f} ms; with the lead counted, "
            f"intake p99 {percentile(latencies + intake.lead_latencies, 99) * ms:.1f} ms"
        )
    print(f"intake throughput: {intake_rps:.0f} events/s")
    print(
        f"healthz throughput: {health_rps:.0f} requests/s "
        f"(p99 {percentile(health.latencies, 99) * ms:.1f} ms; {health.failures} not 200)"
    )
    print(f"intake / healthz: {intake_rps / health_rps:.2f}")
    report_cost(args, run)


def report_cost(args: argparse.Namespace, run: Run) -> None:
    web_cpu, health_cpu, database_cpu = run.web_cpu, run.health_cpu, run.database_cpu
    sent, ms = args.lead + args.events, 1000
    per = ms / sent  # the lead's requests cost the same: every request counts here
    print(
        f"CPU per request in gunicorn: intake {web_cpu * per:.2f} ms, healthz "
        f"{health_cpu * per:.2f} ms (ratio {health_cpu / max(web_cpu, 1e-9):.2f}); "
        f"in the worker: {run.worker_cpu * per:.2f} ms per event"
    )
    database = f"{database_cpu * per:.2f} ms" if database_cpu else "not visible from here"
    print(
        f"CPU per event elsewhere: PostgreSQL backends {database} (webhook and worker), "
        f"this load generator {run.intake.sender_cpu * per:.2f} ms; Redis not counted"
    )
    print(
        f"all {sent} processed {run.processed_after:.2f} s after the last ack "
        f"({run.messages} messages stored)"
    )


if __name__ == "__main__":
    main()
