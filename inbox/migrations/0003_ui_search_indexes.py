"""PostgreSQL-only indexes for the inbox UI.

- pg_trgm GIN indexes so searching by customer name, @username and message text stays fast
  at millions of messages. They index UPPER(column), the exact expression Django's
  `icontains` compiles to on PostgreSQL, so the planner can use them for `LIKE '%...%'`.
- A list-order index over every account and status: search results (open and closed alike),
  agents of several accounts, admins.

Built CONCURRENTLY (hence a non-atomic migration) so a live inbox keeps taking webhooks while
they build. SQLite has no pg_trgm: nothing happens there and `icontains` scans, which is fine
at SQLite's scale.
"""

from django.db import migrations

INDEXES = {
    "inbox_msg_text_trgm_idx": (
        "inbox_message USING gin (UPPER(text) gin_trgm_ops)"
    ),
    "inbox_conv_name_trgm_idx": (
        "inbox_conversation USING gin (UPPER(customer_name::text) gin_trgm_ops)"
    ),
    "inbox_conv_username_trgm_idx": (
        "inbox_conversation USING gin (UPPER(customer_username::text) gin_trgm_ops)"
    ),
    # Newest activity first, ties by id: the list's order, whatever the filters.
    "inbox_conv_recent_idx": "inbox_conversation (last_message_at DESC, id DESC)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0002_sends_next_attempt_at"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
