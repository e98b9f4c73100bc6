"""The outbound sweep: stuck sends become unknown; lost queued replies go out again."""

from datetime import timedelta

import pytest
import time_machine

from inbox.models import Message
from inbox.outbound.sweep import messages_sweep
from inbox.outbound.tasks import messages_sweep_task

from .sendkit import T0, answer_ok, reply

pytestmark = pytest.mark.django_db

NOW = T0 + timedelta(hours=2)
M = timedelta(minutes=1)


def aged(message, *, updated, **fields):
    Message.objects.filter(pk=message.pk).update(updated_at=NOW - updated, **fields)
    return message


def test_a_send_stuck_for_minutes_becomes_unknown_and_is_not_resent(meta, convo, writer):
    stuck = aged(
        reply(convo, writer), updated=6 * M, status="sending", sending_started_at=NOW - 6 * M
    )
    recent = aged(reply(convo, writer), updated=M, status="sending", sending_started_at=NOW - M)
    with time_machine.travel(NOW, tick=False):
        messages_sweep_task()
    stuck.refresh_from_db()
    recent.refresh_from_db()
    assert stuck.status == Message.Status.UNKNOWN
    assert stuck.get_status_display() == "Unknown: check Instagram"
    assert "may or may not have been delivered" in stuck.error_reason
    assert recent.status == Message.Status.SENDING
    assert len(meta.calls) == 0


def test_a_queued_reply_whose_task_was_lost_is_sent(meta, convo, writer):
    answer_ok(meta, convo.account)
    lost = aged(reply(convo, writer), updated=2 * M)
    with time_machine.travel(NOW, tick=False):
        messages_sweep_task()
    lost.refresh_from_db()
    assert lost.status == Message.Status.SENT
    assert len(meta.calls) == 1


def test_it_leaves_alone_what_is_not_due(convo, writer):
    fresh = aged(reply(convo, writer), updated=timedelta(seconds=20))
    backing_off = aged(reply(convo, writer), updated=3 * M, next_attempt_at=NOW + M)
    due = aged(reply(convo, writer), updated=3 * M, next_attempt_at=NOW - M)
    with time_machine.travel(NOW, tick=False):
        assert messages_sweep() == [due.pk]
        # Touched: the next sweep does not queue it again right away.
        assert messages_sweep() == []
    assert fresh.pk
    assert backing_off.pk


def test_queued_replies_of_an_account_that_cannot_send_wait(convo, writer):
    waiting = aged(reply(convo, writer), updated=10 * M)
    convo.account.status = "needs_reconnect"
    convo.account.save()
    with time_machine.travel(NOW, tick=False):
        assert messages_sweep() == []
    convo.account.status = "active"
    convo.account.save()
    with time_machine.travel(NOW, tick=False):
        assert messages_sweep() == [waiting.pk]
