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
