"""What the benchmarks start and measure: a fresh PostgreSQL database, the product's
processes (gunicorn, Celery workers) in process groups of their own, and the CPU time each
group and the database's backends spend."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.load import HEALTHZ, SECRET, Connection

ROOT = Path(__file__).resolve().parent.parent


def required_urls() -> tuple[str, str]:
    """DATABASE_URL and REDIS_URL, which every benchmark that starts the product needs."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url or not redis_url:
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL.")
    return database_url, redis_url


# --- the database ----------------------------------------------------------------------
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


def migrate_and_set_up(env: dict[str, str]) -> None:
    """Migrate the database of `env`, then set Django up in this process against it."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    import django

    django.setup()


# --- processes -------------------------------------------------------------------------
def web_command(port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]


def worker_command(pool: str, concurrency: int, nice: int = 0, name: str = "") -> list[str]:
    """A Celery worker of the product, at niceness `nice`, named `name` (Celery's default
    when empty)."""
    return [
        *(["nice", "-n", str(nice)] if nice else []),
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-l",
        "warning",
        "-c",
        str(concurrency),
        "--pool",
        pool,
        *(["-n", name] if name else []),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def start(cmd: list[str], env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    """`cmd` in a process group of its own (`stop` ends the whole group), its output to
    `log`, or to this process's when there is none."""
    handle = log.open("wb") if log is not None else None
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT if handle is not None else None,
        start_new_session=True,
    )


def stop(*processes: subprocess.Popen) -> None:
    """SIGTERM to each one's process group, all at once; a SIGKILL to a group whose leader
    has not ended 15 s later."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


# --- CPU accounting --------------------------------------------------------------------
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


# --- waiting ---------------------------------------------------------------------------
def wait_for(check: Callable[[], bool], timeout: float, what: str, every: float = 0.02) -> None:
    """Until `check()` holds, looking every `every` s; a RuntimeError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise RuntimeError(f"timed out waiting for {what}")


def healthy(port: int) -> bool:
    conn = Connection(port, timeout=2)
    try:
        return conn.exchange(HEALTHZ) == 200
    except (OSError, ValueError, KeyError, IndexError):
        return False
    finally:
        conn.close()
