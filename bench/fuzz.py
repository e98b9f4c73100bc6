"""Webhook fuzzing: N signed random bodies against a live server; no answer may be a 5xx.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inbox_fuzz \\
        REDIS_URL=redis://127.0.0.1:6379/12 python bench/fuzz.py --bodies 10000

It creates a fresh database (the DATABASE_URL name + "_bench"), starts gunicorn and a Celery
worker as the intake benchmark does, posts N bodies signed with the app secret (a fixed
seed: the same N bodies every run), waits until the worker has settled every event, and
prints the answers by status, the events by state and the worker's failures (events in
state failed, tracebacks in its log). The bodies are Meta's own payloads (the test
fixtures) with random items and fields of random types, random JSON of any shape, huge
strings, NUL and lone surrogates as escapes, numbers as strings, missing fields, deep-ish
nesting, and a few bodies that are not JSON at all (those must be 400). Every body that got
a 5xx is saved under var/fuzz/ to replay. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fake_graph import FakeGraph
from bench.load import IG_ID, Connection, post_event
from bench.stack import (
    ROOT,
    bench_database_url,
    drop_database,
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

FIXTURES = ROOT / "tests" / "fixtures" / "webhooks"
FIXTURE_IG_ID = "17841400000000001"  # the account of the fixtures, replaced by the bench's
LOGS = ROOT / "var" / "fuzz"
LIMIT = 5 * 2**20  # DATA_UPLOAD_MAX_MEMORY_SIZE
# Characters a database or an encoder may refuse, and others that make text awkward.
NASTY = ["\x00", "\ud800", "\udfff", "\udc00x", "\x07", "\u202e", "\ufeff", "\U0001f600", "é"]
FIELDS = ["mid", "text", "id", "timestamp", "attachments", "url", "payload", "type", "emoji"]


class Bodies:
    """The random bodies of one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.templates = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]

    def make(self, index: int) -> bytes:
        """Body `index` of the seed, the same whoever makes it and in whichever order."""
        self.rng = rng = random.Random(f"{self.seed}-{index}")
        kind = rng.choices(
            ["meta", "mutated", "any", "deep", "huge", "not_json"], [32, 36, 15, 8, 4, 5]
        )[0]
        if kind == "not_json":
            return self.not_json()
        if kind == "meta":
            payload: Any = self.envelope(index)
        elif kind == "mutated":
            payload = self.mutate(json.loads(json.dumps(rng.choice(self.templates))), index)
        elif kind == "any":
            payload = self.value(0)
        elif kind == "deep":
            payload = self.deep(rng.randint(10, 70))
        else:
            length = rng.choice([20_000, 200_000, 1_000_000, 1_400_000])  # the last > 5 MB
            payload = self.envelope(index, text=self.string(length))
        return self.dumps(payload)

    def dumps(self, payload: Any) -> bytes:
        """JSON bytes: escaped ASCII or raw UTF-8 (where a lone surrogate cannot go raw)."""
        if self.rng.random() < 0.5:
            return json.dumps(payload).encode()
        text = json.dumps(payload, ensure_ascii=False)
        return text.encode("utf-8", "backslashreplace" if self.rng.random() < 0.5 else "replace")

    # --- shapes ---------------------------------------------------------------------
    def envelope(self, index: int, text: str | None = None) -> dict[str, Any]:
        rng = self.rng
        items = [self.item(index, n, text) for n in range(rng.choice([0, 1, 1, 1, 2, 5]))]
        entry: dict[str, Any] = {
            "id": rng.choice([IG_ID, IG_ID, IG_ID, self.number_or_string(), self.value(3)]),
            "time": self.number_or_string(),
            rng.choice(["messaging", "messaging", "standby", "changes"]): items,
        }
        self.drop_some(entry)
        envelope = {
            "object": rng.choice(["instagram"] * 4 + ["page", self.value(3)]),
            "entry": [entry],
        }
        self.drop_some(envelope, 0.05)
        return envelope

    def item(self, index: int, n: int, text: str | None) -> dict[str, Any]:
        rng = self.rng
        customer = rng.choice([f"6{index % 97:015d}", self.number_or_string(), self.value(3)])
        item: dict[str, Any] = {
            "sender": {"id": customer},
            "recipient": {"id": IG_ID},
            "timestamp": self.number_or_string(),
        }
        kind = rng.choice(
            [
                "message",
                "reaction",
                "read",
                "postback",
                "referral",
                "optin",
                "message_edit",
                "field",
                self.string(8),
            ]
        )
        body = {
            "mid": rng.choice([f"fuzz-{index}-{n}", self.value(2), f"fuzz-{index % 50}"]),
            "text": text if text is not None else self.string(rng.randint(0, 300)),
        }
        for name in rng.sample(FIELDS, rng.randint(0, 4)):
            body[name] = self.value(2)
        item[kind] = rng.choice([body, body, body, self.value(2)])
        if kind == "field":
            item["value"] = self.value(1)
        self.drop_some(item)
        return item

    def mutate(self, node: Any, index: int, depth: int = 0) -> Any:
        """A fixture with some of its values replaced, removed or re-typed."""
        rng = self.rng
        if isinstance(node, dict):
            for key in list(node):
                roll = rng.random()
                if roll < 0.08:
                    del node[key]
                elif roll < 0.2:
                    node[key] = self.value(depth + 1)
                elif key in ("id",) and isinstance(node[key], str):
                    node[key] = node[key].replace(FIXTURE_IG_ID, IG_ID)
                elif key == "mid":
                    node[key] = f"fuzz-{index}-{rng.randint(0, 3)}"
                else:
                    node[key] = self.mutate(node[key], index, depth + 1)
            if rng.random() < 0.1:
                node[self.string(6)] = self.value(depth + 1)
            return node
        if isinstance(node, list):
            return [self.mutate(child, index, depth + 1) for child in node] * rng.choice([1, 1, 2])
        if isinstance(node, str) and rng.random() < 0.2:
            return node.replace(FIXTURE_IG_ID, IG_ID) + rng.choice(NASTY)
        return node.replace(FIXTURE_IG_ID, IG_ID) if isinstance(node, str) else node

    def value(self, depth: int) -> Any:
        rng = self.rng
        leaf = depth > 4 or rng.random() < 0.6
        kind = rng.choice(
            ["str", "int", "float", "bool", "null", "numstr"] if leaf else ["list", "dict"]
        )
        if kind == "str":
            return self.string(rng.choice([0, 1, 5, 40, 2000]))
        if kind == "int":
            return rng.choice([0, -1, 2**63, -(2**64), 10**30, rng.randint(-(10**18), 10**18)])
        if kind == "float":
            return rng.choice([0.5, -1e308, 1e308, 1.7e9, float("nan"), float("inf"), 1e-320])
        if kind == "bool":
            return rng.random() < 0.5
        if kind == "null":
            return None
        if kind == "numstr":
            return self.number_or_string()
        if kind == "list":
            return [self.value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {
            self.string(rng.randint(0, 8)): self.value(depth + 1) for _ in range(rng.randint(0, 4))
        }

    def number_or_string(self) -> Any:
        rng = self.rng
        number = rng.choice([1760000000000, 1760000000, 0, -5, 10**20, 253402300800000])
        return rng.choice([number, str(number), f" {number} ", f"{number}.5", "1e400", "", "x"])

    def string(self, length: int) -> str:
        rng = self.rng
        if length > 5000:
            return rng.choice("ab\u00e9\U0001f600") * length
        chars = [rng.choice("abcxyz 0123\u00e9\u0645") for _ in range(length)]
        for _ in range(rng.randint(0, 3) if length else 0):
            chars.insert(rng.randint(0, len(chars)), rng.choice(NASTY))
        return "".join(chars)

    def deep(self, levels: int) -> Any:
        node: Any = self.string(3)
        for _ in range(levels):
            node = [node] if self.rng.random() < 0.5 else {"message": node}
        return {"object": "instagram", "entry": [{"id": IG_ID, "messaging": [node]}]}

    def drop_some(self, node: dict[str, Any], chance: float = 0.1) -> None:
        for key in list(node):
            if self.rng.random() < chance:
                del node[key]

    def not_json(self) -> bytes:
        return self.rng.choice(
            [
                b"",
                b"{",
                b"not json",
                b'{"object": "instagram"',
                b"\xff\xfe{}",
                b'"\xed\xa0\x80"',
                b"[" * 5000,
                b"1" * 5000,
                b"{}" + b"\x00",
            ]
        )


# --- sending ----------------------------------------------------------------------------
# Each sender process's own: the bodies' maker, and its keep-alive connection.
_sender: tuple[Bodies, Connection] | None = None


def _sender_start(seed: int, port: int) -> None:
    global _sender
    _sender = (Bodies(seed), Connection(port, timeout=60))


def _exchange(index: int) -> tuple[int, int, int]:
    """Body `index` posted: (index, status, its length). A body answered 5xx, or not at
    all, is saved to replay."""
    assert _sender is not None
    bodies, connection = _sender
    body = bodies.make(index)
    try:
        status = connection.exchange(post_event(body))
    except (OSError, ValueError, KeyError, IndexError):
        connection.close()
        status = 0
    if status >= 500 or status == 0:
        (LOGS / f"body-{index}-{status}.json").write_bytes(body)
    return index, status, len(body)


def post_all(count: int, seed: int, port: int, concurrency: int) -> list[tuple[int, int, int]]:
    """Every body's status, sent by `concurrency` processes over keep-alive connections
    (each makes the bodies it sends: ten thousand bodies with huge strings among them do
    not fit in memory at once)."""
    context = multiprocessing.get_context("fork")
    with context.Pool(concurrency, _sender_start, (seed, port)) as pool:
        return list(pool.imap_unordered(_exchange, range(count), chunksize=4))


# --- the run ----------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bodies", type=int, default=1000, help="N random bodies")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent senders")
    parser.add_argument("--port", type=int, default=18145)
    parser.add_argument("--keep-db", action="store_true", help="keep the fuzz database")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    database_url, redis_url = required_urls()
    bench_url, bench_name = bench_database_url(database_url)
    env = server_env(bench_url, redis_url, args.port)
    print(
        f"database {bench_name} (fresh), broker {redis_url}, {args.bodies} bodies, seed {args.seed}"
    )
    recreate_database(database_url, bench_name)
    migrate_and_set_up(env)
    profiles = FakeGraph(port=args.port + 50).start()
    account_create(profiles.base_url)
    LOGS.mkdir(parents=True, exist_ok=True)
    for old in LOGS.glob("body-*.json"):
        old.unlink()
    web = start(web_command(args.port, 2, 8), env, LOGS / "gunicorn.log")
    worker = start(worker_command("prefork", 2), env, LOGS / "celery.log")
    try:
        wait_for(lambda: healthy(args.port), 60, "gunicorn")
        began = time.monotonic()
        answers = post_all(args.bodies, args.seed, args.port, args.concurrency)
        sent_in = time.monotonic() - began
        settled_in = settle(600)
        failures = report(answers, sent_in, settled_in)
    finally:
        stop(web, worker)
        profiles.stop()
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(database_url, bench_name)
    sys.exit(1 if failures else 0)


def account_create(graph_api_url: str) -> None:
    from accounts.models import InstagramAccount
    from config.celery import app

    app.control.purge()
    account = InstagramAccount(ig_id=IG_ID, username="fuzz", graph_api_url=graph_api_url)
    account.access_token = "IGAAfuzztoken00000000000000000"
    account.save()


def settle(timeout: float) -> float:
    """Seconds until no event is waiting for the worker (or `timeout`)."""
    from django.db.models import Q

    from inbox.models import WebhookEvent

    began = time.monotonic()
    # Fresh, or in a worker's hands; not those waiting for a message that never came (a
    # reaction to an unknown mid, say), whose retries back off for minutes.
    waiting = WebhookEvent.objects.filter(Q(state="pending", attempts=0) | Q(state="processing"))
    try:
        wait_for(lambda: not waiting.exists(), timeout, "the worker", every=0.5)
    except RuntimeError as e:
        print(e)
    return time.monotonic() - began


def report(answers: list[tuple[int, int, int]], sent_in: float, settled_in: float) -> int:
    """Prints the figures; returns how many failures (5xx, lost answers, failed events,
    tracebacks) there were."""
    from django.db.models import Count

    from inbox.models import WebhookEvent

    by_status = collections.Counter(status for _, status, _ in answers)
    megabytes = sum(length for _, _, length in answers) / 1e6
    print(
        f"answers in {sent_in:.1f} s ({megabytes:.0f} MB): "
        + ", ".join(f"{status}: {n}" for status, n in sorted(by_status.items()))
    )
    # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE before reading it, and the
    # connection closes under the sender's feet: no answer, but not a failure.
    too_big = [index for index, status, length in answers if status == 0 and length > LIMIT]
    if too_big:
        print(
            f"  of the no answers, {len(too_big)} bodies over {LIMIT // 2**20} MB (refused unread)"
        )
    bad = sorted(
        index
        for index, status, length in answers
        if status >= 500 or (status == 0 and length <= LIMIT)
    )
    if bad:
        print(f"5xx or no answer: bodies {bad[:20]}, saved in {LOGS.relative_to(ROOT)}/")
    states = WebhookEvent.objects.values_list("state").annotate(n=Count("id")).order_by("state")
    print(f"events after {settled_in:.1f} s: " + ", ".join(f"{s}: {n}" for s, n in states))
    retried = WebhookEvent.objects.filter(attempts__gt=1).count()
    failed = list(WebhookEvent.objects.filter(state="failed").values_list("id", "last_error")[:10])
    for event_id, error in failed:
        print(f"  failed event {event_id}: {error[:300]}")
    tracebacks = tracebacks_in(LOGS / "celery.log")
    # Django logs a refused oversized body with its traceback (django.security, a 400).
    web = [t for t in tracebacks_in(LOGS / "gunicorn.log") if "RequestDataTooBig" not in t]
    print(
        f"events retried: {retried}; tracebacks: worker {len(tracebacks)}, web {len(web)} "
        "(besides Django's own for the bodies over the limit)"
    )
    for excerpt in (tracebacks + web)[:5]:
        print("  " + excerpt.replace("\n", "\n  "))
    failed_count = WebhookEvent.objects.filter(state="failed").count()
    return len(bad) + failed_count + len(tracebacks) + len(web)


def tracebacks_in(log: Path) -> list[str]:
    """Each traceback of a log, by its last lines (the error and where it was raised)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    blocks = re.findall(r"Traceback \(most recent call last\):\n(?:[ \t].*\n)+.*", text)
    return ["\n".join(block.splitlines()[-3:]) for block in blocks]


if __name__ == "__main__":
    main()
