"""Key rotation for tokens at rest (the `rotate_token_keys` command's service)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken

from .crypto import rotate_ciphertext
from .models import InstagramAccount


@dataclass
class RotationResult:
    rotated: int = 0
    # Accounts whose token no configured key can read (ids, never tokens).
    unreadable: list[str] = field(default_factory=list)


def token_keys_rotate() -> RotationResult:
    """Re-encrypt every stored token under the newest key in TOKEN_ENCRYPTION_KEYS, after
    which older keys can be removed from the list."""
    result = RotationResult()
    rows = InstagramAccount.objects.exclude(token_ciphertext="").values_list(
        "pk", "ig_id", "token_ciphertext"
    )
    for pk, ig_id, ciphertext in rows.iterator():
        try:
            rotated = rotate_ciphertext(ciphertext)
        except InvalidToken:
            result.unreadable.append(ig_id)
            continue
        # Only if the token did not change meanwhile (a refresh or reconnect wins).
        result.rotated += InstagramAccount.objects.filter(
            pk=pk, token_ciphertext=ciphertext
        ).update(token_ciphertext=rotated)
    return result
