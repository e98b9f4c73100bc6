"""The planner's statistics are refreshed after migrations (inbox/apps.py)."""

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.apps import statistics_refresh

pytestmark = pytest.mark.django_db


def analyzed(plan):
    with CaptureQueriesContext(connection) as queries:
        statistics_refresh(apps.get_app_config("inbox"), using="default", plan=plan)
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_it_analyzes_once_migrations_were_applied_and_not_when_none_were():
    assert analyzed([("a migration", False)]) == ["ANALYZE"]
    assert analyzed([]) == []


@pytest.mark.skipif(connection.vendor == "postgresql", reason="other databases")
def test_it_leaves_other_databases_alone():
    assert analyzed([("a migration", False)]) == []
