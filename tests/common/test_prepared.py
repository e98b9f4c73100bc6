"""The live polls' statements are prepared once per PostgreSQL connection, and sent
unprepared when the database refuses that (common/prepared.py)."""

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from common import prepared
from common.prepared import prepared_rows

pytestmark = pytest.mark.django_db

SQL = "SELECT %s + 1, %s"


def test_it_answers_as_a_plain_statement_would_and_is_logged_as_one(db):
    with CaptureQueriesContext(connection) as queries:
        assert prepared_rows(SQL, [41, "x"]) == [(42, "x")]
    assert len(queries) == 1
    assert "41" in queries[0]["sql"]


@pytest.mark.postgres
def test_on_postgresql_it_is_planned_once_per_connection(db):
    sql = "SELECT %s + 2, %s AS planned_once"
    for number in range(3):
        assert prepared_rows(sql, [number, "y"]) == [(number + 2, "y")]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE statement = 'SELECT $1 + 2, $2 AS planned_once'"
        )
        assert cursor.fetchall() == [(3,)]


@pytest.mark.postgres
def test_a_refused_prepared_statement_is_sent_unprepared_from_then_on(
    transactional_db, monkeypatch, caplog
):
    import psycopg

    class Refusing(psycopg.Cursor):
        def execute(self, *args, **kwargs):
            raise psycopg.errors.InvalidSqlStatementName("prepared statement does not exist")

    monkeypatch.setattr(psycopg, "Cursor", Refusing)
    monkeypatch.setattr(prepared, "_refused", False)
    assert prepared_rows(SQL, [1, "z"]) == [(2, "z")]
    assert prepared._refused is True
    assert "refused a prepared statement" in caplog.text


@pytest.mark.postgres
def test_inside_a_transaction_a_refusal_is_not_hidden(db, monkeypatch):
    import psycopg

    class Refusing(psycopg.Cursor):
        def execute(self, *args, **kwargs):
            raise psycopg.errors.InvalidSqlStatementName("prepared statement does not exist")

    monkeypatch.setattr(psycopg, "Cursor", Refusing)
    monkeypatch.setattr(prepared, "_refused", False)
    with pytest.raises(DatabaseError):
        prepared_rows(SQL, [1, "z"])
    assert prepared._refused is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_is_its_own_health_check_and_replaces_a_dropped_connection(monkeypatch, caplog):
    """No `SELECT 1` before it, and a connection the server dropped since its last use is
    replaced: the statement is sent again (it only reads)."""
    import logging

    import psycopg
    from django.db.backends.postgresql.base import DatabaseWrapper

    def request():
        connection.health_check_done = False  # as at the start of every request
        return prepared_rows("SELECT %s * 2 AS twice", [21])

    assert request() == [(42,)]
    checks = []
    usable = DatabaseWrapper.is_usable
    monkeypatch.setattr(DatabaseWrapper, "is_usable", lambda self: checks.append(1) or usable(self))
    assert request() == [(42,)]
    assert checks == []  # a live connection: the statement alone

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    with caplog.at_level(logging.INFO, logger="common.prepared"):
        assert request() == [(42,)]
    assert "connection lost since its last use" in caplog.text
    assert prepared._refused is False
