"""Replies held while an account needed reconnecting: they say why, and reconnecting sends
them at once (not at the next sweep)."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.test import TestCase

from accounts.meta import account_reconnected
from accounts.models import InstagramAccount
from inbox.models import Message
from inbox.outbound.errors import WAITING_FOR_RECONNECT
from inbox.outbound.release import held_replies_release
from inbox.outbound.tasks import account_replies_release_task, message_send_task
from tests.factories import ConversationFactory

from .sendkit import T0, answer_error, answer_ok, reply

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def run_at(when, message):
    with time_machine.travel(when, tick=False):
        message_send_task(message.pk)
    message.refresh_from_db()
    return message


def test_it_says_why_a_reply_waits_for_an_account_that_needs_reconnecting(meta, convo, writer):
    answer_error(meta, convo.account, 400, code=190)
    run_at(T0 + H, reply(convo, writer))
    other = ConversationFactory(account=convo.account, last_customer_message_at=T0)
    held = run_at(T0 + H, reply(other, writer))
    assert held.status == Message.Status.QUEUED
    assert held.error_reason == WAITING_FOR_RECONNECT  # not a silent "Queued"
    assert held.attempts == 0


def test_it_releases_held_replies_at_once_on_reconnect(meta, convo, writer):
    answer_error(meta, convo.account, 400, code=190)
    answer_ok(meta, convo.account, mid="m1")
    answer_ok(meta, convo.account, mid="m2")
    first = run_at(T0 + H, reply(convo, writer, text="one"))
    with time_machine.travel(T0 + H, tick=False):
        second = reply(convo, writer, text="two")
    InstagramAccount.objects.filter(pk=convo.account_id).update(status="active")
    with time_machine.travel(T0 + H + timedelta(seconds=5), tick=False):
        assert held_replies_release(account_id=convo.account_id) == [first.pk]
        account_replies_release_task(convo.account_id)
    first.refresh_from_db()
    second.refresh_from_db()
    # In order, each handing over to the next, seconds after the reconnect (no sweep).
    assert (first.status, first.mid, first.error_reason) == (Message.Status.SENT, "m1", "")
    assert (second.status, second.mid) == (Message.Status.SENT, "m2")


def test_it_releases_nothing_while_the_account_still_needs_reconnecting(meta, convo, writer):
    answer_error(meta, convo.account, 400, code=190)
    run_at(T0 + H, reply(convo, writer))
    assert held_replies_release(account_id=convo.account_id) == []


class ReconnectQueuesTheRelease(TestCase):
    def test_it_queues_the_release_only_once_committed(self):
        account = InstagramAccount.objects.create(ig_id="1784", username="shop")
        with (
            mock.patch("accounts.meta.task_queue") as queue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            account_reconnected(account_id=account.pk)
            queue.assert_not_called()
        queue.assert_called_once_with("inbox.tasks.account_replies_release_task", account.pk)
