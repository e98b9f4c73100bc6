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
import contextlib
import json
import multiprocessing
import os
import runpy
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from instagram.signature import sign  # noqa: E402

SECRET = "bench-app-secret"
IG_ID = "17841400000099999"
CUSTOMERS = 50


# --- setup -----------------------------------------------------------------------------
def bench_database_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL.")
    name = parts.path.lstrip("/") or "inbox"
    if not name.endswith("_bench"):
        name += "_bench"
    return urlunsplit(parts._replace(path=f"/{name}")), name


def recreate_database(url: str, name: str, slow_flush_ms: int = 0) -> None:
    """A fresh, empty database. `slow_flush_ms`: every commit's flush of the write-ahead log
    in it waits that long first, as on a slow disk. (`commit_delay` holds the lock on the
    log's writing while it sleeps, so the commits that arrive meanwhile wait and then share
    one flush, as they do behind a slow fsync; `commit_siblings = 0` applies it to every
    commit, not only under a crowd of open transactions. Both need a superuser.)"""
    import psycopg

    admin = urlsplit(url)._replace(path="/postgres")
    with psycopg.connect(urlunsplit(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        if slow_flush_ms:
            conn.execute(f'ALTER DATABASE "{name}" SET commit_delay = {slow_flush_ms * 1000}')
            conn.execute(f'ALTER DATABASE "{name}" SET commit_siblings = 0')


def drop_database(url: str, name: str) -> None:
    import psycopg

    admin = urlsplit(url)._replace(path="/postgres")
    with psycopg.connect(urlunsplit(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(database_url: str, redis_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "CELERY"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="false",
        SECRET_KEY="bench-secret-key",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        TOKEN_ENCRYPTION_KEYS="YmVuY2gta2V5LW5vdC1mb3ItcHJvZHVjdGlvbi11c2U=",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        INSTAGRAM_CLIENT_SECRET=SECRET,
        INSTAGRAM_WEBHOOK_VERIFY_TOKEN="bench-verify",
        SITE_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    for name in ("INSTAGRAM_ACCESS_TOKEN", "INSTAGRAM_USER_ID", "INSTAGRAM_API_URL"):
        env.pop(name, None)
    env.pop("INSTAGRAM_ACCOUNT_ID", None)
    return env


class FakeProfiles(BaseHTTPRequestHandler):
    """Meta's User Profile API, for the fetches new conversations queue."""

    def do_GET(self) -> None:
        igsid = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        body = json.dumps({"name": f"Customer {igsid[-4:]}", "username": f"c{igsid}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


# --- load ------------------------------------------------------------------------------
def event_bodies(count: int, tag: str) -> list[bytes]:
    base_ms = int(time.time() * 1000)
    bodies = []
    for i in range(count):
        customer = f"90000000000{i % CUSTOMERS:05d}"
        payload = {
            "object": "instagram",
            "entry": [
                {
                    "id": IG_ID,
                    "time": base_ms + i,
                    "messaging": [
                        {
                            "sender": {"id": customer},
                            "recipient": {"id": IG_ID},
                            "timestamp": base_ms + i,
                            "message": {"mid": f"bench-{tag}-{i}", "text": f"Bench message {i}"},
                        }
                    ],
                }
            ],
        }
        bodies.append(json.dumps(payload).encode())
    return bodies


class Connection:
    """One sender's keep-alive HTTP/1.1 connection, as lean as a client can be: requests are
    built before the run and responses are read just far enough for their status. The
    senders share the server's two cores, so what they spend is taken from what is measured
    (http.client cost about 0.5 ms of CPU per request; this, about a third of that)."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.address, self.timeout = ("127.0.0.1", port), timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def exchange(self, request: bytes) -> int:
        """Send a request and read its response; returns the status."""
        if self.sock is None:
            self.connect()
        assert self.sock is not None
        self.sock.sendall(request)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._receive()
        head, self.buffer = self.buffer[:end].split(b"\r\n"), self.buffer[end + 4 :]
        fields = {
            name.strip().lower(): value.strip().lower()
            for name, _, value in (line.partition(b":") for line in head[1:])
        }
        length = int(fields[b"content-length"])  # gunicorn sends it for Django's responses
        while len(self.buffer) < length:
            self._receive()
        self.buffer = self.buffer[length:]
        if fields.get(b"connection") == b"close":
            self.close()
        return int(head[0].split(b" ", 2)[1])

    def connect(self) -> None:
        self.sock = socket.create_connection(self.address, timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _receive(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""


def http_request(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return "\r\n".join([*lines, "", ""]).encode() + body


def post_event(body: bytes) -> bytes:
    return http_request(
        "POST",
        "/webhooks/instagram/",
        body,
        Content_Type="application/json",
        X_Hub_Signature_256=sign(body, SECRET),
    )


HEALTHZ = http_request("GET", "/healthz/")


class Phase(NamedTuple):
    latencies: list[float]  # of the measured requests (s)
    elapsed: float  # from the first measured request's start to the last ack (s)
    last_ack: float  # monotonic time
    failures: int  # not 200, of every request sent, the lead's too
    lead_latencies: list[float]
    sender_cpu: float  # the senders' CPU time (s)


class Senders:
    """`concurrency` sender processes, each with one keep-alive connection that it keeps
    through every phase, so that the loads compared meet the same spread of connections over
    gunicorn's workers (see `connections_per_process`). In a phase, request i is sent not
    before start + i/rate; the first `lead` requests bring the server from idle to a steady
    load and are not measured.

    Each sender is a process of its own, as Meta's are separate machines: threads of one
    process would wait for each other's turn at the interpreter lock between a response's
    arrival and its timing, which a busy server makes worse, and count that wait as server
    latency. The clock is the system's monotonic one, shared by the processes. A phase starts
    once every sender is forked, connected and waiting: a sender that started late would
    otherwise catch up on its schedule in a burst."""

    def __init__(
        self, port: int, phases: list[list[bytes]], concurrency: int, rate: float, lead: int = 0
    ) -> None:
        context = multiprocessing.get_context("fork")  # senders inherit `phases` as they are
        self.phases, self.rate, self.lead = phases, rate, lead
        self.next_index = [context.Value("q", 0) for _ in phases]
        self.start_at = [context.Value("d", 0.0) for _ in phases]
        self.go = [context.Event() for _ in phases]
        self.results = context.Queue()
        self.ready = context.Barrier(concurrency + 1)
        self.processes = [
            context.Process(target=self._send, args=(port,), daemon=True)
            for _ in range(concurrency)
        ]

    def __enter__(self) -> Senders:
        for process in self.processes:
            process.start()
        self.ready.wait(timeout=60)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in self.processes:  # each ends after the last phase; or it is stopped
            process.join(timeout=5 if exc_info[0] is None else 0)
            if process.is_alive():
                process.terminate()
                process.join()

    def run(self, phase: int) -> Phase:
        self.start_at[phase].value = time.monotonic()
        self.go[phase].set()
        latencies: list[float] = []
        lead_latencies: list[float] = []
        first_began, last_ack, failures, cpu = float("inf"), 0.0, 0, 0.0
        for _ in self.processes:
            some, first, last, failed, some_lead, used = self.results.get()
            latencies += some
            lead_latencies += some_lead
            first_began, last_ack = min(first_began, first), max(last_ack, last)
            failures, cpu = failures + failed, cpu + used
        return Phase(latencies, last_ack - first_began, last_ack, failures, lead_latencies, cpu)

    def _send(self, port: int) -> None:
        conn = Connection(port)
        try:
            conn.connect()
        except OSError:
            conn.close()  # counted as a failure at its first request
        self.ready.wait(timeout=60)
        for phase, requests in enumerate(self.phases):
            self.go[phase].wait()
            self.results.put(self._send_phase(conn, phase, requests))
        conn.close()

    def _send_phase(
        self, conn: Connection, phase: int, requests: list[bytes]
    ) -> tuple[list[float], float, float, int, list[float], float]:
        """This sender's share of a phase: (latencies, first measured start, last ack,
        failures, the lead's latencies, CPU seconds)."""
        cpu = time.process_time()
        start, next_index = self.start_at[phase].value, self.next_index[phase]
        latencies: list[float] = []
        lead_latencies: list[float] = []
        failures = 0
        first_began, last_ack = float("inf"), 0.0
        while True:
            with next_index.get_lock():
                index = next_index.value
                next_index.value += 1
            if index >= len(requests):
                break
            if self.rate > 0:
                delay = start + index / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            began = time.monotonic()
            try:
                status = conn.exchange(requests[index])
            except (OSError, ValueError, KeyError, IndexError):
                conn.close()
                status = 0
            done = time.monotonic()
            failures += status != 200
            if index < self.lead:
                lead_latencies.append(done - began)
                continue
            latencies.append(done - began)
            first_began, last_ack = min(first_began, began), max(last_ack, done)
        used = time.process_time() - cpu
        return latencies, first_began, last_ack, failures, lead_latencies, used


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --- processes -------------------------------------------------------------------------
def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def connections_per_process(pgid: int, port: int) -> list[int]:
    """How many established connections to `port` each process of group `pgid` holds, from
    /proc. gunicorn's workers race to accept, so the senders' connections are not spread
    evenly, and a keep-alive connection stays with its worker for the whole run."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()  # sl, local address, remote, state, ..., inode
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    established.add(f"socket:[{fields[9]}]")
    counts = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            held = sum(os.readlink(fd) in established for fd in (proc / "fd").iterdir())
        except OSError:
            continue
        if held:
            counts.append(held)
    return sorted(counts, reverse=True)


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of a process group, from /proc: a cost per request that a
    busy machine skews far less than throughput. Live processes count with the children
    they reaped, so a worker replaced during the run does not take its share with it."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, ...
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


def database_cpu_seconds(name: str) -> float:
    """CPU time of the PostgreSQL backends serving database `name` (when the server runs on
    this machine), but for this script's own: the web and worker's share of the database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own,) = cursor.fetchone()
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith("postgres: ") or f" {name} " not in title:
                continue
            if int(proc.name) == own:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def healthy(port: int) -> bool:
    conn = Connection(port, timeout=2)
    try:
        return conn.exchange(HEALTHZ) == 200
    except (OSError, ValueError, KeyError, IndexError):
        return False
    finally:
        conn.close()


def main() -> None:
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
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url or not redis_url:
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL.")
    bench_url, bench_name = bench_database_url(database_url)
    env = server_env(bench_url, redis_url, args.port)
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)

    print(f"database {bench_name} (fresh), broker {redis_url}, port {args.port}")
    load_before = os.getloadavg()[0]
    recreate_database(database_url, bench_name, args.slow_flush_ms)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    import django

    django.setup()
    from accounts.models import InstagramAccount
    from config.celery import app
    from inbox.models import Message, WebhookEvent

    app.control.purge()  # nothing left over from an earlier run in this broker db
    profiles = ThreadingHTTPServer(("127.0.0.1", args.port + 50), FakeProfiles)
    threading.Thread(target=profiles.serve_forever, daemon=True).start()
    account = InstagramAccount(
        ig_id=IG_ID, username="bench", graph_api_url=f"http://127.0.0.1:{args.port + 50}/v24.0"
    )
    account.access_token = "IGAAbenchtoken0000000000000000"
    account.save()

    web_cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "-b",
        f"127.0.0.1:{args.port}",
        "-w",
        str(args.web_workers),
        "--threads",
        str(args.web_threads),
        "--log-level",
        "warning",
    ]
    worker_cmd = [
        *(["nice", "-n", str(args.worker_nice)] if args.worker_nice else []),
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-l",
        "warning",
        "-c",
        str(args.celery_concurrency),
        "--pool",
        args.celery_pool,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    processes = [
        start(web_cmd, env, logs / "gunicorn.log"),
        start(worker_cmd, env, logs / "celery.log"),
    ]
    try:
        wait_for(lambda: healthy(args.port), 60, "gunicorn")
        warm = event_bodies(args.concurrency * 2, "warmup")
        with Senders(args.port, [[post_event(b) for b in warm]], args.concurrency, 0) as senders:
            senders.run(0)
        wait_for(
            lambda: WebhookEvent.objects.filter(state="processed").count() == len(warm),
            60,
            "the worker",
        )
        baseline = len(warm)

        # /healthz/ first, then the webhooks right after it on the same connections: the
        # worker's processing, which follows the webhooks, then costs /healthz/ nothing.
        sent = args.lead + args.events
        loads = [[HEALTHZ] * sent, [post_event(b) for b in event_bodies(sent, "run")]]
        web, worker = (process.pid for process in processes)
        with Senders(args.port, loads, args.concurrency, args.rate, args.lead) as senders:
            split = connections_per_process(web, args.port)
            health_cpu = group_cpu_seconds(web)
            health = senders.run(0)
            health_cpu = group_cpu_seconds(web) - health_cpu
            web_cpu, worker_cpu = group_cpu_seconds(web), group_cpu_seconds(worker)
            database_cpu = database_cpu_seconds(bench_name)
            intake = senders.run(1)
            web_cpu = group_cpu_seconds(web) - web_cpu
        wait_for(
            lambda: WebhookEvent.objects.filter(state="processed").count() >= baseline + sent,
            300,
            "every event to be processed",
        )
        processed_after = time.monotonic() - intake.last_ack
        worker_cpu = group_cpu_seconds(worker) - worker_cpu
        database_cpu = database_cpu_seconds(bench_name) - database_cpu
        messages = Message.objects.filter(mid__startswith="bench-run").count()
    finally:
        for process in processes:
            stop(process)
        profiles.shutdown()
        profiles.server_close()
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(database_url, bench_name)

    intake_rps = args.events / intake.elapsed
    health_rps = args.events / health.elapsed
    latencies = intake.latencies
    ms = 1000
    print(
        f"offered: {args.rate or 'max'} events/s, {args.events} events after a lead of "
        f"{args.lead}, "
        f"{args.concurrency} senders, gunicorn {args.web_workers}x{args.web_threads} "
        f"(the senders' connections per web process: {' + '.join(map(str, split))}), "
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
    per = ms / sent  # the lead's requests cost the same: every request counts here
    print(
        f"CPU per request in gunicorn: intake {web_cpu * per:.2f} ms, healthz "
        f"{health_cpu * per:.2f} ms (ratio {health_cpu / max(web_cpu, 1e-9):.2f}); "
        f"in the worker: {worker_cpu * per:.2f} ms per event"
    )
    database = f"{database_cpu * per:.2f} ms" if database_cpu else "not visible from here"
    print(
        f"CPU per event elsewhere: PostgreSQL backends {database} (webhook and worker), "
        f"this load generator {intake.sender_cpu * per:.2f} ms; Redis not counted"
    )
    print(
        f"all {sent} processed {processed_after:.2f} s after the last ack "
        f"({messages} messages stored)"
    )


if __name__ == "__main__":
    main()
