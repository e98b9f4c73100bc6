"""Counts compiled once per key (common/compiled.py): the statement is kept, the rows it
counts are read each time, and what the key leaves out is only ever a subquery."""

from datetime import timedelta

import pytest
from django.utils import timezone

from common.compiled import compiled_count
from inbox.models import Conversation
from inbox.selectors import ListFilters, unread_count
from team.selectors import mentions_unread_count
from team.services import note_create
from tests.factories import AccountFactory, ConversationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_statement_is_built_once_and_counts_what_is_there_each_time(account):
    built = []

    def build():
        built.append(1)
        return Conversation.objects.filter(account=account).values("pk")

    assert compiled_count("test", build) == 0
    ConversationFactory(account=account)
    ConversationFactory(account=account)
    assert compiled_count("test", build) == 2
    assert built == [1]


def test_a_statement_that_can_give_nothing_counts_zero_and_is_not_kept():
    built = []

    def build():
        built.append(1)
        return Conversation.objects.filter(pk__in=[]).values("pk")

    assert compiled_count("empty", build) == 0
    assert compiled_count("empty", build) == 0
    assert built == [1, 1]


def waiting(account):
    conversation = ConversationFactory(account=account)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_received_at=timezone.now() - timedelta(minutes=1)
    )
    return conversation


def test_the_unread_count_follows_the_agents_accounts_and_role(agent, account):
    waiting(account)
    other = AccountFactory()
    waiting(other)
    filters = ListFilters()
    assert unread_count(user=agent, filters=filters) == 1
    other.members.add(agent)  # their accounts are a subquery of the kept statement
    assert unread_count(user=agent, filters=filters) == 2
    other.members.remove(agent)
    agent.is_superuser = True  # an admin sees every account: another statement
    agent.save()
    third = AccountFactory()
    waiting(third)
    assert unread_count(user=agent, filters=filters) == 3
    assert unread_count(user=agent, filters=ListFilters(account_id=third.pk)) == 1


def test_the_mentions_count_follows_the_agents_accounts(agent, account):
    other = AccountFactory()
    writer = UserFactory(username="writer", is_superuser=True)
    here = ConversationFactory(account=account)
    there = ConversationFactory(account=other)
    other.members.add(agent)
    note_create(conversation=here, author=writer, text="@alice look")
    note_create(conversation=there, author=writer, text="@alice and here")
    assert mentions_unread_count(user=agent) == 2
    other.members.remove(agent)
    assert mentions_unread_count(user=agent) == 1
    other.members.add(agent)
    assert mentions_unread_count(user=agent) == 2
