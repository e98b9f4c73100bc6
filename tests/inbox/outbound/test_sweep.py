"""The outbound sweep: stuck sends become unknown (and free their thread); lost queued
replies go out again."""

from datetime import timedelta

import pytest
import responses
import time_machine

from inbox.models import Message
from inbox.outbound import pacing
from inbox.outbound.errors import UNKNOWN_STUCK
from inbox.outbound.pacing import send_lease
from inbox.outbound.ratelimit import REDIS_TIMEOUT
from inbox.outbound.sweep import messages_sweep
from inbox.outbound.tasks import message_send_task, messages_sweep_task

from .sendkit import T0, answer_ok, reply, send_url

pytestmark = pytest.mark.django_db

NOW = T0 + timedelta(hours=2)
M = timedelta(minutes=1)
LEASE = timedelta(seconds=60)


def aged(message, *, updated, **fields):
    Message.objects.filter(pk=message.pk).update(updated_at=NOW - updated, **fields)
    return message


def test_a_send_stuck_for_minutes_becomes_unknown_and_is_not_resent(meta, convo, writer):
    stuck = aged(
        reply(convo, writer), updated=6 * M, status="sending", sending_started_at=NOW - 6 * M
    )
    recent = aged(
        reply(convo, writer),
        updated=LEASE / 2,
        status="sending",
        sending_started_at=NOW - LEASE / 2,
    )
    with time_machine.travel(NOW, tick=False):
        messages_sweep_task()
    stuck.refresh_from_db()
    recent.refresh_from_db()
    assert stuck.status == Message.Status.UNKNOWN
    assert stuck.get_status_display() == "Unknown: check Instagram"
    assert stuck.error_reason == UNKNOWN_STUCK
    assert recent.status == Message.Status.SENDING
    assert len(meta.calls) == 0


class WorkerKilled(BaseException):
    """What a kill -9 looks like from inside the call: nothing after it runs."""


def killed_mid_call(meta, account):
    def die(request):
        raise WorkerKilled

    meta.add_callback(responses.POST, send_url(account), callback=die)


def test_it_a_reply_whose_worker_died_mid_call_turns_unknown_once_its_lease_ran_out(
    meta, convo, writer
):
    killed_mid_call(meta, convo.account)
    message = reply(convo, writer)
    with time_machine.travel(NOW, tick=False), pytest.raises(WorkerKilled):
        message_send_task(message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.SENDING  # what the dead worker left behind

    with time_machine.travel(NOW + LEASE - timedelta(seconds=1), tick=False):
        messages_sweep_task()
    message.refresh_from_db()
    assert message.status == Message.Status.SENDING  # within its lease: maybe still sending

    with time_machine.travel(NOW + LEASE + timedelta(seconds=1), tick=False):
        messages_sweep_task()
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    assert message.error_reason == (
        "We could not tell whether Instagram received this. Check the conversation in "
        "Instagram before sending again."
    )
    assert len(meta.calls) == 1  # never resent by itself


def test_the_lease_is_about_a_minute_and_outlasts_the_longest_live_call(settings):
    assert send_lease() == timedelta(seconds=60)
    connect, read = settings.INSTAGRAM_HTTP_TIMEOUT
    gate = pacing.GATE_TRIES * (pacing.GATE_MAX_WAIT + REDIS_TIMEOUT)
    assert send_lease().total_seconds() > gate + 2 * connect + 2 * read
    settings.INSTAGRAM_HTTP_TIMEOUT = (3.05, 40.0)  # an operator's slower gateway
    assert send_lease().total_seconds() > gate + 2 * 3.05 + 2 * 40.0


def test_the_next_reply_is_handed_over_when_the_stuck_one_turns_unknown(meta, convo, writer):
    answer_ok(meta, convo.account, mid="m_next")
    stuck = aged(
        reply(convo, writer), updated=2 * M, status="sending", sending_started_at=NOW - 2 * M
    )
    # Queued moments ago (so not yet one the sweep queues again): it waited for `stuck`.
    waiting = aged(reply(convo, writer), updated=timedelta(seconds=5))
    with time_machine.travel(NOW, tick=False):
        messages_sweep_task()
    stuck.refresh_from_db()
    assert stuck.status == Message.Status.UNKNOWN
    waiting.refresh_from_db()
    assert waiting.status == Message.Status.SENT
    assert waiting.mid == "m_next"
    assert len(meta.calls) == 1


def test_the_sweep_names_the_next_reply_of_a_thread_it_frees(convo, writer):
    aged(reply(convo, writer), updated=2 * M, status="sending", sending_started_at=NOW - 2 * M)
    waiting = aged(reply(convo, writer), updated=timedelta(seconds=5))
    with time_machine.travel(NOW, tick=False):
        assert messages_sweep() == [waiting.pk]
        assert messages_sweep() == []  # settled once


def test_a_reply_does_not_wait_behind_one_whose_lease_ran_out(meta, convo, writer):
    answer_ok(meta, convo.account)
    earlier = aged(
        reply(convo, writer), updated=2 * M, status="sending", sending_started_at=NOW - 2 * M
    )
    later = reply(convo, writer)
    with time_machine.travel(NOW, tick=False):
        message_send_task(later.pk)  # before any sweep has settled `earlier`
    later.refresh_from_db()
    earlier.refresh_from_db()
    assert later.status == Message.Status.SENT
    assert earlier.status == Message.Status.SENDING  # the sweep's to settle, not the send's


def test_a_reply_still_waits_behind_one_within_its_lease(meta, convo, writer):
    answer_ok(meta, convo.account)
    earlier = aged(
        reply(convo, writer),
        updated=LEASE / 2,
        status="sending",
        sending_started_at=NOW - LEASE / 2,
    )
    later = reply(convo, writer)
    with time_machine.travel(NOW, tick=False):
        message_send_task(later.pk)
    later.refresh_from_db()
    assert later.status == Message.Status.QUEUED  # order kept while the call may be live
    assert len(meta.calls) == 0
    assert earlier.pk < later.pk


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
