"""The webhook request's write: concurrent requests of one process share a statement, and
each still answers only once its own row is committed."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import DataError, OperationalError, connection

from inbox.intake import ledger as intake_ledger
from inbox.intake.ledger import LedgerRow, LedgerWriter, UnstorableError, ledger_insert_rows
from inbox.models import WebhookEvent
from tests.factories import AccountFactory
from tests.webhooks import IG_ID, message_item, post_signed, webhook_body

WAIT = 10  # seconds: only a broken writer waits this long


def row(mid: str, announced: list | None = None) -> LedgerRow:
    body = json.dumps(webhook_body(message_item(mid, f"text {mid}")))
    on_stored = announced.append if announced is not None else (lambda event_id: None)
    sha = hashlib.sha256(body.encode()).hexdigest()
    return LedgerRow(body, sha, "instagram", [IG_ID], on_stored)


class GatedStatements:
    """Stands in for the database: records each statement's rows, and holds the first one
    until `release()`, so that requests arriving meanwhile queue behind it."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.gate = threading.Event()
        self.next_id = 100

    def __call__(self, rows):
        if not self.groups:
            self.gate.wait(WAIT)
        self.groups.append([r.body_sha256 for r in rows])
        for r in rows:
            self.next_id += 1
            r.event_id = self.next_id

    def release(self) -> None:
        self.gate.set()


def wait_until(check) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def insert_queued(writer, rows, release):
    """The first row's insert in flight, the others queued behind it; then `release()`.
    Returns each insert's future, in the rows' order."""
    pool = ThreadPoolExecutor(len(rows))
    first = pool.submit(writer.insert, rows[0])
    wait_until(lambda: writer._in_flight and not writer._queue)  # it took its row: in flight
    rest = [pool.submit(writer.insert, r) for r in rows[1:]]
    wait_until(lambda: len(writer._queue) == len(rest))
    assert not any(future.done() for future in [first, *rest])
    release()
    pool.shutdown(wait=False)
    return [first, *rest]


@pytest.fixture
def statements(monkeypatch):
    fake = GatedStatements()
    monkeypatch.setattr(intake_ledger, "ledger_insert_rows", fake)
    monkeypatch.setattr(intake_ledger.transaction, "on_commit", lambda callback: callback())
    return fake


def test_requests_arriving_during_a_statement_share_the_next_one(statements):
    writer = LedgerWriter(patience=WAIT)
    announced: list[int] = []
    rows = [row(f"m-{n}", announced) for n in range(5)]  # four wait behind the first
    ids = [future.result(WAIT) for future in insert_queued(writer, rows, statements.release)]

    assert statements.groups == [[rows[0].body_sha256], [r.body_sha256 for r in rows[1:]]]
    assert ids == [101, 102, 103, 104, 105]  # each request its own row's id
    assert announced == [101, 105]  # one publish per statement, with its newest id
    assert not writer._in_flight
    assert writer._queue == []


def test_a_request_alone_inserts_at_once(statements):
    statements.release()
    writer = LedgerWriter()
    announced: list[int] = []
    assert writer.insert(row("m-1", announced)) == 101
    assert writer.insert(row("m-2", announced)) == 102
    assert statements.groups == [[row("m-1").body_sha256], [row("m-2").body_sha256]]
    assert announced == [101, 102]


def test_a_statement_takes_at_most_a_group_and_hands_the_rest_on(statements, monkeypatch):
    monkeypatch.setattr(intake_ledger, "GROUP_LIMIT", 2)
    writer = LedgerWriter(patience=WAIT)
    rows = [row(f"m-{n}") for n in range(6)]
    ids = [future.result(WAIT) for future in insert_queued(writer, rows, statements.release)]
    assert [len(group) for group in statements.groups] == [1, 2, 2, 1]
    assert sorted(ids) == [101, 102, 103, 104, 105, 106]
    assert len(set(ids)) == 6


def test_a_failed_statement_fails_every_request_in_it_and_the_next_one_goes_on(monkeypatch):
    monkeypatch.setattr(intake_ledger.transaction, "on_commit", lambda callback: callback())
    gate, calls = threading.Event(), []

    def failing_then_fine(rows):
        calls.append(len(rows))
        if len(calls) == 1:
            gate.wait(WAIT)
        for n, r in enumerate(rows):
            if len(calls) == 2:
                r.error = OperationalError("the database is down")
            else:
                r.event_id = 500 + n

    monkeypatch.setattr(intake_ledger, "ledger_insert_rows", failing_then_fine)
    writer = LedgerWriter(patience=WAIT)
    rows = [row(f"m-{n}") for n in range(3)]
    first, *rest = insert_queued(writer, rows, gate.set)
    assert first.result(WAIT) == 500
    for future in rest:
        with pytest.raises(OperationalError):
            future.result(WAIT)
    assert calls == [1, 2]
    assert writer.insert(row("m-later")) == 500  # the writer is not stuck
    assert not writer._in_flight


def test_a_bug_in_the_statement_reaches_every_waiting_request(monkeypatch):
    gate = threading.Event()

    def broken(rows):
        gate.wait(WAIT)
        raise TypeError("a bug")

    monkeypatch.setattr(intake_ledger, "ledger_insert_rows", broken)
    writer = LedgerWriter(patience=WAIT)
    first, second = insert_queued(writer, [row("m-1"), row("m-2")], gate.set)
    with pytest.raises(TypeError):
        first.result(WAIT)
    # The second request led the next statement (the same bug), it did not hang.
    with pytest.raises(TypeError):
        second.result(WAIT)
    assert not writer._in_flight


class HeldStatements:
    """Stands in for the database: each statement stays in flight until `release(n)`."""

    def __init__(self) -> None:
        self.groups: list[list[LedgerRow]] = []
        self.gates: list[threading.Event] = []
        self._lock = threading.Lock()

    def __call__(self, rows):
        gate = threading.Event()
        with self._lock:
            self.groups.append(list(rows))
            self.gates.append(gate)
        gate.wait(WAIT)
        for r in rows:
            r.event_id = 1000 + int(r.body_sha256[:6], 16)

    def release(self, n: int) -> None:
        self.gates[n].set()


def test_requests_kept_waiting_past_the_patience_insert_beside_the_slow_statement(monkeypatch):
    """A slow flush: the queued rows go in a second statement instead of waiting for the
    first one's return, up to the limit of statements in flight; then the first statement
    to return hands the queue on."""
    statements = HeldStatements()
    monkeypatch.setattr(intake_ledger, "ledger_insert_rows", statements)
    monkeypatch.setattr(intake_ledger.transaction, "on_commit", lambda callback: callback())
    writer = LedgerWriter(patience=0, in_flight_limit=2)
    rows = [row(f"m-{n}") for n in range(4)]
    pool = ThreadPoolExecutor(len(rows))
    futures = [pool.submit(writer.insert, rows[0])]
    wait_until(lambda: len(statements.groups) == 1)
    futures.append(pool.submit(writer.insert, rows[1]))  # no patience: a statement of its own
    wait_until(lambda: len(statements.groups) == 2)
    futures += [pool.submit(writer.insert, r) for r in rows[2:]]  # at the limit: they queue
    wait_until(lambda: len(writer._queue) == 2)
    assert writer._in_flight == 2

    statements.release(1)  # the second statement returns first and hands the queue on
    wait_until(lambda: len(statements.groups) == 3)
    assert futures[1].result(WAIT) == rows[1].event_id
    statements.release(2)
    statements.release(0)
    pool.shutdown(wait=True)

    assert statements.groups == [[rows[0]], [rows[1]], [rows[2], rows[3]]]
    assert [future.result() for future in futures] == [r.event_id for r in rows]
    assert writer._in_flight == 0
    assert writer._queue == []


def test_a_request_leading_after_its_patience_takes_its_own_row_first(monkeypatch):
    """Its row may be queued behind more than a statement's worth, some of them about to be
    taken by another request that leads: it takes its own and the oldest of the others."""
    monkeypatch.setattr(intake_ledger, "GROUP_LIMIT", 2)
    writer = LedgerWriter()
    first, second, leading, mine = (row(f"m-{n}") for n in range(4))
    leading.leads = True
    writer._queue = [first, leading, second, mine]
    assert writer._take(mine) == [mine, first]
    assert writer._queue == [leading, second]


# --- the statement, against the database -----------------------------------------------
@pytest.mark.django_db
def test_one_statement_stores_a_group_and_tells_each_row_its_id():
    existing = row("m-old")
    ledger_insert_rows([existing])
    group = [row("m-1"), row("m-2"), row("m-1"), row("m-old"), row("m-3")]
    ledger_insert_rows(group)

    stored = dict(WebhookEvent.objects.values_list("body_sha256", "id"))
    assert len(stored) == 4
    assert [r.event_id for r in group] == [
        stored[group[0].body_sha256],
        stored[group[1].body_sha256],
        None,  # the same body twice in one group: the second is a redelivery
        None,  # stored already
        stored[group[4].body_sha256],
    ]
    assert all(r.error is None for r in group)
    event = WebhookEvent.objects.get(pk=group[0].event_id)
    assert (event.state, event.attempts, event.object_type, event.account_ids) == (
        WebhookEvent.State.PENDING,
        0,
        "instagram",
        [IG_ID],
    )
    assert json.loads(event.body)["entry"][0]["messaging"][0]["message"]["mid"] == "m-1"


@pytest.mark.django_db
def test_a_row_the_driver_refuses_is_stored_escaped_and_its_group_with_it():
    """A lone surrogate cannot be encoded for the database (UnicodeEncodeError, not a
    database error): once that failed the whole group, and every request in it got a 500."""
    bad = row("m-bad")
    bad.object_type, bad.account_ids = "instagram\ud800", [f"{IG_ID}\udc00"]
    group = [row("m-1"), bad, row("m-2")]
    ledger_insert_rows(group)
    assert all(r.error is None and r.event_id for r in group)
    stored = WebhookEvent.objects.get(pk=bad.event_id)
    assert (stored.object_type, stored.account_ids) == ("instagram?", [f"{IG_ID}?"])
    assert WebhookEvent.objects.count() == 3


@pytest.mark.django_db
def test_a_row_refused_even_escaped_fails_alone_as_unstorable(monkeypatch):
    """Its request answers 400 (record → NotJSONError), not the 503 of an outage."""
    bad = row("m-bad")
    insert = intake_ledger._insert

    def refusing(rows):
        if any(r.body_sha256 == bad.body_sha256 for r in rows):
            raise DataError("value refused")
        return insert(rows)

    monkeypatch.setattr(intake_ledger, "_insert", refusing)
    group = [row("m-1"), bad]
    ledger_insert_rows(group)
    assert group[0].event_id
    assert group[0].error is None
    assert isinstance(bad.error, UnstorableError)
    assert bad.escaped
    assert WebhookEvent.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_the_database_refuses_is_stored_escaped_alone():
    """PostgreSQL cannot store a NUL character in text: that row goes in with the NUL as a
    JSON escape (the same JSON), the others of its group as they are."""
    bad = row("m-bad")
    bad.body = bad.body.replace("text m-bad", "text \x00")
    group = [row("m-1"), bad, row("m-2")]
    ledger_insert_rows(group)
    assert all(r.error is None and r.event_id for r in group)
    stored = WebhookEvent.objects.get(pk=bad.event_id)
    assert json.loads(stored.body)["entry"][0]["messaging"][0]["message"]["text"] == "text \x00"
    assert WebhookEvent.objects.count() == 3


@pytest.mark.postgres  # concurrent writers, as in production
@pytest.mark.django_db(transaction=True)
def test_one_bad_row_among_concurrent_requests_fails_none_of_the_others():
    """Rounds of 15 good rows and 1 that the driver refuses (a lone surrogate), inserted at
    the same moment: they share statements, and every one is stored."""
    for round_ in range(5):
        rows = [row(f"m-{round_}-{n}") for n in range(15)]
        bad = row(f"m-{round_}-bad")
        bad.object_type = "instagram\ud800"
        rows.insert(round_ * 3, bad)
        start = threading.Barrier(len(rows))

        def insert(r):
            start.wait(WAIT)
            try:
                return intake_ledger._writer.insert(r)
            finally:
                connection.close()

        with ThreadPoolExecutor(len(rows)) as pool:
            ids = list(pool.map(insert, rows))
        assert all(isinstance(event_id, int) for event_id in ids)
    assert WebhookEvent.objects.count() == 80
    assert WebhookEvent.objects.filter(object_type="instagram?").count() == 5


@pytest.mark.postgres  # the suite's in-memory SQLite refuses concurrent writers outright
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("patience", [intake_ledger.PATIENCE_SECONDS, 0])
def test_concurrent_webhooks_are_each_stored_once_and_answered_200(
    patience, monkeypatch, fake_meta
):
    """Real requests on real threads, in real concurrent transactions: distinct bodies each
    get a row, and copies of one body get one between them. With no patience, requests
    queued behind a statement insert in statements of their own, beside it."""
    from django.test import Client

    monkeypatch.setattr(intake_ledger, "_writer", LedgerWriter(patience=patience))

    AccountFactory(ig_id=IG_ID)
    bodies = [webhook_body(message_item(f"m-{n}", f"text {n}")) for n in range(6)]
    bodies += [webhook_body(message_item("m-same", "same"))] * 6
    start = threading.Barrier(len(bodies))

    def deliver(body):
        start.wait(WAIT)
        try:
            return post_signed(Client(), body).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(len(bodies)) as pool:
        statuses = list(pool.map(deliver, bodies))
    assert statuses == [200] * len(bodies)
    assert WebhookEvent.objects.count() == 7
