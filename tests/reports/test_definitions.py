"""Every definition of the reports, at fixed times: first response (an agent's reply Meta
accepted, an echo from the Instagram app, never a failed send), reopened conversations,
resolution, the reply window, time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from reports.forms import ReportScope
from reports.models import Episode, StatusChange
from reports.selectors import (
    percentile_cont,
    report_agents,
    report_times,
    report_volume,
    report_window,
)
from reports.services.summary import summaries_catch_up
from tests.factories import ConversationFactory

from .kit import agent_replies, app_echo, close, customer_writes, reopen, reply_fails

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def caught_up(at: datetime) -> list[Episode]:
    with time_machine.travel(at, tick=False):
        summaries_catch_up()
    return list(Episode.objects.order_by("started_at"))


def scope(since: date, until: date, tz: str = "UTC") -> ReportScope:
    return ReportScope(since=since, until=until, tz=ZoneInfo(tz))


@pytest.fixture
def conversation(account):
    return ConversationFactory(account=account)


def test_it_measures_from_the_customers_message_to_the_reply_meta_accepted(conversation, agent):
    customer_writes(conversation, T0)
    customer_writes(conversation, T0 + 2 * MIN)  # a second message: same request
    agent_replies(conversation, agent, written=T0 + 9 * MIN, accepted=T0 + 10 * MIN)

    [episode] = caught_up(T0 + HOUR)

    assert episode.started_at == T0
    assert episode.first_response_at == T0 + 10 * MIN
    assert episode.first_response_seconds == 600
    assert episode.responder == agent
    assert (episode.messages_in, episode.messages_out) == (2, 1)


def test_it_ignores_failed_and_unconfirmed_sends(conversation, agent):
    customer_writes(conversation, T0)
    reply_fails(conversation, agent, T0 + 5 * MIN)
    agent_replies(conversation, agent, written=T0 + 6 * MIN)  # queued, never accepted
    agent_replies(conversation, agent, written=T0 + 19 * MIN, accepted=T0 + 20 * MIN)

    [episode] = caught_up(T0 + HOUR)

    assert episode.first_response_seconds == 20 * 60
    assert episode.messages_out == 1


def test_it_counts_a_reply_sent_from_the_instagram_app(conversation, agent):
    customer_writes(conversation, T0)
    app_echo(conversation, T0 + 3 * MIN)
    agent_replies(conversation, agent, written=T0 + 4 * MIN, accepted=T0 + 4 * MIN)

    [episode] = caught_up(T0 + HOUR)

    assert episode.first_response_seconds == 180
    assert episode.responder is None
    assert episode.responder_origin == "business_app"
    [agent_row, app_row] = report_agents(scope(T0.date(), T0.date()))
    assert (app_row.name, app_row.first_responses, app_row.response_p50) == (
        "Instagram app",
        1,
        180.0,
    )
    assert (agent_row.name, agent_row.replies, agent_row.first_responses) == ("alice", 1, 0)


def test_a_reopened_conversation_measures_its_new_first_response_from_the_reopening_message(
    conversation, agent
):
    customer_writes(conversation, T0)
    agent_replies(conversation, agent, written=T0 + MIN, accepted=T0 + MIN)
    close(conversation, agent, T0 + 2 * HOUR)
    reopening = T0 + DAY
    customer_writes(conversation, reopening)  # reopens the conversation
    conversation.refresh_from_db()
    assert conversation.status == "open"
    agent_replies(conversation, agent, written=reopening + 30 * MIN, accepted=reopening + 30 * MIN)

    first, second = caught_up(reopening + HOUR)

    assert (first.first_response_seconds, first.closed_at) == (60, T0 + 2 * HOUR)
    assert first.resolution_seconds == 2 * 3600
    assert second.started_at == reopening
    assert second.first_response_seconds == 30 * 60
    assert second.closed_at is None
    assert StatusChange.objects.filter(conversation=conversation).count() == 1


def test_an_agent_reopening_without_a_new_message_continues_the_same_request(conversation, agent):
    customer_writes(conversation, T0)
    close(conversation, agent, T0 + HOUR)
    reopen(conversation, agent, T0 + 2 * HOUR)
    agent_replies(conversation, agent, written=T0 + 3 * HOUR, accepted=T0 + 3 * HOUR)
    close(conversation, agent, T0 + 4 * HOUR)

    [episode] = caught_up(T0 + 5 * HOUR)

    assert episode.first_response_seconds == 3 * 3600
    assert episode.resolution_seconds == 4 * 3600


def test_a_reply_before_the_customer_wrote_is_no_response(conversation, agent):
    agent_replies(conversation, agent, written=T0 - HOUR, accepted=T0 - HOUR)
    customer_writes(conversation, T0)

    [episode] = caught_up(T0 + HOUR)

    assert episode.first_response_at is None


def test_the_summary_catches_up_when_meta_accepts_a_reply_later(conversation, agent):
    customer_writes(conversation, T0)
    reply = agent_replies(conversation, agent, written=T0 + MIN)
    [episode] = caught_up(T0 + 2 * MIN)
    assert episode.first_response_at is None

    from inbox.models import Message
    from inbox.outbound.echoes import message_record_sent

    with time_machine.travel(T0 + 5 * MIN, tick=False):
        Message.objects.filter(pk=reply.pk).update(status=Message.Status.SENDING)
        message_record_sent(message=reply, mid="m-late")
    [episode] = caught_up(T0 + 6 * MIN)

    assert episode.first_response_seconds == 5 * 60


def test_it_reports_medians_percentiles_and_the_distribution(account, agent):
    for minutes in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10):
        conversation = ConversationFactory(account=account)
        customer_writes(conversation, T0)
        reply_at = T0 + minutes * MIN
        agent_replies(conversation, agent, written=reply_at, accepted=reply_at)
    caught_up(T0 + DAY)

    times = report_times(scope(T0.date(), T0.date()))

    assert (times.episodes, times.answered) == (10, 10)
    assert times.response_p50 == pytest.approx(330.0)  # 5.5 minutes
    assert times.response_p90 == pytest.approx(546.0)  # 9.1 minutes
    assert dict(times.distribution)["Under 5 min"] == 5
    assert dict(times.distribution)["5 to 15 min"] == 5


def test_percentiles_interpolate_like_postgresql():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7], 0.9) == 7
    assert percentile_cont([1, 2, 3, 4], 0.5) == 2.5
    assert percentile_cont([10, 20], 0.9) == pytest.approx(19.0)


def test_window_performance_sorts_requests_by_metas_rules(account, agent):
    answers = {"hour": 30 * MIN, "day": 5 * HOUR, "week": 3 * DAY}
    for delay in answers.values():
        conversation = ConversationFactory(account=account)
        customer_writes(conversation, T0)
        agent_replies(conversation, agent, written=T0 + delay, accepted=T0 + delay)
    customer_writes(ConversationFactory(account=account), T0)  # never answered
    now = T0 + 8 * DAY
    late = ConversationFactory(account=account)  # opened in range, still in its window
    customer_writes(late, T0 + 12 * HOUR)
    customer_writes(late, now - 23 * HOUR)  # wrote again: 1 hour of window left
    caught_up(now)

    window = report_window(scope(T0.date(), T0.date()), now=now)

    assert {key: count for key, _, count in window.rows} == {
        "hour": 1,
        "day": 1,
        "week": 1,
        "never": 1,
        "open": 1,
    }
    assert window.waiting_now == 1
    assert window.share(1) == 20.0


def test_waiting_now_leaves_out_customers_we_answered(conversation, agent):
    now = T0 + 2 * DAY
    customer_writes(conversation, now - 23 * HOUR)
    agent_replies(conversation, agent, written=now - 22 * HOUR - 30 * MIN, accepted=now - 22 * HOUR)
    caught_up(now)

    assert report_window(scope(T0.date(), now.date()), now=now).waiting_now == 0


def test_days_and_hours_follow_the_reports_time_zone(conversation, agent):
    # 03:30 UTC on 2 March is 22:30 on 1 March in New York (UTC-5).
    late_evening = datetime(2026, 3, 2, 3, 30, tzinfo=UTC)
    customer_writes(conversation, late_evening)
    agent_replies(conversation, agent, written=late_evening + MIN, accepted=late_evening + MIN)
    caught_up(late_evening + HOUR)

    new_york = scope(date(2026, 3, 1), date(2026, 3, 2), "America/New_York")
    volume = report_volume(new_york)
    assert volume.days == [(date(2026, 3, 1), 1, 1, 1), (date(2026, 3, 2), 0, 0, 0)]
    sunday = dict(volume.heat)["Sun"]  # 1 March 2026 is a Sunday
    assert sunday[22] == 1
    assert report_times(scope(date(2026, 3, 1), date(2026, 3, 1), "America/New_York")).episodes == 1
    assert report_times(scope(date(2026, 3, 1), date(2026, 3, 1))).episodes == 0  # UTC
    assert report_times(scope(date(2026, 3, 2), date(2026, 3, 2))).episodes == 1


def test_filters_keep_one_account_and_one_agents_conversations(account, agent):
    from tests.factories import AccountFactory

    mine = ConversationFactory(account=account, assignee=agent)
    other = ConversationFactory(account=AccountFactory())
    for conversation in (mine, other):
        customer_writes(conversation, T0)
    caught_up(T0 + HOUR)

    day = scope(T0.date(), T0.date())
    from dataclasses import replace

    assert report_times(day).episodes == 2
    assert report_times(replace(day, account=account)).episodes == 1
    assert report_times(replace(day, agent_id=agent.pk)).episodes == 1
    assert report_times(replace(day, account=other.account, agent_id=agent.pk)).episodes == 0


def test_the_minutely_catch_up_finds_a_change_that_committed_late(conversation, agent):
    from inbox.models import Message

    customer_writes(conversation, T0)
    reply = agent_replies(conversation, agent, written=T0 + MIN)
    caught_up(T0 + 2 * MIN)
    # Accepted by Meta, stamped a few seconds before the page's catch-up above, and
    # committed after it: the page's next catch-up cannot see it...
    Message.objects.filter(pk=reply.pk).update(
        status=Message.Status.SENT, sent_at=T0 + 2 * MIN, updated_at=T0 + 2 * MIN - 5 * SECOND
    )
    [episode] = caught_up(T0 + 3 * MIN)
    assert episode.first_response_at is None
    # ...the beat task's, which looks back, does.
    with time_machine.travel(T0 + 4 * MIN, tick=False):
        summaries_catch_up(settle=True)

    assert Episode.objects.get().first_response_seconds == 120


def test_the_rebuild_command_summarises_every_conversation(account, agent):
    from io import StringIO

    from django.core.management import call_command

    from common.queueing import task_named
    from reports.models import Activity

    for _ in range(3):
        conversation = ConversationFactory(account=account)
        customer_writes(conversation, T0)
        agent_replies(conversation, agent, written=T0 + MIN, accepted=T0 + MIN)
    out = StringIO()

    call_command("reports_rebuild", stdout=out)

    assert out.getvalue().startswith("3 conversations summarised")
    assert Episode.objects.filter(first_response_seconds=60).count() == 3
    assert sum(Activity.objects.values_list("messages_out", flat=True)) == 3
    # The beat schedule's task is registered under the name the schedule uses.
    assert task_named("reports.tasks.summaries_catch_up_task").name.endswith("catch_up_task")


def test_a_conversation_closed_before_closes_were_recorded_ends_at_its_last_update(
    conversation, agent
):
    from inbox.models import Conversation

    customer_writes(conversation, T0)
    agent_replies(conversation, agent, written=T0 + MIN, accepted=T0 + MIN)
    # Closed by an older version: the status alone, no record of when.
    Conversation.objects.filter(pk=conversation.pk).update(
        status="closed", updated_at=T0 + 3 * HOUR
    )
    [episode] = caught_up(T0 + DAY)
    assert episode.closed_at == T0 + 3 * HOUR
    assert episode.resolution_seconds == 3 * 3600

    customer_writes(conversation, T0 + 2 * DAY)  # the customer comes back: a new request
    first, second = caught_up(T0 + 3 * DAY)
    assert first.closed_at == T0 + 3 * HOUR
    assert (second.started_at, second.closed_at) == (T0 + 2 * DAY, None)


def test_hour_totals_stay_the_sum_of_every_conversations_activity(account, agent):
    from dataclasses import replace

    from django.db.models import Sum

    from reports.models import Activity, HourTotal

    def totals(model):
        rows = model.objects.values_list("account_id", "hour").annotate(
            Sum("messages_in"), Sum("messages_out"), Sum("episodes_opened")
        )
        return {(a, h): (i, o, e) for a, h, i, o, e in rows if i or o or e}

    first = ConversationFactory(account=account, assignee=agent)
    customer_writes(first, T0)
    caught_up(T0 + MIN)
    customer_writes(first, T0 + 2 * MIN)
    agent_replies(first, agent, written=T0 + 3 * MIN, accepted=T0 + 3 * MIN)
    second = ConversationFactory(account=account)
    customer_writes(second, T0 + HOUR)
    close(first, agent, T0 + 2 * HOUR)
    customer_writes(first, T0 + 3 * HOUR)  # reopened: a second request
    caught_up(T0 + 4 * HOUR)

    assert totals(HourTotal) == totals(Activity)
    assert totals(HourTotal) == {
        (account.pk, T0): (2, 1, 1),
        (account.pk, T0 + HOUR): (1, 0, 1),
        (account.pk, T0 + 3 * HOUR): (1, 0, 1),
    }
    day = scope(T0.date(), T0.date())
    assert report_volume(day).days == [(T0.date(), 3, 4, 1)]  # from the totals
    mine = report_volume(replace(day, agent_id=agent.pk))  # from the conversations
    assert mine.days == [(T0.date(), 2, 3, 1)]


def test_deleting_a_conversation_takes_its_messages_out_of_the_totals(account, agent):
    from reports.models import HourTotal

    kept, deleted = ConversationFactory(account=account), ConversationFactory(account=account)
    customer_writes(kept, T0)
    customer_writes(deleted, T0 + MIN)
    caught_up(T0 + HOUR)
    assert HourTotal.objects.get().messages_in == 2

    deleted.delete()

    assert HourTotal.objects.get().messages_in == 1
    assert report_volume(scope(T0.date(), T0.date())).days == [(T0.date(), 1, 1, 0)]
