"""reaction_send: a heart on a customer's message, recorded here (no echo comes back)."""

from datetime import timedelta

import pytest
import time_machine

from accounts.models import InstagramAccount
from inbox.models import Message, Reaction
from inbox.outbound.replies import ReplyRefused, reaction_send
from tests.factories import MessageFactory

from .sendkit import T0, answer_error, answer_ok, bodies, reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_message(convo):
    return MessageFactory(conversation=convo, mid="aWdfcustomer1", timestamp=T0)


@pytest.fixture(autouse=True)
def an_hour_later():
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        yield


def react(message, writer, capture, remove=False):
    with capture(execute=True):
        reaction_send(message=message, author=writer, remove=remove)


def test_it_reacts_with_a_heart_and_records_it(
    meta, convo, writer, customer_message, django_capture_on_commit_callbacks
):
    answer_ok(meta, convo.account)
    react(customer_message, writer, django_capture_on_commit_callbacks)
    assert bodies(meta) == [
        {
            "recipient": {"id": convo.customer_igsid},
            "sender_action": "react",
            "payload": {"message_id": "aWdfcustomer1", "reaction": "love"},
        }
    ]
    mine = Reaction.objects.get(message=customer_message)
    assert (mine.actor, mine.reaction, mine.emoji) == ("business", "love", "❤️")


def test_it_unreacts_and_forgets_the_heart(
    meta, convo, writer, customer_message, django_capture_on_commit_callbacks
):
    answer_ok(meta, convo.account)
    Reaction.objects.create(message=customer_message, actor="business", reaction="love")
    Reaction.objects.create(message=customer_message, actor="customer", reaction="love")
    react(customer_message, writer, django_capture_on_commit_callbacks, remove=True)
    assert bodies(meta) == [
        {
            "recipient": {"id": convo.customer_igsid},
            "sender_action": "unreact",
            "payload": {"message_id": "aWdfcustomer1"},
        }
    ]
    assert list(customer_message.reactions.values_list("actor", flat=True)) == ["customer"]


def test_reacting_twice_keeps_one_heart(
    meta, convo, writer, customer_message, django_capture_on_commit_callbacks
):
    answer_ok(meta, convo.account)
    react(customer_message, writer, django_capture_on_commit_callbacks)
    react(customer_message, writer, django_capture_on_commit_callbacks)
    assert customer_message.reactions.count() == 1


def test_a_refused_reaction_is_taken_back(
    meta, convo, writer, customer_message, django_capture_on_commit_callbacks
):
    answer_error(meta, convo.account, 400, code=100)
    react(customer_message, writer, django_capture_on_commit_callbacks)
    assert len(meta.calls) == 1
    assert not customer_message.reactions.exists()


def test_a_dead_token_flags_the_account_and_takes_the_heart_back(
    meta, convo, writer, customer_message, django_capture_on_commit_callbacks
):
    answer_error(meta, convo.account, 400, code=190)
    react(customer_message, writer, django_capture_on_commit_callbacks)
    convo.account.refresh_from_db()
    assert convo.account.status == InstagramAccount.Status.NEEDS_RECONNECT
    assert not customer_message.reactions.exists()


def test_only_a_customers_message_can_be_reacted_to(convo, writer):
    with pytest.raises(ReplyRefused, match="customer's messages"):
        reaction_send(message=reply(convo, writer, mid="ours"), author=writer)
    with pytest.raises(ReplyRefused, match="unsent"):
        reaction_send(message=MessageFactory(conversation=convo, is_deleted=True), author=writer)


def test_reactions_are_refused_after_24_hours(convo, writer, customer_message):
    with (
        time_machine.travel(T0 + timedelta(hours=25), tick=False),
        pytest.raises(ReplyRefused, match="within 24 hours"),
    ):
        reaction_send(message=customer_message, author=writer)
    with (
        time_machine.travel(T0 + timedelta(days=8), tick=False),
        pytest.raises(ReplyRefused, match="7 days"),
    ):
        reaction_send(message=customer_message, author=writer)
    assert not customer_message.reactions.exists()


def test_reactions_need_an_account_that_can_send(convo, writer, customer_message):
    InstagramAccount.objects.filter(pk=convo.account_id).update(status="needs_reconnect")
    customer_message.refresh_from_db()
    with pytest.raises(ReplyRefused, match="reconnected by an admin"):
        reaction_send(message=Message.objects.get(pk=customer_message.pk), author=writer)
