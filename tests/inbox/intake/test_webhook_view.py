"""The webhook endpoint's contract: handshake, signatures, durable storage, status codes."""

import hashlib
import json
import logging

import pytest
from django.db import DataError, OperationalError, connection
from django.http import HttpResponse
from django.urls import set_script_prefix

from inbox.middleware import WebhookFirstMiddleware
from inbox.models import Message, WebhookEvent
from instagram.signature import sign
from tests.factories import AccountFactory
from tests.webhooks import IG_ID, OTHER_IG_ID, WEBHOOK_URL, post_signed, webhook_fixture

pytestmark = pytest.mark.django_db


# --- handshake -------------------------------------------------------------------------
def test_it_answers_the_handshake_with_the_bare_challenge(client):
    response = client.get(
        WEBHOOK_URL,
        {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1158"},
    )
    assert response.status_code == 200
    assert response.content == b"1158"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1"},
        {"hub.challenge": "1"},
        {},
    ],
)
def test_it_refuses_a_wrong_handshake(client, params):
    assert client.get(WEBHOOK_URL, params).status_code == 403


def test_it_refuses_every_handshake_without_a_verify_token_configured(client, settings):
    settings.INSTAGRAM_WEBHOOK_VERIFY_TOKEN = ""
    params = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    assert client.get(WEBHOOK_URL, params).status_code == 403


def test_it_needs_no_login_and_no_csrf_token(client):
    client.handler.enforce_csrf_checks = True
    response = post_signed(client, webhook_fixture("message_text"))
    assert response.status_code == 200


def test_other_methods_are_refused(client):
    assert client.put(WEBHOOK_URL, b"{}").status_code == 405


# --- ahead of the browser middleware ---------------------------------------------------
def test_it_skips_the_browser_middleware_and_keeps_the_security_headers(client):
    client.cookies["sessionid"] = "a-browser-session"
    response = post_signed(client, webhook_fixture("message_text"))
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(response.content))  # sent whole, no chunks
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Cookie" not in response.get("Vary", "")  # no session was looked at
    assert "X-Frame-Options" not in response  # a browser page's header; Meta reads none
    assert not response.cookies


def test_the_handshake_skips_them_too(client):
    params = {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token"}
    response = client.get(WEBHOOK_URL, {**params, "hub.challenge": "7"})
    assert response.content == b"7"
    assert response["Content-Length"] == "1"
    assert "X-Frame-Options" not in response


def test_a_host_outside_allowed_hosts_is_refused_and_nothing_is_stored(client):
    response = post_signed(client, webhook_fixture("message_text"), HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_below_the_root_it_still_knows_the_webhook_path():
    set_script_prefix("/support/")  # what a site served at /support/ has while it starts
    try:
        middleware = WebhookFirstMiddleware(lambda request: HttpResponse())
    finally:
        set_script_prefix("/")
    assert middleware.path == WEBHOOK_URL  # as `request.path_info` has it there


def test_every_other_path_goes_through_the_whole_stack(client):
    response = client.get("/")
    assert response.status_code == 302  # LoginRequiredMiddleware
    assert response["X-Frame-Options"] == "DENY"


# --- authenticity ----------------------------------------------------------------------
def body_of(name="message_text"):
    return json.dumps(webhook_fixture(name)).encode()


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (None, "missing"),
        ("", "missing"),
        ("sha1=abc", "malformed"),
        ("sha256=nothex", "malformed"),
        ("sha256=" + "é" * 64, "malformed"),  # a non-ASCII header once answered 500
        ("sha256=" + "0" * 64, "wrong"),
    ],
)
def test_a_bad_signature_is_refused_and_nothing_is_stored(client, caplog, header, problem):
    body = body_of()
    extra = {} if header is None else {"HTTP_X_HUB_SIGNATURE_256": header}
    with caplog.at_level(logging.WARNING, logger="inbox.webhooks"):
        response = client.post(WEBHOOK_URL, data=body, content_type="application/json", **extra)
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    lines = [r.getMessage() for r in caplog.records if r.name == "inbox.webhooks"]
    assert len(lines) == 1
    assert problem in lines[0]
    assert "blue jacket" not in lines[0]


def test_a_body_signed_with_another_secret_is_refused(client):
    response = post_signed(client, body_of(), secret="not-our-secret")
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_a_signature_of_another_body_is_refused(client):
    body = body_of()
    forged = body.replace(b"blue", b"red!")
    response = client.post(
        WEBHOOK_URL,
        data=forged,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(body, "test-app-secret"),
    )
    assert response.status_code == 403


def test_the_raw_bytes_are_signed_not_a_reserialisation(client):
    body = b'{ "object" : "instagram",  "entry" : [] }'
    assert post_signed(client, body).status_code == 200
    assert WebhookEvent.objects.get().body == body.decode()


def test_the_meta_app_secret_also_signs(client, settings):
    settings.META_APP_SECRET = "parent-meta-app-secret"
    assert post_signed(client, body_of(), secret="parent-meta-app-secret").status_code == 200
    assert post_signed(client, body_of("message_echo")).status_code == 200
    assert WebhookEvent.objects.count() == 2


def test_the_meta_app_secret_alone_is_enough(client, settings):
    settings.INSTAGRAM_CLIENT_SECRET = ""
    settings.META_APP_SECRET = "parent-meta-app-secret"
    assert post_signed(client, body_of(), secret="parent-meta-app-secret").status_code == 200
    assert post_signed(client, body_of("message_echo"), secret="").status_code == 403


def test_without_any_secret_configured_everything_is_refused(client, settings, caplog):
    settings.INSTAGRAM_CLIENT_SECRET = ""
    settings.META_APP_SECRET = ""
    with caplog.at_level(logging.ERROR, logger="inbox.webhooks"):
        response = post_signed(client, body_of(), secret="")
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    assert "no app secret configured" in caplog.text


# --- storage ---------------------------------------------------------------------------
def test_an_authentic_event_is_stored_before_the_answer(client):
    body = body_of("batch_multi_account")
    response = post_signed(client, body)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.body == body.decode()
    assert event.body_sha256 == hashlib.sha256(body).hexdigest()
    assert event.object_type == "instagram"
    assert event.account_ids == [IG_ID, OTHER_IG_ID]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{", b"\xff\xfe{}", b'{"a": 1}{"b": 2}', b"[" * 100_000 + b"]" * 100_000],
)
def test_an_authentic_body_that_is_not_json_is_a_bad_request(client, body):
    response = post_signed(client, body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"[]", b"42", b'"text"', b"{}", b'{"object": "page", "entry": "odd"}', b"null"],
)
def test_authentic_json_of_an_unknown_shape_is_stored_and_accepted(deliver, body):
    assert deliver(body).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PROCESSED
    assert event.account_ids == []


def test_an_unknown_event_kind_is_stored_logged_and_accepted(deliver, caplog):
    AccountFactory(ig_id=IG_ID)
    with caplog.at_level(logging.INFO, logger="inbox.intake.process"):
        assert deliver(webhook_fixture("unknown_kind")).status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    assert "unknown messaging kind" in caplog.text
    assert not Message.objects.exists()


def test_a_byte_identical_redelivery_adds_no_row_and_is_accepted(deliver, fake_meta):
    AccountFactory(ig_id=IG_ID)
    body = body_of()
    assert deliver(body).status_code == 200
    assert deliver(body).status_code == 200
    assert WebhookEvent.objects.count() == 1
    assert Message.objects.count() == 1


def test_a_database_outage_answers_503_so_meta_retries(client, caplog):
    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection to server at 127.0.0.1 failed")

    with connection.execute_wrapper(refuse), caplog.at_level(logging.ERROR):
        response = post_signed(client, body_of())
    assert response.status_code == 503
    assert "blue jacket" not in caplog.text
    assert not WebhookEvent.objects.exists()


def test_a_body_the_database_refuses_even_escaped_answers_400_not_503(client, monkeypatch):
    """Only an outage answers 503: Meta would deliver this body again forever."""
    from inbox.intake import ledger

    def refuse(rows):
        raise DataError("invalid input syntax")

    monkeypatch.setattr(ledger, "_insert", refuse)
    response = post_signed(client, body_of())
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_an_oversized_body_is_refused_with_a_4xx(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_signed(client, {"object": "instagram", "entry": [], "pad": "x" * 2000})
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_a_redelivery_outside_any_transaction_is_accepted_too(client):
    """As in production: autocommit, the unique hash refuses the second row."""
    body = body_of()
    assert post_signed(client, body).status_code == 200
    assert post_signed(client, body).status_code == 200
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("object_type", ["instagram\ud800", "insta\u0000gram", 7, None])
def test_an_object_no_database_stores_as_is_is_stored_cleaned_and_accepted(
    deliver, fake_meta, object_type
):
    """JSON can carry NUL and lone surrogates; the ledger's column cannot. Such a body once
    failed the shared insert, with the innocent webhooks beside it."""
    AccountFactory(ig_id=IG_ID)
    payload = {**webhook_fixture("message_text"), "object": object_type}
    body = json.dumps(payload).encode()  # ASCII escapes: valid UTF-8 JSON
    assert deliver(body).status_code == 200
    event = WebhookEvent.objects.get()
    assert "\x00" not in event.object_type
    event.object_type.encode("utf-8")  # storable as UTF-8
    assert Message.objects.count() == 1


@pytest.mark.parametrize(("depth", "status"), [(64, 200), (65, 400), (900, 400)])
def test_absurdly_nested_bodies_are_refused_with_400(deliver, fake_meta, depth, status):
    """Meta's payloads nest about ten deep; a body 900 deep was once stored and then broke
    its admin page."""
    AccountFactory(ig_id=IG_ID)
    payload = webhook_fixture("message_text")
    nested: object = "deep"
    for _ in range(depth - 3):  # the payload, `entry` and its item are the first three
        nested = [nested]
    payload["entry"][0]["extra"] = nested
    response = deliver(json.dumps(payload).encode())
    assert response.status_code == status
    assert WebhookEvent.objects.exists() == (status == 200)


def test_a_wide_body_is_not_taken_for_a_deep_one(deliver, fake_meta):
    AccountFactory(ig_id=IG_ID)
    payload = webhook_fixture("message_text")
    payload["entry"][0]["extra"] = [{"k": [i]} for i in range(500)]
    assert deliver(json.dumps(payload).encode()).status_code == 200


def test_the_admin_page_of_a_deep_event_stored_before_the_limit_renders(admin_client):
    from tests.webhooks import stored_event

    deep: object = 1
    for _ in range(900):
        deep = [deep]
    event = stored_event({"object": "instagram", "entry": deep})
    response = admin_client.get(f"/admin/inbox/webhookevent/{event.pk}/change/")
    assert response.status_code == 200
