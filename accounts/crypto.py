"""Tokens at rest: MultiFernet with keys from TOKEN_ENCRYPTION_KEYS (newest first)."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as e:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from e


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt_token(token: str) -> str:
    return fernet().encrypt(token.encode()).decode() if token else ""


def decrypt_token(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored token cannot be decrypted with TOKEN_ENCRYPTION_KEYS: "
            "keep the old key in the list until `manage.py rotate_token_keys` has run."
        ) from None


def rotate_ciphertext(ciphertext: str) -> str:
    """Re-encrypt under the newest key."""
    return fernet().rotate(ciphertext.encode()).decode() if ciphertext else ""
