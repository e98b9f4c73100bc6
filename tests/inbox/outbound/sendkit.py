"""Shared pieces for the outbound send tests: a fake Meta at the `requests` layer, a fresh
rate limiter per test, a recorder of the retries a task schedules, and helpers to read what
was sent."""

import itertools
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
import responses

from inbox.outbound import ratelimit, schedule
from inbox.outbound.tasks import message_send_task
from tests.factories import AccountFactory, ConversationFactory, OutboundMessageFactory, UserFactory

T0 = datetime(2026, 11, 2, 12, 0, 0, tzinfo=UTC)  # the customer's last message (Meta's clock)


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch):
    """A new limiter, and with Redis keys of its own: a pause left by another test (or an
    earlier run whose account had the same primary key) must not hold this one back."""
    monkeypatch.setattr(ratelimit, "_limiter", None)
    monkeypatch.setattr(ratelimit, "KEY_PREFIX", f"inbox:ratelimit:test-{uuid.uuid4().hex}:")


@pytest.fixture
def wall_clock_limiter(monkeypatch, settings):
    """A local limiter on time.time, so time_machine moves its clock too."""
    limiter = ratelimit.LocalLimiter(clock=time.time)
    monkeypatch.setattr(ratelimit, "_limiter", limiter)
    monkeypatch.setattr(ratelimit, "_limiter_url", settings.REDIS_URL)
    return limiter


@pytest.fixture
def scheduled(monkeypatch):
    """Let the task schedule retries as it would on a real worker; record them."""
    calls = []
    monkeypatch.setattr(schedule, "_eager", lambda: False)
    monkeypatch.setattr(
        message_send_task,
        "apply_async",
        lambda args, kwargs=None, countdown=None: calls.append((args[0], countdown, kwargs)),
    )
    return calls


@pytest.fixture
def meta():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def writer(db):
    return UserFactory(username="writer")


@pytest.fixture
def convo(db):
    return ConversationFactory(
        account=AccountFactory(), last_customer_message_at=T0, last_message_at=T0
    )


def send_url(account):
    return f"{account.graph_api_url}/{account.ig_id}/messages"


def answer_ok(meta, account, mid=None, **kwargs):
    """Meta accepts the send. Without `mid`, every call gets its own: aWdfmid_1, _2..."""
    if mid is not None:
        meta.add(
            responses.POST,
            send_url(account),
            json={"recipient_id": "x", "message_id": mid},
            **kwargs,
        )
        return
    counter = itertools.count(1)

    def accept(request):
        answer = {"recipient_id": "x", "message_id": f"aWdfmid_{next(counter)}"}
        return (200, kwargs.get("headers") or {}, json.dumps(answer))

    meta.add_callback(responses.POST, send_url(account), callback=accept)


def answer_error(meta, account, status, code=None, subcode=None, headers=None, **extra):
    body = {"error": {"message": f"error {code}", "type": "OAuthException", "fbtrace_id": "t"}}
    if code is not None:
        body["error"]["code"] = code
    if subcode is not None:
        body["error"]["error_subcode"] = subcode
    body["error"].update(extra)
    meta.add(responses.POST, send_url(account), status=status, json=body, headers=headers)


def bodies(meta):
    return [json.loads(call.request.body) for call in meta.calls]


def reply(convo, writer, **kwargs):
    kwargs.setdefault("author", writer)
    return OutboundMessageFactory(conversation=convo, **kwargs)
