"""Search on PostgreSQL goes through the pg_trgm indexes (the expressions must match the SQL
Django's icontains compiles to, or the planner ignores them); the thread page's queries
through indexes that keep a long thread as cheap as a short one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import Conversation, Message
from inbox.selectors import LIST_ORDER, conversation_referrals
from tests.factories import ConversationFactory, MessageFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def plan(queryset, *, searching: bool = False) -> str:
    """The planner's choice on a table of a few rows, with no scan of the whole table; for a
    search (`searching`) no walk of another index filtering every row either: with the
    statistics of an almost empty table (migrate analyses it), either would be cheapest."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if searching:
            cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_message_text_search_uses_the_trigram_index():
    MessageFactory(text="where is my parcel")
    assert "inbox_msg_text_trgm_idx" in plan(
        Message.objects.filter(text__icontains="parcel"), searching=True
    )


@pytest.mark.parametrize(
    ("field", "index"),
    [
        ("customer_name__icontains", "inbox_conv_name_trgm_idx"),
        ("customer_username__icontains", "inbox_conv_username_trgm_idx"),
    ],
)
def test_customer_search_uses_the_trigram_indexes(field, index):
    ConversationFactory()
    assert index in plan(Conversation.objects.filter(**{field: "jane"}), searching=True)


def test_the_list_order_has_an_index():
    ConversationFactory()
    queryset = Conversation.objects.order_by(*LIST_ORDER)[:51]
    assert "inbox_conv_recent_idx" in plan(queryset)


def test_the_customer_panels_ad_reads_the_partial_index_of_referrals():
    # The query must carry the index's own condition: otherwise the newest referrals of a
    # thread with none are looked for through every message it has.
    message = MessageFactory()
    with CaptureQueriesContext(connection) as queries:
        conversation_referrals(conversation=message.conversation)
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {query['sql']}")
        assert "msg_referral_idx" in "\n".join(row[0] for row in cursor.fetchall())
