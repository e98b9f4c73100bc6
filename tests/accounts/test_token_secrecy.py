"""Tokens at rest are encrypted, rotate under new keys, and never show up in a log line, a
page, an exception's text or the command's output."""

import logging
import traceback
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.crypto import decrypt_token
from accounts.models import InstagramAccount
from accounts.refresh import tokens_refresh
from tests.factories import AccountFactory, ConversationFactory, UserFactory

from .fakes import (
    GRAPH,
    GRAPH_ROOT,
    LONG_TOKEN,
    REFRESHED_TOKEN,
    SHORT_TOKEN,
    callback,
    meta_connect,
    payload,
    start_connect,
)

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CODE = "AQDsecretAuthorizationCode0123456789"
SECRETS = [SHORT_TOKEN, LONG_TOKEN, REFRESHED_TOKEN, CODE, "test-app-secret"]


def database_dump(account) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_instagramaccount WHERE id = %s", [account.pk])
        return " ".join(str(value) for value in cursor.fetchone())


@pytest.fixture
def raw_logs(caplog):
    """Every record at DEBUG and up, as our code wrote it: captured ahead of the console
    handler, whose redaction filter would otherwise hide a leak from caplog."""
    caplog.set_level(logging.DEBUG)
    lines: list[str] = []

    class Raw(logging.Handler):
        def emit(self, record):
            lines.extend([record.getMessage(), repr(record.args)])
            if record.exc_info:
                lines.append("".join(traceback.format_exception(*record.exc_info)))

    root = logging.getLogger()
    handler = Raw(level=logging.DEBUG)
    root.handlers.insert(0, handler)
    yield lines
    root.removeHandler(handler)


def test_no_secret_reaches_a_log_line_over_a_full_round_trip(admin_client, meta, raw_logs):
    with time_machine.travel(T0, tick=False) as traveller:
        # A failed connect, a connect, a refresh, a dead token, a disconnect.
        meta.get(f"{GRAPH_ROOT}/access_token", status=500, json=payload("error_transient"))
        meta_connect(meta)
        callback(admin_client, code=CODE, state=start_connect(admin_client))
        callback(admin_client, code=f"{CODE}#_", state=start_connect(admin_client))
        account = InstagramAccount.objects.get()
        assert account.access_token == LONG_TOKEN

        traveller.move_to(T0 + timedelta(days=31))
        meta.get(f"{GRAPH_ROOT}/refresh_access_token", json=payload("refresh"))
        meta.get(f"{GRAPH_ROOT}/refresh_access_token", status=400, json=payload("error_190"))
        call_command("refresh_tokens", stdout=StringIO())
        account.refresh_from_db()
        assert account.access_token == REFRESHED_TOKEN

        traveller.move_to(T0 + timedelta(days=62))
        with pytest.raises(CommandError):
            call_command("refresh_tokens", stdout=StringIO())
        meta.delete(f"{GRAPH}/me/subscribed_apps", status=400, json=payload("error_190"))
        admin_client.post(f"/accounts/{account.pk}/disconnect/")

    text = "\n".join(raw_logs)
    assert "connect failed at long_lived_token" in text  # the round trip did log
    assert "needs reconnect" in text
    for secret in SECRETS:
        assert secret not in text


def test_no_plaintext_token_in_the_database_after_connect_and_refresh(admin_client, meta):
    with time_machine.travel(T0, tick=False) as traveller:
        meta_connect(meta)
        callback(admin_client, code=CODE, state=start_connect(admin_client))
        account = InstagramAccount.objects.get()
        assert LONG_TOKEN not in database_dump(account)
        traveller.move_to(T0 + timedelta(days=31))
        meta.get(f"{GRAPH_ROOT}/refresh_access_token", json=payload("refresh"))
        tokens_refresh()
    dump = database_dump(account)
    assert REFRESHED_TOKEN not in dump
    assert LONG_TOKEN not in dump
    account.refresh_from_db()
    assert account.access_token == REFRESHED_TOKEN


def test_no_token_on_any_page(client, admin_user, meta):
    token = "IGAApageSecretToken4242424242424242424242"
    account = AccountFactory(access_token=token, members=[UserFactory(username="alice")])
    broken = AccountFactory(
        access_token="IGAAbrokenSecretToken99999999999999999",
        status=InstagramAccount.Status.NEEDS_RECONNECT,
        status_reason="Token invalidated (190)",
    )
    conversation = ConversationFactory(account=account)
    client.force_login(admin_user)
    pages = [
        "/",
        "/accounts/",
        f"/accounts/{account.pk}/members/",
        f"/accounts/{account.pk}/disconnect/",
        "/accounts/instagram/callback/?state=forged&code=x",
        "/accounts/999/members/",
        "/admin/accounts/instagramaccount/",
        f"/admin/accounts/instagramaccount/{account.pk}/change/",
        f"/admin/inbox/conversation/{conversation.pk}/change/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 400, 404), path
        html = response.content.decode()
        for secret in (token, broken.access_token):
            assert secret not in html, path
        assert account.token_ciphertext not in html, path


def test_metas_words_are_redacted_if_they_ever_echo_a_token(admin_client, meta):
    echo = {"error": {"message": f"Cannot parse access token {LONG_TOKEN}", "code": 190}}
    meta.get(f"{GRAPH}/me", status=400, json=echo)
    meta_connect(meta)
    response = callback(admin_client, code=CODE, state=start_connect(admin_client), follow=True)
    html = response.content.decode()
    assert "reading the account&#x27;s profile" in html
    assert LONG_TOKEN not in html


# --- key rotation -----------------------------------------------------------------------
def test_it_rotates_every_token_under_the_newest_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    accounts = [
        AccountFactory(access_token=f"IGAArotateToken{n}xxxxxxxxxxxxxxxxxxxx") for n in range(3)
    ]
    AccountFactory(access_token="", status=InstagramAccount.Status.DISCONNECTED)

    settings.TOKEN_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("rotate_token_keys", stdout=out)
    assert "Re-encrypted 3 token(s)" in out.getvalue()

    settings.TOKEN_ENCRYPTION_KEYS = [new]  # the old key can now be dropped
    for n, account in enumerate(accounts):
        account.refresh_from_db()
        assert account.access_token == f"IGAArotateToken{n}xxxxxxxxxxxxxxxxxxxx"
        assert Fernet(new.encode()).decrypt(account.token_ciphertext.encode())


def test_rotation_names_accounts_no_key_can_read_and_rotates_the_rest(settings):
    lost, old, new = (Fernet.generate_key().decode() for _ in range(3))
    settings.TOKEN_ENCRYPTION_KEYS = [lost]
    unreadable = AccountFactory(ig_id="17841400000000666")
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    fine = AccountFactory(access_token="IGAAfineToken000000000000000000000000")
    settings.TOKEN_ENCRYPTION_KEYS = [new, old]
    with pytest.raises(CommandError, match="17841400000000666") as failure:
        call_command("rotate_token_keys", stdout=StringIO())
    assert failure.value.returncode == 1
    settings.TOKEN_ENCRYPTION_KEYS = [new]
    fine.refresh_from_db()
    assert decrypt_token(fine.token_ciphertext) == "IGAAfineToken000000000000000000000000"
    unreadable_before = unreadable.token_ciphertext
    unreadable.refresh_from_db()
    assert unreadable.token_ciphertext == unreadable_before


def test_rotation_is_idempotent(settings):
    account = AccountFactory(access_token="IGAAtwiceToken00000000000000000000000")
    call_command("rotate_token_keys", stdout=StringIO())
    call_command("rotate_token_keys", stdout=StringIO())
    account.refresh_from_db()
    assert account.access_token == "IGAAtwiceToken00000000000000000000000"
