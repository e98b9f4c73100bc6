"""The one way to queue a task: by name, never raising for the broker."""

import logging
from types import SimpleNamespace

import pytest
from kombu.exceptions import OperationalError

from common import queueing

NAME = "inbox.tasks.conversation_profile_fetch_task"


class Task:
    """A task as the broker sees it: what `apply_async` was handed, or the broker's error."""

    def __init__(self, *, eager=False, error=None):
        self.app = SimpleNamespace(conf=SimpleNamespace(task_always_eager=eager))
        self.error = error
        self.sent = []

    def apply_async(self, args, kwargs=None, **options):
        self.sent.append((args, kwargs, options))
        if self.error is not None:
            raise self.error


@pytest.fixture(autouse=True)
def _no_pause(caplog):
    queueing.task_queue_pause_reset()
    caplog.set_level(logging.WARNING, logger=queueing.logger.name)  # these tests read its lines
    yield
    queueing.task_queue_pause_reset()


def use(monkeypatch, task):
    monkeypatch.setattr(queueing, "task_named", lambda name: task)
    return task


def test_a_name_no_app_registers_is_a_bug_and_says_so():
    with pytest.raises(KeyError):
        queueing.task_queue("inbox.tasks.no_such_task", 1)


def test_every_task_the_product_queues_by_name_is_registered():
    from accounts.meta import RECONNECT_ALERT_TASK
    from inbox.intake.publish import PROCESS_TASK
    from inbox.outbound.schedule import REACTION_TASK, SEND_TASK

    for name in (RECONNECT_ALERT_TASK, PROCESS_TASK, SEND_TASK, REACTION_TASK, NAME):
        assert queueing.task_named(name).name == name


def test_a_broker_outage_is_logged_swallowed_and_pauses_this_process(monkeypatch, caplog):
    task = use(monkeypatch, Task(error=OperationalError("Error 111 connecting to broker")))
    assert queueing.task_queue(NAME, 7) is False
    assert f"could not publish {NAME}(7,)" in caplog.text
    # The next ones within the pause do not even try: a burst does not wait on a dead broker.
    assert queueing.task_queue(NAME, 8) is False
    assert [args for args, _, _ in task.sent] == [(7,)]
    queueing.task_queue_pause_reset()  # the broker is back
    task.error = None
    assert queueing.task_queue(NAME, 9) is True


def test_a_task_that_fails_inline_is_logged_not_raised(monkeypatch, caplog):
    use(monkeypatch, Task(eager=True, error=ValueError("a bug in the task")))
    assert queueing.task_queue(NAME, 7) is False
    assert f"task {NAME}(7,) failed: ValueError" in caplog.text
    assert not queueing.task_queue_paused(NAME)  # inline failures are not the broker's


def test_a_countdown_and_keyword_arguments_reach_the_broker(monkeypatch):
    task = use(monkeypatch, Task())
    assert queueing.task_queue(NAME, 7) is True
    assert queueing.task_queue(NAME, 8, kwargs={"x": 1}, countdown=0.0) is True
    assert task.sent == [((7,), None, {}), ((8,), {"x": 1}, {"countdown": 0.0})]
