"""Tokens at rest are encrypted; keys rotate."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from accounts.crypto import encrypt_token
from accounts.models import InstagramAccount
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

TOKEN = "IGAAsuperSecretTokenValue1234567890"


def test_it_round_trips_a_token():
    account = AccountFactory(access_token=TOKEN)
    assert InstagramAccount.objects.get(pk=account.pk).access_token == TOKEN


def test_it_stores_no_plaintext_in_the_database():
    account = AccountFactory(access_token=TOKEN)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_instagramaccount WHERE id = %s", [account.pk])
        row = cursor.fetchone()
    assert TOKEN not in " ".join(str(value) for value in row)
    assert account.token_ciphertext
    assert TOKEN not in account.token_ciphertext


def test_it_reads_tokens_written_under_an_older_key(settings):
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [old_key]
    account = AccountFactory(access_token=TOKEN)
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, old_key]
    assert InstagramAccount.objects.get(pk=account.pk).access_token == TOKEN


def test_it_says_which_setting_to_fix_when_no_key_fits(settings):
    account = AccountFactory(access_token=TOKEN)
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="TOKEN_ENCRYPTION_KEYS"):
        InstagramAccount.objects.get(pk=account.pk).access_token


def test_it_encrypts_the_same_token_differently_each_time():
    assert encrypt_token(TOKEN) != encrypt_token(TOKEN)
