"""The one way to queue a task: by name, never raising for the broker."""

import pytest
from kombu.exceptions import OperationalError

from common import queueing
from inbox.tasks import conversation_profile_fetch_task


@pytest.fixture(autouse=True)
def _no_pause():
    queueing.task_queue_pause_reset()
    yield
    queueing.task_queue_pause_reset()


def test_a_name_no_app_registers_is_a_bug_and_says_so():
    with pytest.raises(KeyError):
        queueing.task_queue("inbox.tasks.no_such_task", 1)


def test_a_broker_outage_is_logged_swallowed_and_pauses_this_process(monkeypatch, caplog):
    calls = []

    def down(args, kwargs=None, **options):
        calls.append(args)
        raise OperationalError("Error 111 connecting to broker")

    monkeypatch.setattr(conversation_profile_fetch_task, "apply_async", down)
    # The app reads Django settings under the CELERY_ namespace: override that name.
    monkeypatch.setitem(conversation_profile_fetch_task.app.conf, "CELERY_TASK_ALWAYS_EAGER", False)
    name = conversation_profile_fetch_task.name
    assert queueing.task_queue(name, 7) is False
    assert "could not publish inbox.tasks.conversation_profile_fetch_task(7,)" in caplog.text
    # The next ones within the pause do not even try: a burst does not wait on a dead broker.
    assert queueing.task_queue(name, 8) is False
    assert calls == [(7,)]


def test_a_countdown_and_keyword_arguments_reach_the_broker(monkeypatch):
    sent = []
    monkeypatch.setattr(
        conversation_profile_fetch_task,
        "apply_async",
        lambda args, kwargs=None, **options: sent.append((args, kwargs, options)),
    )
    name = conversation_profile_fetch_task.name
    assert queueing.task_queue(name, 7) is True
    assert queueing.task_queue(name, 8, kwargs={"x": 1}, countdown=0.0) is True
    assert sent == [((7,), None, {}), ((8,), {"x": 1}, {"countdown": 0.0})]
