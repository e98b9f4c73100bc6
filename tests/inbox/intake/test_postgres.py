"""Concurrent duplicate deliveries on PostgreSQL: real transactions, real threads."""

import logging
import threading

import pytest
from django.db import connection

from inbox.intake.process import webhook_event_process
from inbox.models import Conversation, Message, Reaction, WebhookEvent
from tests.factories import AccountFactory
from tests.webhooks import IG_ID, event_item, message_item, stored_event, webhook_body

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("fake_meta")]

WORKERS = 8


def process_all_at_once(events):
    """One thread per event, released together, each on its own connection."""
    barrier = threading.Barrier(len(events))
    results, errors = [], []

    def work(event_id):
        try:
            barrier.wait(timeout=10)
            results.append(webhook_event_process(event_id=event_id))
        except Exception as e:  # surfaced by the assertion below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(event.pk,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    return results


def redeliveries(item):
    """The same update in several batches (Meta's retries carry a new entry time)."""
    bodies = []
    for n in range(WORKERS):
        body = webhook_body(item)
        body["entry"][0]["time"] += n
        bodies.append(body)
    return bodies


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_message_store_it_once():
    AccountFactory(ig_id=IG_ID)
    bodies = redeliveries(message_item("m-race", "only once please"))
    events = [stored_event(body) for body in bodies]
    results = process_all_at_once(events)
    assert results == ["processed"] * WORKERS
    assert Message.objects.filter(mid="m-race").count() == 1
    assert Conversation.objects.count() == 1
    assert Conversation.objects.get().last_message_preview == "only once please"


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_messages_of_a_new_customer_make_one_conversation():
    AccountFactory(ig_id=IG_ID)
    bodies = [webhook_body(message_item(f"m-{n}", f"part {n}")) for n in range(WORKERS)]
    results = process_all_at_once([stored_event(body) for body in bodies])
    assert results == ["processed"] * WORKERS
    assert Conversation.objects.count() == 1
    assert Message.objects.count() == WORKERS


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_reactions_store_one():
    AccountFactory(ig_id=IG_ID)
    first = stored_event(webhook_body(message_item("m-target", "react to me")))
    webhook_event_process(event_id=first.pk)
    reaction = event_item("reaction", {"mid": "m-target", "reaction": "love", "emoji": "❤️"})
    results = process_all_at_once([stored_event(body) for body in redeliveries(reaction)])
    assert results == ["processed"] * WORKERS
    assert Reaction.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_given_the_same_event_process_it_once():
    AccountFactory(ig_id=IG_ID)
    event = stored_event(webhook_body(message_item("m-claim", "claimed once")))
    barrier = threading.Barrier(WORKERS)
    results = []

    def work():
        barrier.wait(timeout=10)
        results.append(webhook_event_process(event_id=event.pk))
        connection.close()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results.count("processed") == 1
    assert results.count(None) == WORKERS - 1
    event.refresh_from_db()
    assert event.attempts == 1


# --- a persistent connection the server dropped ----------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_webhook_after_a_database_restart_is_stored_without_a_health_check_round_trip(
    client, monkeypatch, caplog
):
    """The webhook's insert is its own health check: no `SELECT 1` before it, and a
    connection the server dropped since the last request is replaced, not answered with 503."""
    import psycopg
    from django.db.backends.postgresql.base import DatabaseWrapper

    from tests.webhooks import post_signed

    AccountFactory(ig_id=IG_ID)
    assert post_signed(client, webhook_body(message_item(mid="m-before"))).status_code == 200
    checks = []
    usable = DatabaseWrapper.is_usable
    monkeypatch.setattr(DatabaseWrapper, "is_usable", lambda self: checks.append(1) or usable(self))

    assert post_signed(client, webhook_body(message_item(mid="m-alive"))).status_code == 200
    assert checks == []  # a live connection: the insert alone

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    with caplog.at_level(logging.INFO, logger="inbox.intake.ledger"):
        response = post_signed(client, webhook_body(message_item(mid="m-after")))
    assert response.status_code == 200
    assert "connection lost since its last use" in caplog.text
    assert WebhookEvent.objects.count() == 3
    assert set(Message.objects.values_list("mid", flat=True)) == {"m-before", "m-alive", "m-after"}
