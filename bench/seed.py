"""Seed a PostgreSQL database with a large, realistic inbox for the UI benchmark (bench/ui.py).

    DATABASE_URL=postgres://.../inbox_bench DEBUG=true python bench/seed.py \
        [--conversations 100000] [--messages 1000000] [--accounts 2] [--force]

100k conversations and 1M messages by default, written with COPY (a few minutes on two
cores). The search index on message text is dropped during the load and rebuilt after, which
is several times faster than maintaining it row by row. Refuses to touch a database that
already has conversations unless --force.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The settings manage.py runs with: the seeded agent logs in to the real server.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import InstagramAccount  # noqa: E402
from inbox.models import Conversation  # noqa: E402

FIRST = [
    "Maya",
    "Jonas",
    "Priya",
    "Tom",
    "Lea",
    "Sofia",
    "Omar",
    "Yuki",
    "Elena",
    "Noah",
    "Ava",
    "Liam",
    "Zoe",
    "Mateo",
    "Ines",
    "Kai",
    "Nora",
    "Ivan",
    "Aisha",
    "Leo",
]
LAST = [
    "Lindqvist",
    "Weber",
    "Raman",
    "Becker",
    "Fontaine",
    "Martins",
    "Haddad",
    "Tanaka",
    "Rossi",
    "Novak",
    "Silva",
    "Kim",
    "Berg",
    "Costa",
    "Dubois",
    "Ng",
]
OPENERS = [
    "Hi! Is the {product} still available in {size}?",
    "Hello, where is my order {order}?",
    "Do you ship to {country}?",
    "Can I return the {product}? It doesn't fit.",
    "I love the {product} 😍 what's the price?",
    "My parcel {order} says delivered but I don't have it",
    "Is there a discount code for the {product}?",
    "Thanks, received it today!",
    "Can I change the size of my order {order} to {size}?",
    "What's the difference between the {product} in sand and beige?",
]
REPLIES = [
    "Hi {name}! Yes, we have it in {size}.",
    "Let me check order {order} for you.",
    "We ship to {country} in 3 to 5 days.",
    "Sure, here's the returns page: https://example.com/returns",
    "Thanks for your message! The {product} is 49 EUR.",
    "I've updated order {order}, you'll get an email shortly.",
]
PRODUCTS = [
    "linen dress",
    "canvas tote",
    "wool scarf",
    "leather belt",
    "silk blouse",
    "denim jacket",
    "sun hat",
    "ankle boots",
]
SIZES = ["XS", "S", "M", "L", "XL"]
COUNTRIES = ["Sweden", "Portugal", "Japan", "Canada", "Brazil", "Germany", "Kenya", "Italy"]

CONVERSATION_COLUMNS = (
    "account_id, customer_igsid, customer_name, customer_username, customer_picture_url, "
    "profile_error, last_customer_message_at, last_inbound_received_at, last_message_at, "
    "last_message_preview, status, assignee_id, created_at, updated_at"
)
MESSAGE_COLUMNS = (
    "conversation_id, account_id, mid, direction, origin, kind, text, attachments, "
    "reply_to_mid, reply_to_story_url, reply_to_story_id, quick_reply_payload, details, "
    "timestamp, edit_count, is_deleted, status, tag, error_code, error_reason, attempts, "
    "author_id, created_at, updated_at, via_standby, text_edit_count, earlier_texts, imported"
)
TEXT_INDEX = "inbox_msg_text_trgm_idx"


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Seed PostgreSQL with a large inbox (default 100k conversations, 1M messages)."
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2)
    parser.add_argument("--agent", default="bench", help="agent username (member of all)")
    parser.add_argument("--password", default="bench-pass-123")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--force", action="store_true", help="seed even if data exists")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The benchmark seeds PostgreSQL (set DATABASE_URL).")
    if Conversation.objects.exists() and not args.force:
        raise SystemExit("This database already has conversations; pass --force to add.")
    Seed(args.seed).run(args)


class Seed:
    """One seeding run: its random source, its "now", and the customers' names."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.names: list[str] = []

    def run(self, options: argparse.Namespace) -> None:
        started = time.monotonic()
        agent = self._agent(options.agent, options.password)
        accounts = self._accounts(options.accounts, agent)
        plan = self._plan(options.conversations, options.messages)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {TEXT_INDEX}")
            conversation_ids = self._copy_conversations(cursor, plan, accounts, agent.pk)
            self._copy_messages(cursor, plan, conversation_ids, accounts)
            self._copy_read_states(cursor, conversation_ids, agent.pk)
        print(f"rows written in {time.monotonic() - started:.0f}s; indexing...", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {TEXT_INDEX} "
                "ON inbox_message USING gin (UPPER(text) gin_trgm_ops)"
            )
            cursor.execute("VACUUM ANALYZE inbox_conversation")
            cursor.execute("VACUUM ANALYZE inbox_message")
            cursor.execute("VACUUM ANALYZE inbox_conversationreadstate")
        print(
            f"Seeded {len(plan)} conversations and {sum(n for n, _ in plan)} messages "
            f"in {time.monotonic() - started:.0f}s. Log in as {agent.get_username()}."
        )

    # --- setup ---------------------------------------------------------------------------
    def _agent(self, username: str, password: str) -> Any:
        user, _ = get_user_model()._default_manager.get_or_create(username=username)
        user.set_password(password)
        user.save()
        return user

    def _accounts(self, count: int, agent: Any) -> list[InstagramAccount]:
        accounts = []
        for index in range(count):
            account, _ = InstagramAccount.objects.get_or_create(
                ig_id=f"1784149999{index:06d}",
                defaults={
                    "username": f"bench_shop_{index}",
                    "name": f"Bench shop {index}",
                    "graph_api_url": "https://graph.instagram.com/v24.0",
                },
            )
            account.access_token = f"IGAAbenchtoken{index:06d}"
            account.save()
            account.members.add(agent)
            accounts.append(account)
        return accounts

    def _plan(self, conversations: int, messages: int) -> list[tuple[int, datetime]]:
        """(message count, last activity) per conversation: a long tail of busy threads."""
        weights = [self.rng.paretovariate(1.6) for _ in range(conversations)]
        scale = (messages - conversations) / sum(weights)
        counts = [1 + int(w * scale) for w in weights]
        counts[0] += messages - sum(counts)  # the busiest thread takes the rounding
        return [
            (count, self.now - timedelta(minutes=self.rng.expovariate(1 / (60 * 24 * 20))))
            for count in counts
        ]

    # --- rows ------------------------------------------------------------------------------
    def _fill(self, template: str, name: str) -> str:
        return template.format(
            name=name.split()[0],
            product=self.rng.choice(PRODUCTS),
            size=self.rng.choice(SIZES),
            order=f"#{self.rng.randint(10000, 99999)}",
            country=self.rng.choice(COUNTRIES),
        )

    def _thread(self, count: int, last: datetime, name: str) -> Iterator[tuple[str, datetime]]:
        """("in"|"out", Meta time) for each message, oldest first, ending at `last`."""
        moment = last - timedelta(minutes=7 * count)
        for index in range(count):
            moment += timedelta(minutes=self.rng.uniform(1, 13))
            yield ("in" if index % 3 != 1 else "out"), min(moment, last)

    def _copy_conversations(
        self, cursor: Any, plan: list[tuple[int, datetime]], accounts: list, agent_id: int
    ) -> list[int]:
        self.names = []
        with cursor.copy(f"COPY inbox_conversation ({CONVERSATION_COLUMNS}) FROM STDIN") as copy:
            for index, (_count, last) in enumerate(plan):
                first, family = self.rng.choice(FIRST), self.rng.choice(LAST)
                name = f"{first} {family}"
                self.names.append(name)
                old = self.now - last > timedelta(days=7)
                closed = old and self.rng.random() < 0.85
                copy.write_row(
                    (
                        accounts[index % len(accounts)].pk,
                        f"bench{index:012d}",
                        name,
                        f"{first.lower()}.{family.lower()}{index}",
                        "",
                        "",
                        last,
                        last,
                        last,
                        "",
                        "closed" if closed else "open",
                        agent_id if self.rng.random() < 0.3 else None,
                        last - timedelta(days=1),
                        last,
                    )
                )
        cursor.execute(
            "SELECT id FROM inbox_conversation WHERE customer_igsid LIKE 'bench%%' ORDER BY id"
        )
        return [row[0] for row in cursor.fetchall()][-len(plan) :]

    def _copy_messages(
        self, cursor: Any, plan: list, conversation_ids: list[int], accounts: list
    ) -> None:
        previews: list[tuple[str, int]] = []
        with cursor.copy(f"COPY inbox_message ({MESSAGE_COLUMNS}) FROM STDIN") as copy:
            serial = 0
            for index, ((count, last), pk) in enumerate(zip(plan, conversation_ids, strict=True)):
                name = self.names[index]
                account_id = accounts[index % len(accounts)].pk
                text = ""
                for direction, moment in self._thread(count, last, name):
                    serial += 1
                    inbound = direction == "in"
                    text = self._fill(self.rng.choice(OPENERS if inbound else REPLIES), name)
                    copy.write_row(
                        (
                            pk,
                            account_id,
                            f"bench-mid-{serial}",
                            direction,
                            "customer" if inbound else "agent",
                            "text",
                            text,
                            "[]",
                            "",
                            "",
                            "",
                            "",
                            json.dumps({}),
                            moment,
                            0,
                            False,
                            "" if inbound else "seen",
                            "",
                            "",
                            "",
                            0,
                            None,
                            moment,
                            moment,
                            False,
                            0,
                            "[]",
                            False,
                        )
                    )
                previews.append((text[:255], pk))
        cursor.execute("CREATE TEMP TABLE bench_preview (preview text, id bigint) ON COMMIT DROP")
        with cursor.copy("COPY bench_preview (preview, id) FROM STDIN") as copy:
            for row in previews:
                copy.write_row(row)
        cursor.execute(
            "UPDATE inbox_conversation c SET last_message_preview = p.preview "
            "FROM bench_preview p WHERE c.id = p.id"
        )

    def _copy_read_states(self, cursor: Any, conversation_ids: list[int], user_id: int) -> None:
        """The agent has read most conversations; the rest are unread."""
        with cursor.copy(
            "COPY inbox_conversationreadstate (conversation_id, user_id, read_at) FROM STDIN"
        ) as copy:
            for pk in conversation_ids:
                if self.rng.random() < 0.9:
                    copy.write_row((pk, user_id, self.now))


if __name__ == "__main__":
    main()
