"""History sync benchmark: one account's 500 conversations x 20 messages read from a local fake
of the Conversations API that answers at once (`bench/fake_graph.py`), stored in a fresh
database.

    DEBUG=true python bench/history.py [--conversations 500] [--messages 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inbox REDIS_URL=redis://127.0.0.1:6379/1 \\
        DEBUG=true python bench/history.py

Three syncs, each of its own account:
- paced: the product as it runs, at most 2 calls a second per account (the bucket in Redis
  with REDIS_URL, in this process without). Prints the time it took against its floor (the
  time the pacing alone needs for that many calls), and the calls per second measured over
  every 1-second window (the most in any window must be ≤ 2).
- unpaced: the same sync with the gate open, so what is left is our own work (Python and the
  database) per message.
- again: the unpaced account synced a second time, when everything is already stored (what
  a reconciliation costs per conversation it reads).
For each: database statements per message stored (counted with `connection.execute_wrapper`)
and the time spent in them. The database is a fresh test database (`test_` + the
DATABASE_URL name, dropped after; SQLite in memory without DATABASE_URL). Profile fetches
the sync queues for a worker are counted, not run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from bench.fake_graph import FakeGraph, FakeHistory  # noqa: E402

IG_ID = "17841400000000777"


@dataclass
class Run:
    name: str
    seconds: float
    calls: list[float]  # arrival times at the fake
    conversations: int
    read: int
    stored: int
    statements: int
    db_seconds: float

    @property
    def most_in_a_second(self) -> int:
        """The most calls in any 1-second window [t, t + 1) that starts at a call."""
        times = sorted(self.calls)
        most, first = 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most


class Statements:
    """Counts the database's statements and the time spent in them."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--messages", type=int, default=20, help="per conversation")
    parser.add_argument("--skip-paced", action="store_true", help="only the unpaced runs")
    return parser.parse_args()


@contextmanager
def fresh_database() -> Iterator[str]:
    old_name = connection.settings_dict["NAME"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield f"{connection.vendor} ({name})"
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def account_create(n: int, graph: FakeGraph) -> Any:
    from accounts.models import InstagramAccount

    account = InstagramAccount(
        ig_id=f"{IG_ID}{n}",
        username=f"bench_shop_{n}",
        graph_api_url=graph.base_url,
        source=InstagramAccount.Source.ENV,
    )
    account.access_token = "IGAAbenchtoken0000000000000000"
    account.save()
    return account


def sync(name: str, account: Any, graph: FakeGraph) -> Run:
    from inbox.history.sync import history_sync

    graph.reset()
    statements = Statements()
    started = time.perf_counter()
    with connection.execute_wrapper(statements):
        result = history_sync(account_id=account.pk)
    seconds = time.perf_counter() - started
    if result.failed or result.skipped:
        sys.exit(f"{name}: the sync did not finish: {result}")
    return Run(
        name=name,
        seconds=seconds,
        calls=[c.at for c in graph.calls_for("history")],
        conversations=result.conversations,
        read=result.messages_read,
        stored=result.messages_stored,
        statements=statements.count,
        db_seconds=statements.seconds,
    )


@contextmanager
def gate_open() -> Iterator[None]:
    from inbox.history import sync as sync_module

    real = sync_module.gate_wait
    sync_module.gate_wait = lambda **kw: None
    try:
        yield
    finally:
        sync_module.gate_wait = real


@contextmanager
def profiles_counted() -> Iterator[list[int]]:
    """Profile fetches go to a worker: counted here, not run."""
    from inbox.services import profiles

    queued: list[int] = []
    real = profiles.task_queue
    profiles.task_queue = lambda name, *args, **kw: bool(queued.append(1)) or True
    try:
        yield queued
    finally:
        profiles.task_queue = real


def main() -> None:
    args = parse_args()
    from inbox.outbound.pacing import history_bucket

    history = FakeHistory(ig_id="", conversations=args.conversations, messages=args.messages)
    with (
        FakeGraph(history=history) as graph,
        fresh_database() as database,
        profiles_counted() as profiles,
    ):
        runs = []
        if not args.skip_paced:
            paced = account_create(1, graph)
            history.ig_id = paced.ig_id
            runs.append(sync("paced", paced, graph))
        unpaced = account_create(2, graph)
        history.ig_id = unpaced.ig_id
        with gate_open():
            runs.append(sync("unpaced", unpaced, graph))
            runs.append(sync("again", unpaced, graph))
        rate = history_bucket(account_id=unpaced.pk).rate
        report(args, runs, database=database, rate=rate, profiles=len(profiles))


def report(
    args: argparse.Namespace, runs: list[Run], *, database: str, rate: float, profiles: int
) -> None:
    limiter = "Redis" if settings.REDIS_URL else "this process"
    print(
        f"History sync: {args.conversations} conversations x {args.messages} messages "
        f"(Meta gives the 20 newest), database {database}, bucket in {limiter} "
        f"at {rate:.2f} calls/s (Meta's limit: 2/s)"
    )
    header = (
        "run",
        "time s",
        "floor s",
        "ratio",
        "calls",
        "max/1s",
        "mean/s",
        "stored",
        "read",
        "stmts/stored",
        "stmts/conv",
        "db ms/msg",
        "own ms/msg",
    )
    print(" | ".join(header))
    for run in runs:
        calls = len(run.calls)
        floor = (calls - 1) / rate if run.name == "paced" and calls > 1 else 0.0
        span = (max(run.calls) - min(run.calls)) if calls > 1 else 0.0
        per = run.stored or run.read
        print(
            " | ".join(
                [
                    run.name,
                    f"{run.seconds:.1f}",
                    f"{floor:.1f}" if floor else "-",
                    f"{run.seconds / floor:.3f}" if floor else "-",
                    str(calls),
                    str(run.most_in_a_second),
                    f"{(calls - 1) / span:.2f}" if span else "-",
                    str(run.stored),
                    str(run.read),
                    f"{run.statements / run.stored:.1f}" if run.stored else "-",
                    f"{run.statements / max(run.conversations, 1):.1f}",
                    f"{1000 * run.db_seconds / per:.2f}" if per else "-",
                    f"{1000 * run.seconds / per:.2f}" if per and run.name != "paced" else "-",
                ]
            )
        )
    paced = next((r for r in runs if r.name == "paced"), None)
    if paced is not None:
        verdict = "met" if paced.most_in_a_second <= 2 else "NOT MET"
        print(f"At most 2 calls in any 1-second window: {verdict} ({paced.most_in_a_second}).")
    print(f"Profile fetches queued for a worker (not run here): {profiles}.")


if __name__ == "__main__":
    main()
