"""Refusals that mean more than one failed reply: the Human Agent tag the Meta app lacks, and
a thread another app controls. Meta faked at the HTTP layer with its own error answers."""

from datetime import timedelta

import pytest
import responses
import time_machine
from django.urls import reverse

from accounts.actions import account_human_agent_set
from accounts.models import InstagramAccount
from inbox.models import Message
from inbox.outbound.errors import HUMAN_AGENT_REFUSED, OTHER_APP_CONTROLS
from inbox.outbound.tasks import message_send_task
from tests.fixtures import meta_fixture

from .sendkit import T0, answer_error, answer_ok, bodies, reply, send_url

pytestmark = pytest.mark.django_db

LATE = T0 + timedelta(days=2)  # past 24 hours: the reply goes with the HUMAN_AGENT tag
EARLY = T0 + timedelta(hours=2)


def refuse_with(meta, account, fixture):
    meta.add(responses.POST, send_url(account), status=400, json=meta_fixture("graph", fixture))


def send_at(when, message, capture):
    with time_machine.travel(when, tick=False), capture(execute=True):
        message_send_task(message.pk)
    message.refresh_from_db()
    return message


@pytest.fixture
def mailed_admin(settings, admin_user):
    settings.ACCOUNTS_ALERT_EMAILS = True
    admin_user.email = "root@example.com"
    admin_user.save()
    return admin_user


# --- the Human Agent feature ----------------------------------------------------------
def test_a_refused_human_agent_tag_turns_the_switch_off_and_tells_everyone(
    meta, convo, writer, mailed_admin, mailoutbox, client, django_capture_on_commit_callbacks
):
    refuse_with(meta, convo.account, "error_human_agent")
    message = send_at(
        LATE, reply(convo, writer, text="Sorry for the wait"), django_capture_on_commit_callbacks
    )

    (body,) = bodies(meta)
    assert body["tag"] == "HUMAN_AGENT"
    # The agent sees why, and what an admin can do, on the failed reply.
    assert message.status == Message.Status.FAILED
    assert message.error_reason.startswith(HUMAN_AGENT_REFUSED)
    assert "App Review" in message.error_reason
    # The switch is off.
    account = InstagramAccount.objects.get(pk=convo.account.pk)
    assert account.human_agent_enabled is False
    assert account.human_agent_refused_at is not None
    # The admins get the email, once, with the way out and no token.
    [mail] = mailoutbox
    assert mail.to == ["root@example.com"]
    assert "refused the human agent tag" in mail.subject
    assert "App Review" in mail.body
    assert "http://testserver/accounts/" in mail.body
    assert account.access_token not in mail.body
    # And the banner.
    client.force_login(mailed_admin)
    with time_machine.travel(LATE + timedelta(minutes=5), tick=False):
        inbox = client.get("/").content.decode()
        thread = client.get(reverse("inbox:conversation_detail", args=[convo.pk])).content.decode()
    assert "lost its human agent tag" in inbox
    assert "Human agent setting" in inbox
    assert "App Review" in thread  # the failed reply's reason, in the thread


def test_the_next_late_reply_is_refused_here_without_calling_meta(
    meta, convo, writer, mailed_admin, mailoutbox, django_capture_on_commit_callbacks
):
    refuse_with(meta, convo.account, "error_human_agent")
    send_at(LATE, reply(convo, writer, text="First"), django_capture_on_commit_callbacks)
    second = send_at(LATE, reply(convo, writer, text="Second"), django_capture_on_commit_callbacks)
    assert len(meta.calls) == 1
    assert second.status == Message.Status.FAILED
    assert second.error_code == "window"
    assert len(mailoutbox) == 1  # one email for the switch, not one per reply


def test_a_permission_refusal_within_24_hours_leaves_the_switch_alone(
    meta, convo, writer, mailed_admin, mailoutbox, django_capture_on_commit_callbacks
):
    refuse_with(meta, convo.account, "error_human_agent")  # same answer, but no tag was sent
    message = send_at(EARLY, reply(convo, writer, text="Hi"), django_capture_on_commit_callbacks)
    assert "tag" not in bodies(meta)[0]
    assert message.status == Message.Status.FAILED
    assert HUMAN_AGENT_REFUSED not in message.error_reason
    assert InstagramAccount.objects.get(pk=convo.account.pk).human_agent_enabled is True
    assert mailoutbox == []


def test_a_closed_window_is_not_taken_for_a_missing_feature(
    meta, convo, writer, mailed_admin, django_capture_on_commit_callbacks
):
    answer_error(meta, convo.account, 400, code=10, subcode=2018278)
    message = send_at(LATE, reply(convo, writer, text="Hi"), django_capture_on_commit_callbacks)
    assert "reply window has ended" in message.error_reason
    assert InstagramAccount.objects.get(pk=convo.account.pk).human_agent_enabled is True


def test_turning_the_tag_back_on_ends_the_banner(
    meta, convo, writer, mailed_admin, client, django_capture_on_commit_callbacks
):
    refuse_with(meta, convo.account, "error_human_agent")
    send_at(LATE, reply(convo, writer, text="Hi"), django_capture_on_commit_callbacks)
    client.force_login(mailed_admin)
    with time_machine.travel(LATE + timedelta(minutes=5), tick=False):
        assert "lost its human agent tag" in client.get("/").content.decode()
        account_human_agent_set(account_id=convo.account.pk, enabled=True)
        assert "lost its human agent tag" not in client.get("/").content.decode()


# --- a thread another app controls -----------------------------------------------------
def test_a_reply_refused_while_another_app_controls_the_thread_says_so(
    meta, convo, writer, mailed_admin, mailoutbox, django_capture_on_commit_callbacks
):
    convo.other_app_since = T0
    convo.save()
    refuse_with(meta, convo.account, "error_human_agent")
    message = send_at(LATE, reply(convo, writer, text="Hi"), django_capture_on_commit_callbacks)
    assert message.status == Message.Status.FAILED
    assert message.error_reason.startswith(OTHER_APP_CONTROLS)
    assert "another app controls this conversation" in message.error_reason
    # Not the app's feature: the switch stays as it was.
    assert InstagramAccount.objects.get(pk=convo.account.pk).human_agent_enabled is True
    assert mailoutbox == []


def test_metas_own_words_about_thread_control_are_enough(
    meta, convo, writer, django_capture_on_commit_callbacks
):
    answer_error(meta, convo.account, 400, code=10, message="(#10) The app is not the thread owner")
    message = send_at(EARLY, reply(convo, writer, text="Hi"), django_capture_on_commit_callbacks)
    assert message.error_reason.startswith(OTHER_APP_CONTROLS)


def test_a_reply_meta_accepts_hands_the_thread_back(
    meta, convo, writer, django_capture_on_commit_callbacks
):
    convo.other_app_since = T0
    convo.save()
    answer_ok(meta, convo.account)
    send_at(EARLY, reply(convo, writer, text="Hi"), django_capture_on_commit_callbacks)
    convo.refresh_from_db()
    assert convo.other_app_since is None
